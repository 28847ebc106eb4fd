//! `matbakh_platform`: the cluster, mesh and namespace of one region.

pub mod expand;
pub mod lookup;
pub mod schema;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::aws::cloudmap::namespace::namespace_id_from_arn;
use crate::engine::Resolved;
use crate::provider::{string_map_value, Configured, ProviderContext};
use crate::resources::lifecycle::{self, Operation};
use crate::resources::ownership::{self, token_of};
use crate::service_mesh::ServiceMesh;
use crate::spec::ownership::OwnerToken;
use crate::spec::DesiredGraph;
use crate::tf::diagnostics::{error, report};
use crate::tf::value::Value;
use expand::{PlatformSettings, VPC_TAG};
use schema::{DEFAULT_MESH_EGRESS, DEFAULT_NAMESPACE};

const RESOURCE: &str = "matbakh_platform";

pub struct PlatformResource {
    context: ProviderContext,
}

impl PlatformResource {
    pub fn new(context: ProviderContext) -> Self {
        PlatformResource { context }
    }
}

/// Fill in the defaults of optional attributes the configuration left out.
fn with_defaults(mut state: Value, mesh: ServiceMesh) -> Value {
    if state.get("namespace").is_null() {
        state.set("namespace", DEFAULT_NAMESPACE.into());
    }
    if state.get("container_insights").is_null() {
        state.set("container_insights", true.into());
    }
    if state.get("mesh_egress").is_null() && mesh == ServiceMesh::AppMesh {
        state.set("mesh_egress", DEFAULT_MESH_EGRESS.into());
    }
    state.set("service_mesh", mesh.name().into());
    state
}

/// The platform's graph with its ownership token written into every
/// object's tags (none when the state predates tokens).
fn owned_graph(settings: &PlatformSettings, token: Option<&OwnerToken>) -> DesiredGraph {
    let graph = expand::expand(settings);
    match token {
        Some(token) => graph.with_owner_token(token),
        None => graph,
    }
}

/// The backend a state was planned for (states written before the provider
/// had backends: App Mesh, the only one there was).
fn mesh_of(state: &Value, configured: &Configured) -> ServiceMesh {
    match state.get("service_mesh") {
        Value::Null => ServiceMesh::AppMesh,
        v => v
            .as_str()
            .and_then(ServiceMesh::parse)
            .unwrap_or(configured.service_mesh),
    }
}

fn settings(state: &Value, configured: &Configured) -> PlatformSettings {
    let mut tags = configured.default_tags.clone();
    tags.extend(string_map_value(state.get("tags")));
    let s = |k: &str, d: &str| state.get(k).as_str().unwrap_or(d).to_string();
    let service_mesh = mesh_of(state, configured);
    PlatformSettings {
        service_mesh,
        name: s("name", ""),
        vpc_id: s("vpc_id", ""),
        namespace: s("namespace", DEFAULT_NAMESPACE),
        container_insights: state.get("container_insights").as_bool().unwrap_or(true),
        mesh_egress: s("mesh_egress", DEFAULT_MESH_EGRESS),
        tags,
    }
}

/// Set the computed attributes that follow from the recorded components.
fn set_computed(state: &mut Value, recorded: &Resolved, mesh: ServiceMesh) {
    let name = state.get("name").clone();
    state.set("id", name.clone());
    state.set("service_mesh", mesh.name().into());
    state.set(
        "mesh_name",
        if mesh == ServiceMesh::AppMesh {
            name
        } else {
            Value::Null
        },
    );
    state.set("cluster_arn", recorded.get("cluster").cloned().into());
    let ns = recorded.get("namespace");
    state.set("namespace_arn", ns.cloned().into());
    state.set(
        "namespace_id",
        ns.map(|a| namespace_id_from_arn(a).to_string()).into(),
    );
    state.set("components", lifecycle::components_value(recorded));
}

fn mark_unknown(state: &mut Value, keys: &[&str]) {
    for k in keys {
        state.set(k, Value::Unknown);
    }
}

const ARN_ATTRIBUTES: [&str; 4] = ["cluster_arn", "namespace_id", "namespace_arn", "components"];

