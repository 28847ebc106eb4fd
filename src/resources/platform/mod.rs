//! `matbakh_platform`: the cluster, mesh and namespace of one region.
//!
//! What is its own: the schema, settings, the expansion, and the recovery of
//! its arguments from the three objects; the driver does the rest.

pub mod budget;
pub mod expand;
pub mod ingress;
pub mod ingress_import;
pub mod lookup;
pub mod roles;
pub mod schema;

use std::collections::BTreeMap;

use async_trait::async_trait;
use tf_provider::schema::Schema;

use crate::aws::cloudmap::namespace::namespace_id_from_arn;
use crate::engine::Resolved;
use crate::resources::context::{Configured, ProviderContext};
use crate::resources::driver::{Driver, GraphResource, Recovered};
use crate::resources::microservice::platform_context::context_of;
use crate::resources::tags::string_map_value;
use crate::service_mesh::ServiceMesh;
use crate::spec::ownership::OwnerToken;
use crate::spec::DesiredGraph;
use crate::tf::value::Value;
use crate::validation::Problem;
use expand::{PlatformSettings, VPC_TAG};
use schema::{DEFAULT_MESH_EGRESS, DEFAULT_NAMESPACE};

/// `matbakh_platform` as Terraform sees it.
pub type PlatformResource = Driver<Platform>;

impl PlatformResource {
    pub fn new(context: ProviderContext) -> Self {
        Driver::of(Platform, context)
    }
}

/// What `matbakh_platform` brings to the driver.
pub struct Platform;

/// The backend a state is for: what it recorded, else (a plan for a new
/// platform) the provider's.
fn mesh_of(state: &Value, configured: &Configured) -> ServiceMesh {
    state
        .get("service_mesh")
        .as_str()
        .and_then(ServiceMesh::parse)
        .unwrap_or(configured.service_mesh)
}

fn settings(state: &Value, configured: &Configured) -> PlatformSettings {
    let mut tags = configured.default_tags.clone();
    tags.extend(string_map_value(state.get("tags")));
    let s = |k: &str, d: &str| state.get(k).as_str().unwrap_or(d).to_string();
    PlatformSettings {
        service_mesh: mesh_of(state, configured),
        name: s("name", ""),
        vpc_id: s("vpc_id", ""),
        namespace: s("namespace", DEFAULT_NAMESPACE),
        container_insights: state.get("container_insights").as_bool().unwrap_or(true),
        mesh_egress: s("mesh_egress", DEFAULT_MESH_EGRESS),
        tags,
        region: configured.clients.region.clone(),
        budget: budget::settings(state),
        ingress: ingress::settings(state),
        account: configured.clients.account_id.clone(),
        recorded_load_balancer: component(state.get("components"), ingress::keys::LOAD_BALANCER)
            .as_str()
            .map(str::to_string),
    }
}

/// The component that carries each computed ARN.
fn component(components: &Value, key: &str) -> Value {
    match components {
        Value::Map(m) => m.get(key).cloned().unwrap_or(Value::Null),
        _ => Value::Unknown,
    }
}

/// Tell the microservices of this provider process where platform `name`
/// is, when it is `complete` (its cluster, namespace and, on App Mesh, mesh
/// exist) and of the provider's backend: their lookup then costs no call.
fn remember_for_microservices(
    configured: &Configured,
    name: &str,
    backend: ServiceMesh,
    complete: bool,
    ns_arn: &str,
    ns_name: &str,
) {
    if complete && backend == configured.service_mesh {
        configured
            .platforms
            .remember(name, context_of(configured, name, ns_arn, ns_name));
    }
}

