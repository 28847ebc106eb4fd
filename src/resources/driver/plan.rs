//! Plan: defaults, known values and, per component, unknowns only for what
//! will change.

use std::collections::BTreeMap;

use tf_provider::{AttributePath, Diagnostics};

use super::graph_resource::GraphResource;
use super::observations::{repair_asked, stale_ids};
use super::problems::report_problems;
use super::Driver;
use crate::engine::Resolved;
use crate::resources::lifecycle::{self};
use crate::resources::ownership;
use crate::resources::tags;
use crate::spec::{Component, Spec};
use crate::tf::value::Value;

impl<R: GraphResource> Driver<R> {
    pub(super) async fn do_plan_create(
        &self,
        diags: &mut Diagnostics,
        proposed: Value,
        config: Value,
    ) -> Option<(Value, Value)> {
        // A plan takes the platforms this process found as found.
        let configured = std::sync::Arc::new(self.context.get(diags)?.planning());
        self.check_on_backend(diags, &config, &configured)?;
        let mut planned = proposed;
        self.defaults_where_unset(&mut planned, &config);
        self.resource.plan_from_provider(&mut planned, &configured);
        let settings = self.settings(diags, &planned, &configured)?;
        self.resource
            .plan_known(&mut planned, &settings, &configured);
        report_problems(
            diags,
            tags::plan_tags(&mut planned, &configured.default_tags),
        )?;
        self.resource
            .context_computed(&mut planned, &settings, None);
        self.set_components(&mut planned, Value::Unknown);
        self.leave_unknown(&mut planned, None, false);
        self.warn_about_settings(diags, &settings);
        if self.resource.has_plan_warnings(&settings)
            && !arguments_unknown(&self.resource.schema().block, &planned)
        {
            // What it is built on may not exist yet (made in this apply):
            // then there is nothing to look at.
            if let Ok(context) = self.resource.context(&configured, &settings).await {
                self.warn_at_plan(diags, &configured, &settings, &context)
                    .await;
            }
        }
        // The ownership token this resource's objects will carry.
        Some((planned, ownership::planned_private(Value::Null)))
    }

    pub(super) async fn do_plan_update(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        proposed: Value,
        config: Value,
        prior_private: Value,
    ) -> Option<(Value, Value, Vec<AttributePath>)> {
        // A plan takes the platforms this process found as found.
        let configured = std::sync::Arc::new(self.context.get(diags)?.planning());
        self.check_on_backend(diags, &config, &configured)?;
        let mut prior = prior;
        self.resource.upgrade(&mut prior);
        let mut planned = proposed;
        self.resource.plan_from_provider(&mut planned, &configured);
        let settings = self.settings(diags, &planned, &configured)?;
        self.resource
            .plan_known(&mut planned, &settings, &configured);
        report_problems(
            diags,
            tags::plan_tags(&mut planned, &configured.default_tags),
        )?;
        let replace: Vec<AttributePath> = R::REPLACE_ON
            .iter()
            .filter(|k| planned.get(k) != prior.get(k))
            .map(|k| AttributePath::new(*k))
            .collect();
        let unknown_arguments = arguments_unknown(&self.resource.schema().block, &planned);
        let context = if replace.is_empty() && !unknown_arguments {
            // Without the context there is no graph to compare: every
            // component is then planned as possibly new.
            self.resource.context(&configured, &settings).await.ok()
        } else {
            None
        };
        let prior_settings = self.resource.settings(&prior, &configured).ok();
        let warns = self.resource.warns_on_update(&prior, &planned);
        if warns {
            self.warn_about_settings(diags, &settings);
        }
        match (context, prior_settings) {
            (Some(context), Some(prior_settings)) => {
                if warns {
                    self.warn_at_plan(diags, &configured, &settings, &context)
                        .await;
                }
                let desired = self.resource.expand(&settings, &context);
                let previous = self.resource.expand(&prior_settings, &context);
                let recorded = lifecycle::recorded_components(&prior);
                let mut stale = stale_ids(&prior_private);
                stale.retain(|k, _| !recorded.contains_key(k));
                let components =
                    plan_components(&previous.components, &desired.components, &recorded, &stale);
                self.resource
                    .context_computed(&mut planned, &settings, Some(&context));
                self.set_components(&mut planned, components);
            }
            _ => {
                if !replace.is_empty() {
                    self.resource
                        .context_computed(&mut planned, &settings, None);
                }
                self.set_components(&mut planned, Value::Unknown);
            }
        }
        self.leave_unknown(&mut planned, Some(&prior), repair_asked(&prior_private));
        Some((planned, ownership::planned_private(prior_private), replace))
    }

