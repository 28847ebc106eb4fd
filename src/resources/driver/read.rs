//! Read: the values AWS has for every argument, and what no argument shows.

use tf_provider::Diagnostics;

use super::external::with_external;
use super::graph_resource::GraphResource;
use super::merge::merge_recovered;
use super::observations::{private_with_stale, sort_observations, stale_ids, with_repair};
use super::versions::{recorded_versions, with_versions};
use super::{set_computed, stamped, Driver};
use crate::resources::lifecycle::{self};
use crate::resources::ownership;
use crate::resources::tags;
use crate::tf::diagnostics::{error, warning};
use crate::tf::value::Value;

impl<R: GraphResource> Driver<R> {
    pub(super) async fn do_read(
        &self,
        diags: &mut Diagnostics,
        state: Value,
        private: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let mut state = state;
        self.resource.upgrade(&mut state);
        // AWS is compared with the default_tags the state was applied with:
        // changed default_tags are a change to plan (tags_all), not objects
        // changed outside Terraform (nor, all of them differing, deleted).
        // Recovery and observation below ask for the same objects: with
        // clients that remember this refresh's reads, each is sent once.
        let mut configured = match tags::applied_default_tags(&state) {
            Some(applied) if applied != configured.default_tags => {
                configured.with_default_tags(applied).remembering_reads()
            }
            _ => configured.remembering_reads(),
        };
        // The versions of what need not be read again (see `aws::versions`).
        configured.clients = configured
            .clients
            .with_versions(recorded_versions(&private));
        let configured = std::sync::Arc::new(configured);
        let prior_settings = self.settings(diags, &state, &configured)?;
        let id = self.resource.id(&prior_settings);
        let Some(context) = self
            .context_or_gone(diags, &configured, &prior_settings)
            .await?
        else {
            tracing::warn!(
                tf_resource_type = R::TYPE,
                tf_resource_id = id.as_str(),
                "what it is built on is gone; removing from state"
            );
            return Some((Value::Null, Value::Null));
        };
        let external = self.resource.external(&context);
        let external_keys: Vec<&str> = external.keys().map(String::as_str).collect();
        let mut recorded = lifecycle::recorded_components(&state);
        recorded.extend(stale_ids(&private));
        let cannot = |diags: &mut Diagnostics, e: String| {
            error(diags, format!("Cannot read {} {id}", R::TYPE), e);
        };

        // Arguments: the values AWS has, where they mean something else
        // than what state says. The components of the graph state describes
        // are read at the same time: when AWS agrees with state (the usual
        // case) that is the graph to observe, and the read takes the rounds
        // of the slower of the two instead of both.
        let mut current = state.clone();
        let prior_graph = stamped(
            self.resource.expand(&prior_settings, &context),
            ownership::token_of(&private).as_ref(),
        );
        let prior_recorded = recorded.clone();
        let prior_with_external = with_external(&prior_recorded, &external);
        crate::aws::vouch::vouch_for_graph(&configured.clients, &prior_graph, &prior_with_external);
        let (recovered, early_observations) = futures::join!(
            self.resource
                .recover(&configured, &prior_settings, &context),
            lifecycle::observe(&configured.clients, &prior_graph, &prior_with_external),
        );
        match recovered {
            Err(e) => {
                cannot(diags, e);
                return None;
            }
            Ok(None) => {}
            Ok(Some(found)) => {
                let means = |candidate: &Value| {
                    self.resource
                        .settings(candidate, &configured)
                        .ok()
                        .map(|s| self.resource.expand(&s, &context))
                };
                current = merge_recovered(
                    &state,
                    &found.arguments,
                    |k| self.resource.held_by_aws(k, &state) && !found.keep_prior.contains(&k),
                    means,
                );
                // A component found under another id (a task definition
                // revision rolled out of band): record what runs.
                for (key, found_id) in found.components {
                    if let Some(id) = recorded.get_mut(&key) {
                        *id = found_id;
                    }
                }
            }
        }

        // Components: what exists and matches the arguments stays recorded.
        let settings = self.settings(diags, &current, &configured)?;
        let graph = stamped(
            self.resource.expand(&settings, &context),
            ownership::token_of(&private).as_ref(),
        );
        let observations = if graph == prior_graph && recorded == prior_recorded {
            early_observations
        } else {
            lifecycle::observe(
                &configured.clients,
                &graph,
                &with_external(&recorded, &external),
            )
            .await
        };
        let observations = match observations {
            Ok(o) => o,
            Err(e) => {
                cannot(diags, e);
                return None;
            }
        };
        let mut sorted =
            sort_observations(&graph, &with_external(&recorded, &external), observations)
                .without_external(&external_keys);
        let beyond = match self
            .resource
            .read_beyond_graph(&configured, &settings, &context, &recorded, &current)
            .await
        {
            Ok(beyond) => beyond,
            Err(e) => {
                cannot(diags, e);
                return None;
            }
        };
        for key in &beyond.gone {
            sorted.existing.remove(key);
        }
        for (component, why) in sorted.drift.iter().chain(&beyond.drift) {
            warning(
                diags,
                format!("{component} changed outside Terraform"),
                format!("{why}; the next apply repairs it."),
            );
            tracing::info!(
                tf_resource_type = R::TYPE,
                tf_resource_id = id.as_str(),
                component = component.as_str(),
                "{why}"
            );
        }
        if sorted.all_gone(&recorded) {
            tracing::info!(
                tf_resource_type = R::TYPE,
                tf_resource_id = id.as_str(),
                "every object is gone; removing from state"
            );
            return Some((Value::Null, Value::Null));
        }
        self.resource
            .plan_known(&mut current, &settings, &configured);
        tags::set_tags_all(&mut current, &configured.default_tags);
        self.resource
            .context_computed(&mut current, &settings, Some(&context));
        self.set_components(&mut current, lifecycle::components_value(&sorted.existing));
        set_computed(&mut current, &beyond.computed);
        self.resource
            .computed_from_aws(&configured, &mut current)
            .await;
        let mut next_private = private_with_stale(&sorted.stale);
        if !beyond.drift.is_empty() {
            // The next plan repairs what no component shows.
            next_private = with_repair(next_private);
        }
        if let Some(token) = ownership::token_of(&private) {
            next_private = ownership::with_token(next_private, &token);
        }
        let mut kept = sorted.existing.clone();
        kept.extend(sorted.stale.clone());
        next_private = with_versions(next_private, &configured.clients, &kept);
        Some((current, next_private))
    }
}
