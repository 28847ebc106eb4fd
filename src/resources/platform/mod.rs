//! `matbakh_platform`: the cluster, mesh and namespace of one region.

pub mod expand;
pub mod schema;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{AttributePath, Diagnostics, Resource};
use tracing::Instrument;

use crate::aws::appmesh::mesh::find_mesh;
use crate::aws::cloudmap::namespace::{find_owned_namespace, namespace_id_from_arn};
use crate::aws::ecs::cluster::find_cluster;
use crate::engine::Resolved;
use crate::provider::{string_map_value, Configured, ProviderContext};
use crate::resources::lifecycle::{self, Operation};
use crate::service_mesh::ServiceMesh;
use crate::tf::diagnostics::{error, report};
use crate::tf::logging::resource_span;
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
        let config = crate::tf::value::normalized(config, &schema::schema().block);
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
        let state = crate::tf::value::normalized(state, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let recorded = lifecycle::recorded_components(&state);
        let graph = expand::expand(&settings(&state, &configured));
        let (existing, drift) =
            match lifecycle::observe(&configured.clients, &graph.components, &recorded)
                .instrument(resource_span(
                    RESOURCE,
                    state.get("name").as_str().unwrap_or_default(),
                ))
                .await
            {
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
        let mesh = self.context.get(diags)?.service_mesh;
        let problems = schema::validate_on(&config, mesh);
        if !problems.is_empty() {
            report(diags, problems);
            return None;
        }
        let proposed = crate::tf::value::normalized(proposed, &schema::schema().block);
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
        planned.set("drift", lifecycle::no_drift());
        Some((planned, Value::Null))
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
        let mesh = self.context.get(diags)?.service_mesh;
        let problems = schema::validate_on(&config, mesh);
        if !problems.is_empty() {
            report(diags, problems);
            return None;
        }
        let proposed = crate::tf::value::normalized(proposed, &schema::schema().block);
        let mut planned = with_defaults(proposed, mesh);
        let mut prior = crate::tf::value::normalized(prior, &schema::schema().block);
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
        Some((planned, prior_private, replace))
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
        _private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let planned = crate::tf::value::normalized(planned, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let graph = expand::expand(&settings(&planned, &configured));
        let outcome = lifecycle::apply(
            RESOURCE,
            &configured.clients,
            &graph.components,
            &[],
            Resolved::new(),
            lifecycle::timeout(&planned, Operation::Create),
        )
        .instrument(resource_span(
            RESOURCE,
            planned.get("name").as_str().unwrap_or_default(),
        ))
        .await;
        lifecycle::report_failures(diags, RESOURCE, "creating", &outcome);
        let mut state = planned;
        let mesh = mesh_of(&state, &configured);
        set_computed(&mut state, &outcome.recorded, mesh);
        state.set("drift", lifecycle::no_drift());
        Some((state, Value::Null))
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
        let prior = crate::tf::value::normalized(prior, &schema::schema().block);
        let planned = crate::tf::value::normalized(planned, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let previous = expand::expand(&settings(&prior, &configured));
        let desired = expand::expand(&settings(&planned, &configured));
        let outcome = lifecycle::apply(
            RESOURCE,
            &configured.clients,
            &desired.components,
            &previous.components,
            lifecycle::recorded_components(&prior),
            lifecycle::timeout(&planned, Operation::Update),
        )
        .instrument(resource_span(
            RESOURCE,
            planned.get("name").as_str().unwrap_or_default(),
        ))
        .await;
        lifecycle::report_failures(diags, RESOURCE, "updating", &outcome);
        let mut state = planned;
        let mesh = mesh_of(&state, &configured);
        set_computed(&mut state, &outcome.recorded, mesh);
        state.set("drift", lifecycle::no_drift());
        Some((state, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        _private: Value,
        _meta: Value,
    ) -> Option<()> {
        let prior = crate::tf::value::normalized(prior, &schema::schema().block);
        let configured = self.context.get(diags)?;
        let graph = expand::expand(&settings(&prior, &configured));
        let outcome = lifecycle::destroy(
            RESOURCE,
            &configured.clients,
            &graph.components,
            lifecycle::recorded_components(&prior),
            lifecycle::timeout(&prior, Operation::Delete),
        )
        .instrument(resource_span(
            RESOURCE,
            prior.get("name").as_str().unwrap_or_default(),
        ))
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
        let aws = &configured.clients;
        let mesh_kind = configured.service_mesh;
        let lookups = async {
            let mesh = match mesh_kind {
                ServiceMesh::AppMesh => find_mesh(aws, &id).await?,
                ServiceMesh::ServiceConnect => None,
            };
            Ok::<_, crate::aws::AwsError>((
                find_cluster(aws, &id).await?,
                mesh,
                find_owned_namespace(aws, &id).await?,
            ))
        };
        let (cluster, mesh, namespace) = match lookups.await {
            Ok(found) => found,
            Err(e) => {
                error(diags, "Cannot import matbakh_platform", e.to_string());
                return None;
            }
        };
        if cluster.is_none() && mesh.is_none() && namespace.is_none() {
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
        if let Some((arn, insights)) = cluster {
            recorded.insert("cluster".into(), arn);
            state.set("container_insights", insights.into());
        }
        if let Some((arn, egress)) = mesh {
            recorded.insert("mesh".into(), arn);
            state.set("mesh_egress", egress.into());
        }
        if let Some((arn, name, tags)) = namespace {
            recorded.insert("namespace".into(), arn);
            state.set("namespace", name.into());
            state.set("vpc_id", tags.get(VPC_TAG).cloned().into());
        }
        set_computed(&mut state, &recorded, mesh_kind);
        state.set("drift", lifecycle::no_drift());
        crate::tf::schema::complete_object(&mut state, &schema::schema().block);
        Some((state, Value::Null))
    }
}
