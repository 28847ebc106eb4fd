//! Create and update: the desired graph applied (or the resource's release
//! step run) within the `timeouts` deadline.

use tf_provider::Diagnostics;

use super::graph_resource::{GraphResource, ReleaseRun};
use super::observations::stale_ids;
use super::problems::{report_failures, report_problems};
use super::versions::{recorded_versions, with_versions};
use super::{set_computed, stamped, Driver};
use crate::engine::Resolved;
use crate::resources::context::Configured;
use crate::resources::lifecycle::{self, Operation};
use crate::resources::ownership;
use crate::tf::value::Value;

impl<R: GraphResource> Driver<R> {
    pub(super) async fn do_create(
        &self,
        diags: &mut Diagnostics,
        planned: Value,
        private: Value,
    ) -> Option<(Value, Value)> {
        let configured = with_recorded_versions(&*self.context.get(diags)?, &private);
        report_problems(diags, self.check_before_apply(&planned))?;
        let settings = self.settings(diags, &planned, &configured)?;
        let id = self.resource.id(&settings);
        let context = self.found_context(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let desired = stamped(self.resource.expand(&settings, &context), Some(&token));
        let released = self
            .release_or_apply(
                &configured,
                &settings,
                &context,
                self.timeout(&planned, Operation::Create),
                &desired,
                &[],
                ReleaseRun {
                    recorded: Resolved::new(),
                    prior: None,
                    planned: &planned,
                    token: &token,
                },
            )
            .await;
        let mut outcome = released.outcome;
        ownership::record_own_objects_after_failure(
            &configured.clients,
            &desired.components,
            &mut outcome,
            &token,
        )
        .await;
        if ownership::undo_refused_create(
            diags,
            R::TYPE,
            &configured.clients,
            &desired.components,
            &mut outcome,
            self.timeout(&planned, Operation::Delete),
        )
        .await
        {
            return None;
        }
        report_failures(diags, R::TYPE, &id, "creating", &outcome);
        for (summary, detail) in &released.errors {
            crate::tf::diagnostics::error(diags, summary.clone(), detail.clone());
        }
        let mut state = self.applied_state(planned, &settings, &context, &outcome);
        set_computed(&mut state, &released.computed);
        self.resource
            .computed_from_aws(&configured, &mut state)
            .await;
        if outcome.is_ok() && released.errors.is_empty() {
            self.resource.applied(&configured, &state);
        }
        let private = ownership::with_token(Value::Null, &token);
        let private = with_versions(
            private,
            &configured.clients,
            &lifecycle::recorded_components(&state),
        );
        Some((state, private))
    }

    pub(super) async fn do_update(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        planned: Value,
        private: Value,
    ) -> Option<(Value, Value)> {
        let configured = with_recorded_versions(&*self.context.get(diags)?, &private);
        report_problems(diags, self.check_before_apply(&planned))?;
        let mut prior = prior;
        self.resource.upgrade(&mut prior);
        let settings = self.settings(diags, &planned, &configured)?;
        let prior_settings = self.settings(diags, &prior, &configured)?;
        let id = self.resource.id(&settings);
        let context = self.found_context(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let desired = stamped(self.resource.expand(&settings, &context), Some(&token));
        let previous = stamped(
            self.resource.expand(&prior_settings, &context),
            Some(&token),
        );
        let mut recorded = stale_ids(&private);
        recorded.extend(lifecycle::recorded_components(&prior));
        let released = self
            .release_or_apply(
                &configured,
                &settings,
                &context,
                self.timeout(&planned, Operation::Update),
                &desired,
                &previous.components,
                ReleaseRun {
                    recorded,
                    prior: Some(&prior),
                    planned: &planned,
                    token: &token,
                },
            )
            .await;
        let mut outcome = released.outcome;
        ownership::record_own_objects_after_failure(
            &configured.clients,
            &desired.components,
            &mut outcome,
            &token,
        )
        .await;
        report_failures(diags, R::TYPE, &id, "updating", &outcome);
        for (summary, detail) in &released.errors {
            crate::tf::diagnostics::error(diags, summary.clone(), detail.clone());
        }
        let mut state = self.applied_state(planned, &settings, &context, &outcome);
        set_computed(&mut state, &released.computed);
        self.resource
            .computed_from_aws(&configured, &mut state)
            .await;
        if outcome.is_ok() && released.errors.is_empty() {
            self.resource.applied(&configured, &state);
        }
        let private = ownership::with_token(Value::Null, &token);
        let private = with_versions(
            private,
            &configured.clients,
            &lifecycle::recorded_components(&state),
        );
        Some((state, private))
    }
}

/// `configured` with the versions `private` recorded: what the apply does
/// not touch keeps its version, what it writes notes its own.
fn with_recorded_versions(configured: &Configured, private: &Value) -> Configured {
    let mut configured = configured.with_default_tags(configured.default_tags.clone());
    configured.clients = configured.clients.with_versions(recorded_versions(private));
    configured
}
