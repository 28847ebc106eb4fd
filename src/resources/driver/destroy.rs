//! Destroy: every component of the graph, in reverse order.

use tf_provider::Diagnostics;

use super::graph_resource::GraphResource;
use super::logging::log_progress;
use super::observations::stale_ids;
use super::problems::report_failures;
use super::{stamped, Driver};
use crate::engine::Progress;
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
        let context = self.found_context(diags, &configured, &settings).await?;
        let token = ownership::token_of(&private);
        let graph = stamped(self.resource.expand(&settings, &context), token.as_ref());
        let mut recorded = stale_ids(&private);
        recorded.extend(lifecycle::recorded_components(&prior));
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
        let report = |p: &Progress| log_progress(R::TYPE, &id, p);
        let outcome = lifecycle::destroy(
            &configured.clients,
            &graph.components,
            recorded,
            lifecycle::timeout(&prior, Operation::Delete),
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