/// The platform named `name` as it exists in AWS, looked up for backend
/// `backend`: its arguments and the components found. `None` when none of
/// its objects exists.
async fn find(
    configured: &Configured,
    name: &str,
    backend: ServiceMesh,
) -> Result<Option<(Recovered, lookup::FoundPlatform)>, String> {
    // The budget is found by its name (the platform's and the region's),
    // not by anything the lookup finds: both at once, one round.
    let budget_name = budget::budget_name(name, &configured.clients.region);
    let (found, found_budget) = futures::join!(
        lookup::lookup(&configured.clients, name, backend),
        crate::aws::budgets::find_budget(&configured.clients, &budget_name)
    );
    let found = found.map_err(|e| e.to_string())?;
    if found.is_empty() {
        return Ok(None);
    }
    // Everything a microservice on it needs was just found: its lookup in
    // this process (a refresh reads the platform first) costs no call.
    if let (Some(_), Some((ns_arn, ns_name, _))) = (&found.cluster, &found.namespace) {
        let complete = backend != ServiceMesh::AppMesh || found.mesh.is_some();
        remember_for_microservices(configured, name, backend, complete, ns_arn, ns_name);
    }
    let mut components = Resolved::new();
    let mut arguments = Value::Null;
    arguments.set("name", name.into());
    if let Some((arn, insights)) = &found.cluster {
        components.insert("cluster".into(), arn.clone());
        arguments.set("container_insights", (*insights).into());
    }
    if let Some((arn, egress)) = &found.mesh {
        components.insert("mesh".into(), arn.clone());
        arguments.set("mesh_egress", egress.as_str().into());
    }
    if let Some((arn, namespace, tags)) = &found.namespace {
        components.insert("namespace".into(), arn.clone());
        arguments.set("namespace", namespace.as_str().into());
        arguments.set("vpc_id", tags.get(VPC_TAG).cloned().into());
    }
    match found_budget.map_err(|e| e.to_string())? {
        Some(b) => {
            components.insert(budget::KEY.into(), b.arn.clone());
            arguments.set("budget", Value::List(vec![budget::arguments(&b)]));
        }
        None => arguments.set("budget", Value::List(Vec::new())),
    }
    Ok(Some((
        Recovered {
            arguments,
            components,
            keep_prior: Vec::new(),
        },
        found,
    )))
}

