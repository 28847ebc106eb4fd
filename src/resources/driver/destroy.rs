//! Destroy: the resource's step before deletion, then every component of
//! the graph, in reverse order.

use tf_provider::Diagnostics;

use super::graph_resource::GraphResource;
use super::logging::log_progress;
use super::observations::stale_ids;
use super::problems::report_failures;
use super::{destroy_without_context, stamped, Driver};
use crate::engine::{Outcome, Progress};
use crate::resources::lifecycle::{self, Operation};
use crate::resources::ownership;
use crate::tf::diagnostics::error;
use crate::tf::value::Value;

impl<R: GraphResource> Driver<R> {
    pub(super) async fn do_destroy(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        private: Value,
    ) -> Option<()> {
        let configured = self.context.get(diags)?;
        let mut prior = prior;
        self.resource.upgrade(&mut prior);
        let settings = self.settings(diags, &prior, &configured)?;
        let id = self.resource.id(&settings);
        let mut recorded = stale_ids(&private);
        recorded.extend(lifecycle::recorded_components(&prior));
        let Some(context) = self.context_or_gone(diags, &configured, &settings).await? else {
            return match destroy_without_context(R::TYPE, &id, &recorded) {
                Ok(()) => Some(()),
                Err((summary, detail)) => {
                    error(diags, summary, detail);
                    None
                }
            };
        };
        let token = ownership::token_of(&private);
        let graph = stamped(self.resource.expand(&settings, &context), token.as_ref());
        // Objects whose create answer was lost exist without being
        // recorded: delete those that carry this resource's token too.
        if let Some(token) = &token {
            match ownership::with_unrecorded_own_objects(
                &configured.clients,
                &graph.components,
                recorded.clone(),
                token,
            )
            .await
            {
                Ok(all) => recorded = all,
                Err(e) => {
                    error(diags, format!("Cannot destroy {} {id}", R::TYPE), e);
                    return None;
                }
            }
        }
        let timeout = self.timeout(&prior, Operation::Delete);
        let before = crate::engine::with_deadline(
            timeout,
            self.resource
                .before_destroy(&configured, &settings, &context, recorded.clone()),
        )
        .await;
        let recorded = match before {
            Ok(left) => left,
            Err(step) => {
                let stopped = Outcome {
                    recorded,
                    errors: vec![step],
                    progress: vec![],
                };
                report_failures(diags, R::TYPE, &id, "destroying", &stopped);
                return None;
            }
        };
        let report = |p: &Progress| log_progress(R::TYPE, &id, p);
        let outcome = lifecycle::destroy(
            &configured.clients,
            &graph.components,
            recorded,
            timeout,
            &report,
        )
        .await;
        report_failures(diags, R::TYPE, &id, "destroying", &outcome);
        if outcome.is_ok() {
            self.resource.destroyed(&configured, &settings);
        }
        outcome.is_ok().then_some(())
    }
}