    /// Leave unknown what the resource says an apply sets anew
    /// ([`GraphResource::unknown_after_plan`]).
    pub(super) fn leave_unknown(&self, planned: &mut Value, prior: Option<&Value>, repair: bool) {
        for key in self.resource.unknown_after_plan(prior, planned, repair) {
            if key == "components" {
                self.set_components(planned, Value::Unknown);
            } else {
                planned.set(key, Value::Unknown);
            }
        }
    }

    fn warn_about_settings(&self, diags: &mut Diagnostics, settings: &R::Settings) {
        for (summary, detail) in self.resource.settings_warnings(settings) {
            crate::tf::diagnostics::warning(diags, summary, detail);
        }
    }
}

/// Whether an argument (an attribute the configuration sets, or a nested
/// block) is unknown in the plan: then the graph cannot be computed yet.
pub(super) fn arguments_unknown(block: &tf_provider::schema::Block, planned: &Value) -> bool {
    use tf_provider::schema::AttributeConstraint;
    block.attributes.iter().any(|(name, attribute)| {
        !matches!(attribute.constraint, AttributeConstraint::Computed)
            && planned.get(name).contains_unknown()
    }) || block
        .blocks
        .keys()
        .any(|name| planned.get(name).contains_unknown())
}

/// Plan the `components` map of an update, entry by entry.
///
/// An entry whose object stays (unchanged, or updated in place as
/// [`Spec::update_keeps_id`] says) keeps its recorded id; an entry whose
/// object will be created, re-registered or replaced is unknown; a
/// component the desired graph no longer has drops out. A component whose
/// dependency gets a new id is updated to point at it; an entry in `stale`
/// (changed outside Terraform in a way no argument shows) is updated too.
/// Recorded entries that neither graph knows stay (destroy reports them).
pub fn plan_components(
    previous: &[Component],
    desired: &[Component],
    recorded: &Resolved,
    stale: &Resolved,
) -> Value {
    let mut planned: BTreeMap<String, Value> = BTreeMap::new();
    let order =
        crate::engine::creation_order(desired).unwrap_or_else(|_| (0..desired.len()).collect());
    for idx in order {
        let component = &desired[idx];
        let key = &component.key;
        let old = previous.iter().find(|c| &c.key == key);
        let stays = match (recorded.get(key), old) {
            (Some(id), Some(old)) => {
                let dependency_moves = component
                    .depends_on
                    .iter()
                    .any(|d| planned.get(d).is_some_and(Value::is_unknown));
                let changes =
                    old.spec != component.spec || dependency_moves || stale.contains_key(key);
                (!changes || Spec::update_keeps_id(&old.spec, &component.spec)).then(|| id.clone())
            }
            (None, Some(old)) if stale.contains_key(key) => {
                Spec::update_keeps_id(&old.spec, &component.spec).then(|| stale[key].clone())
            }
            _ => None,
        };
        planned.insert(key.clone(), stays.map(Value::str).unwrap_or(Value::Unknown));
    }
    for (key, id) in recorded {
        let known = |g: &[Component]| g.iter().any(|c| &c.key == key);
        if !known(desired) && !known(previous) {
            planned.insert(key.clone(), Value::str(id));
        }
    }
    Value::Map(planned)
}