#[async_trait]
impl GraphResource for Platform {
    const TYPE: &'static str = "matbakh_platform";
    /// A platform of the other backend is other AWS objects: replaced.
    const REPLACE_ON: &'static [&'static str] = &["name", "vpc_id", "namespace", "service_mesh"];
    type Settings = PlatformSettings;
    /// The estimates of its microservices, by name, as AWS holds them;
    /// `None` without a budget.
    type Context = Option<BTreeMap<String, f64>>;

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value) -> Result<Vec<Problem>, String> {
        crate::tf::boundary::test_panic_hook(config.get("name").as_str());
        Ok(schema::validate(config))
    }

    fn settings(&self, state: &Value, configured: &Configured) -> Result<PlatformSettings, String> {
        Ok(settings(state, configured))
    }

    fn id(&self, settings: &PlatformSettings) -> String {
        settings.name.clone()
    }

    async fn context(
        &self,
        configured: &Configured,
        settings: &PlatformSettings,
    ) -> Result<Option<BTreeMap<String, f64>>, String> {
        // Listing and describing every service of the cluster is two more
        // rounds on every read, plan and destroy: only a platform with a
        // budget pays them.
        if settings.budget.is_none() {
            return Ok(None);
        }
        crate::aws::ecs::estimates::service_estimates(&configured.clients, &settings.name)
            .await
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn expand(
        &self,
        settings: &PlatformSettings,
        _: &Option<BTreeMap<String, f64>>,
    ) -> DesiredGraph {
        expand::expand(settings)
    }

    fn has_plan_warnings(&self, settings: &PlatformSettings) -> bool {
        settings.budget.is_some()
    }

    /// Removing `ingress` while microservices of the platform still have
    /// rules on its load balancer: a plan error naming them (AWS would
    /// refuse to delete the target groups their services use, and the
    /// services would lose their traffic).
    async fn plan_verdicts(
        &self,
        configured: &Configured,
        settings: &PlatformSettings,
        _: &Option<BTreeMap<String, f64>>,
    ) -> Vec<crate::budget_guard::Verdict> {
        let (None, Some(lb)) = (&settings.ingress, &settings.recorded_load_balancer) else {
            return Vec::new();
        };
        match crate::aws::elbv2::lookup::services_with_rules(&configured.clients, lb).await {
            Ok(owners) => ingress::removal_verdict(&settings.name, &owners)
                .into_iter()
                .collect(),
            // The apply says what AWS answered.
            Err(_) => Vec::new(),
        }
    }

    /// A budget about to be created filters on a cost allocation tag that
    /// AWS only filters on once it is activated in the billing console:
    /// said once, while the budget does not exist yet.
    async fn plan_warnings(
        &self,
        configured: &Configured,
        settings: &PlatformSettings,
        _: &Option<BTreeMap<String, f64>>,
    ) -> Vec<(String, String)> {
        if settings.budget.is_none() {
            return Vec::new();
        }
        let name = budget::budget_name(&settings.name, &settings.region);
        match crate::aws::budgets::find_budget(&configured.clients, &name).await {
            Ok(None) => vec![budget::activation_warning()],
            // Exists (told before), or unreadable (the apply says why).
            Ok(Some(_)) | Err(_) => Vec::new(),
        }
    }

    fn validate_on_backend(
        &self,
        config: &Value,
        configured: &Configured,
    ) -> Result<Vec<Problem>, String> {
        let mut problems = schema::validate_on(config, configured.service_mesh);
        if configured.service_mesh == ServiceMesh::AppMesh {
            problems.extend(ingress::on_app_mesh(config));
        }
        Ok(problems)
    }

    /// A platform just created or updated is where this apply's
    /// microservices go: they need not look it up.
    fn applied(&self, configured: &Configured, state: &Value) {
        let components = state.get("components");
        let recorded = |key: &str| component(components, key).as_str().map(str::to_string);
        let (Some(name), Some(ns_name)) =
            (state.get("name").as_str(), state.get("namespace").as_str())
        else {
            return;
        };
        let (Some(_), Some(ns_arn)) = (recorded("cluster"), recorded("namespace")) else {
            return;
        };
        let backend = mesh_of(state, configured);
        let complete = backend != ServiceMesh::AppMesh || recorded("mesh").is_some();
        remember_for_microservices(configured, name, backend, complete, &ns_arn, ns_name);
    }

    /// Gone: a later lookup in this process asks AWS again.
    fn destroyed(&self, configured: &Configured, settings: &PlatformSettings) {
        configured.platforms.forget(&settings.name);
    }

    fn plan_from_provider(&self, planned: &mut Value, configured: &Configured) {
        planned.set("service_mesh", configured.service_mesh.name().into());
    }

    /// States written before the provider had backends are App Mesh, the
    /// only one there was.
    fn upgrade(&self, state: &mut Value) {
        if !state.is_null() && state.get("service_mesh").is_null() {
            state.set("service_mesh", ServiceMesh::AppMesh.name().into());
        }
    }

    fn plan_known(&self, planned: &mut Value, settings: &PlatformSettings, _: &Configured) {
        let app_mesh = settings.service_mesh == ServiceMesh::AppMesh;
        if planned.get("namespace").is_null() {
            planned.set("namespace", DEFAULT_NAMESPACE.into());
        }
        if planned.get("container_insights").is_null() {
            planned.set("container_insights", true.into());
        }
        if planned.get("mesh_egress").is_null() && app_mesh {
            planned.set("mesh_egress", DEFAULT_MESH_EGRESS.into());
        }
        budget::plan_defaults(planned);
        planned.set(
            "budget_name",
            match (&settings.budget, planned.get("name").is_unknown()) {
                (None, _) => Value::Null,
                (Some(_), true) => Value::Unknown,
                (Some(_), false) => budget::budget_name(&settings.name, &settings.region).into(),
            },
        );
        // The microservices planned after it in this process judge their
        // plans against the budget as planned.
        crate::resources::planned_costs::plan_budget(
            &settings.region,
            &settings.name,
            settings.budget.as_ref().map(budget::guard_budget),
        );
        let name = planned.get("name").clone();
        planned.set("id", name.clone());
        planned.set("mesh_name", if app_mesh { name } else { Value::Null });
    }

    fn context_computed(
        &self,
        state: &mut Value,
        _: &PlatformSettings,
        estimates: Option<&Option<BTreeMap<String, f64>>>,
    ) {
        state.set(
            "estimated_monthly_cost",
            match estimates {
                Some(Some(e)) => crate::cost::round_cents(e.values().sum()).into(),
                Some(None) => Value::Null,
                None => Value::Unknown,
            },
        );
    }

    fn component_computed(&self, state: &mut Value, components: &Value) {
        state.set("cluster_arn", component(components, "cluster"));
        let namespace = component(components, "namespace");
        let id = match &namespace {
            Value::String(arn) => Value::str(namespace_id_from_arn(arn)),
            other => other.clone(),
        };
        state.set("namespace_arn", namespace);
        state.set("namespace_id", id);
        let lb = component(components, ingress::keys::LOAD_BALANCER);
        // The DNS name and zone are not in the ARN: a known load balancer
        // keeps what state says, and `computed_from_aws` reads them after
        // an apply or a refresh.
        for attr in ["ingress_dns_name", "ingress_zone_id"] {
            match &lb {
                Value::String(_) if !state.get(attr).is_null() => {}
                Value::String(_) | Value::Unknown => state.set(attr, Value::Unknown),
                _ => state.set(attr, Value::Null),
            }
        }
        state.set("ingress_arn", lb);
        state.set(
            "ingress_security_group_id",
            component(components, ingress::keys::SECURITY_GROUP),
        );
    }

    async fn computed_from_aws(&self, configured: &Configured, state: &mut Value) {
        let Some(arn) = state
            .get("components")
            .get(ingress::keys::LOAD_BALANCER)
            .as_str()
            .map(str::to_string)
        else {
            return;
        };
        let found = crate::aws::elbv2::load_balancer::dns_of(&configured.clients, &arn).await;
        let (dns, zone) = match found {
            Ok(Some((dns, zone))) => (Value::from(dns), Value::from(zone)),
            // Not found or unreadable: null rather than a value state
            // cannot hold after an apply; the next refresh reads it again.
            _ => (Value::Null, Value::Null),
        };
        state.set("ingress_dns_name", dns);
        state.set("ingress_zone_id", zone);
    }

    /// The cluster's Container Insights, the mesh's egress filter and the
    /// budget can be changed in place outside Terraform; name, VPC and
    /// namespace cannot.
    fn held_by_aws(&self, key: &str, _prior: &Value) -> bool {
        matches!(key, "container_insights" | "mesh_egress" | "budget")
    }

    async fn recover(
        &self,
        configured: &Configured,
        settings: &PlatformSettings,
        _: &Option<BTreeMap<String, f64>>,
    ) -> Result<Option<Recovered>, String> {
        Ok(find(configured, &settings.name, settings.service_mesh)
            .await?
            .map(|(recovered, _)| recovered))
    }

    fn check_import_id(&self, id: &str) -> Result<(), String> {
        schema::check_name(id).map_err(|why| format!("Import a platform by its name: terraform import matbakh_platform.NAME PLATFORM_NAME. {why}"))
    }

    async fn import(
        &self,
        configured: &Configured,
        id: &str,
    ) -> Result<(Value, Option<OwnerToken>), String> {
        let Some((recovered, found_platform)) =
            find(configured, id, configured.service_mesh).await?
        else {
            return Err(format!("no ECS cluster, mesh or Cloud Map namespace of a platform named {id:?} exists in this region"));
        };
        // The namespace's tags hold the platform's ownership token (the
        // cluster's and mesh's are the same one).
        let token = found_platform
            .namespace
            .as_ref()
            .and_then(|(_, _, tags)| crate::resources::ownership::token_found([tags]));
        let mut found = recovered;
        if configured.service_mesh == ServiceMesh::ServiceConnect {
            let ingress =
                ingress_import::find(&configured.clients, id, &configured.clients.region).await?;
            let (block, components) = ingress_import::recovered(&ingress);
            found.arguments.set("ingress", block);
            found.components.extend(components);
        }
        let mut state = found.arguments;
        // The backend it was built for: what exists says, else the provider's.
        let mesh = lookup::service_mesh(&found_platform).unwrap_or(configured.service_mesh.name());
        state.set("service_mesh", mesh.into());
        let resolved = settings(&state, configured);
        self.plan_known(&mut state, &resolved, configured);
        let components = crate::resources::lifecycle::components_value(&found.components);
        self.component_computed(&mut state, &components);
        state.set("components", components);
        Ok((state, token))
    }
}

#[cfg(test)]
mod read_tests;
