//! Create and update: the desired graph applied within the `timeouts`
//! deadline.

use tf_provider::Diagnostics;

use super::graph_resource::GraphResource;
use super::observations::stale_ids;
use super::problems::{report_failures, report_problems};
use super::{stamped, Driver};
use crate::engine::Resolved;
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
        let configured = self.context.get(diags)?;
        report_problems(diags, self.check_before_apply(&planned))?;
        let settings = self.settings(diags, &planned, &configured)?;
        let id = self.resource.id(&settings);
        let context = self.found_context(diags, &configured, &settings).await?;
        let token = ownership::token_for_apply(&private);
        let desired = stamped(self.resource.expand(&settings, &context), Some(&token));
        let mut outcome = self
            .run_apply(
                &configured,
                &id,
                lifecycle::timeout(&planned, Operation::Create),
                &desired,
                &[],
                Resolved::new(),
            )
            .await;
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
            lifecycle::timeout(&planned, Operation::Delete),
        )
        .await
        {
            return None;
        }
        report_failures(diags, R::TYPE, &id, "creating", &outcome);
        let mut state = self.applied_state(planned, &settings, &context, &outcome);
        self.resource
            .computed_from_aws(&configured, &mut state)
            .await;
        if outcome.is_ok() {
            self.resource.applied(&configured, &state);
        }
        Some((state, ownership::with_token(Value::Null, &token)))
    }

    pub(super) async fn do_update(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        planned: Value,
        private: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
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
        let mut outcome = self
            .run_apply(
                &configured,
                &id,
                lifecycle::timeout(&planned, Operation::Update),
                &desired,
                &previous.components,
                recorded,
            )
            .await;
        ownership::record_own_objects_after_failure(
            &configured.clients,
            &desired.components,
            &mut outcome,
            &token,
        )
        .await;
        report_failures(diags, R::TYPE, &id, "updating", &outcome);
        let mut state = self.applied_state(planned, &settings, &context, &outcome);
        self.resource
            .computed_from_aws(&configured, &mut state)
            .await;
        if outcome.is_ok() {
            self.resource.applied(&configured, &state);
        }
        Some((state, ownership::with_token(Value::Null, &token)))
    }
}