#[async_trait]
impl Resource for PlatformResource {
    type State<'a> = Value;
    type PrivateState<'a> = Value;
    type ProviderMetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        report(diags, schema::validate(&config));
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let recorded = lifecycle::recorded_components(&state);
        let graph = owned_graph(&settings(&state, &configured), token_of(&private).as_ref());
        let (existing, drift) =
            match lifecycle::observe(&configured.clients, &graph.components, &recorded).await {
                Ok(found) => found,
                Err(e) => {
                    error(diags, format!("Cannot read {RESOURCE}"), e);
                    return None;
                }
            };
        if existing.is_empty() && !recorded.is_empty() {
            tracing::info!(
                platform = state.get("name").as_str().unwrap_or(""),
                "every object is gone; removing from state"
            );
            return Some((Value::Null, private));
        }
        let mut state = state;
        let mesh = mesh_of(&state, &configured);
        set_computed(&mut state, &existing, mesh);
        state.set("drift", lifecycle::drift_value(&drift));
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Value,
        config: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let mesh = configured.service_mesh;
        let problems = schema::validate_on(&config, mesh);
        if !problems.is_empty() {
            report(diags, problems);
            return None;
        }
        let mut planned = with_defaults(proposed, mesh);
        let name = planned.get("name").clone();
        planned.set("id", name.clone());
        planned.set(
            "mesh_name",
            if mesh == ServiceMesh::AppMesh {
                name
            } else {
                Value::Null
            },
        );
        mark_unknown(&mut planned, &ARN_ATTRIBUTES);
        // tags_all, and AWS's tag limits with the provider's default_tags.
        report(
            diags,
            crate::resources::tags::plan_tags(&mut planned, &configured.default_tags),
        );
        planned.set("drift", lifecycle::no_drift());
        Some((planned, ownership::planned_private(Value::Null)))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        proposed: Value,
        config: Value,
        prior_private: Value,
        _meta: Value,
    ) -> Option<(Value, Value, Vec<AttributePath>)> {
        let configured = self.context.get(diags)?;
        let mesh = configured.service_mesh;
        let problems = schema::validate_on(&config, mesh);
        if !problems.is_empty() {
            report(diags, problems);
            return None;
        }
        let mut planned = with_defaults(proposed, mesh);
        let mut prior = prior;
        if prior.get("service_mesh").is_null() {
            // State written before the provider had backends: App Mesh.
            prior.set("service_mesh", ServiceMesh::AppMesh.name().into());
        }
        // A platform of the other backend is other AWS objects: replaced.
        let replace: Vec<AttributePath> = ["name", "vpc_id", "namespace", "service_mesh"]
            .into_iter()
            .filter(|k| planned.get(k) != prior.get(k))
            .map(AttributePath::new)
            .collect();
        if lifecycle::has_drift(&prior) {
            let name = prior.get("name").as_str().unwrap_or("");
            lifecycle::warn_drift(diags, RESOURCE, name, &prior);
            mark_unknown(&mut planned, &ARN_ATTRIBUTES);
            planned.set("drift", lifecycle::no_drift());
        }
        if !replace.is_empty() {
            mark_unknown(&mut planned, &ARN_ATTRIBUTES);
        }
        // tags_all, and AWS's tag limits with the provider's default_tags.
        report(
            diags,
            crate::resources::tags::plan_tags(&mut planned, &configured.default_tags),
        );
        Some((planned, ownership::planned_private(prior_private), replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Value,
        prior_private: Value,
        _meta: Value,
    ) -> Option<Value> {
        Some(prior_private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Value,
        _config: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let token = ownership::token_for_apply(&private);
        let graph = owned_graph(&settings(&planned, &configured), Some(&token));
        let outcome = lifecycle::apply(
            RESOURCE,
            &configured.clients,
            &graph.components,
            &[],
            Resolved::new(),
            lifecycle::timeout(&planned, Operation::Create),
        )
        .await;
        let mut outcome = outcome;
        if ownership::undo_refused_create(
            diags,
            RESOURCE,
            &configured.clients,
            &graph.components,
            &mut outcome,
            lifecycle::timeout(&planned, Operation::Delete),
        )
        .await
        {
            return None;
        }
        lifecycle::report_failures(diags, RESOURCE, "creating", &outcome);
        let mut state = planned;
        let mesh = mesh_of(&state, &configured);
        set_computed(&mut state, &outcome.recorded, mesh);
        state.set("drift", lifecycle::no_drift());
        Some((state, ownership::with_token(private, &token)))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        planned: Value,
        _config: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let configured = self.context.get(diags)?;
        let token = ownership::token_for_apply(&private);
        let previous = owned_graph(&settings(&prior, &configured), Some(&token));
        let desired = owned_graph(&settings(&planned, &configured), Some(&token));
        let outcome = lifecycle::apply(
            RESOURCE,
            &configured.clients,
            &desired.components,
            &previous.components,
            lifecycle::recorded_components(&prior),
            lifecycle::timeout(&planned, Operation::Update),
        )
        .await;
        lifecycle::report_failures(diags, RESOURCE, "updating", &outcome);
        let mut state = planned;
        let mesh = mesh_of(&state, &configured);
        set_computed(&mut state, &outcome.recorded, mesh);
        state.set("drift", lifecycle::no_drift());
        Some((state, ownership::with_token(private, &token)))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        private: Value,
        _meta: Value,
    ) -> Option<()> {
        let configured = self.context.get(diags)?;
        let graph = owned_graph(&settings(&prior, &configured), token_of(&private).as_ref());
        let outcome = lifecycle::destroy(
            RESOURCE,
            &configured.clients,
            &graph.components,
            lifecycle::recorded_components(&prior),
            lifecycle::timeout(&prior, Operation::Delete),
        )
        .await;
        lifecycle::report_failures(diags, RESOURCE, "destroying", &outcome);
        if outcome.is_ok() {
            Some(())
        } else {
            None
        }
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(Value, Value)> {
        if let Err(why) = schema::check_name(&id) {
            error(diags, "Invalid import id", format!("Import a platform by its name: terraform import matbakh_platform.NAME PLATFORM_NAME. {why}"));
            return None;
        }
        let configured = self.context.get(diags)?;
        let mesh_kind = configured.service_mesh;
        let found = match lookup::lookup(&configured.clients, &id, mesh_kind).await {
            Ok(found) => found,
            Err(e) => {
                error(diags, "Cannot import matbakh_platform", e.to_string());
                return None;
            }
        };
        if found.is_empty() {
            error(diags, "Cannot import matbakh_platform", format!("no ECS cluster, mesh or Cloud Map namespace of a platform named {id:?} exists in this region"));
            return None;
        }
        let mut recorded = Resolved::new();
        let mut state = Value::Null;
        state.set("name", id.as_str().into());
        state.set("container_insights", true.into());
        if mesh_kind == ServiceMesh::AppMesh {
            state.set("mesh_egress", DEFAULT_MESH_EGRESS.into());
        }
        state.set("namespace", DEFAULT_NAMESPACE.into());
        let lookup::FoundPlatform {
            cluster,
            mesh,
            namespace,
            ..
        } = found;
        if let Some((arn, insights)) = cluster {
            recorded.insert("cluster".into(), arn);
            state.set("container_insights", insights.into());
        }
        if let Some((arn, egress)) = mesh {
            recorded.insert("mesh".into(), arn);
            state.set("mesh_egress", egress.into());
        }
        // The namespace's tags hold the platform's ownership token (the
        // cluster and mesh carry the same one); adopt it. Objects from
        // before ownership tokens get a new one, written by the next apply.
        let token = namespace
            .as_ref()
            .and_then(|(_, _, tags)| ownership::token_found([tags]))
            .unwrap_or_else(OwnerToken::generate);
        if let Some((arn, name, tags)) = namespace {
            recorded.insert("namespace".into(), arn);
            state.set("namespace", name.into());
            state.set("vpc_id", tags.get(VPC_TAG).cloned().into());
        }
        set_computed(&mut state, &recorded, mesh_kind);
        crate::resources::tags::set_tags_all(&mut state, &configured.default_tags);
        state.set("drift", lifecycle::no_drift());
        crate::tf::schema::complete_object(&mut state, &schema::schema().block);
        Some((state, ownership::with_token(Value::Null, &token)))
    }
}
