//! The `matbakh` provider block: where AWS is, which environment, which tags.

use std::collections::HashMap;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{Diagnostics, DynamicDataSource, DynamicResource, Provider};

use crate::aws::clients::{ConnectionSettings, Endpoints};
use crate::aws::credentials::AssumeRole;
use crate::aws::Clients;
use crate::environment::Environment;
use crate::service_mesh::ServiceMesh;
use crate::tf::diagnostics::report;
use crate::tf::schema::{block, string_map, Type};
use crate::tf::value::{normalized, Value};
use crate::validation::Problem;

use crate::resources::context::{Configured, ProviderContext};
use crate::resources::tags::string_map_value;

/// Services whose endpoint can be overridden one by one.
pub const ENDPOINT_SERVICES: [&str; 9] = [
    "ecs",
    "appmesh",
    "servicediscovery",
    "cloudwatch",
    "logs",
    "applicationautoscaling",
    "budgets",
    "sts",
    "iam",
];

/// Default for `max_retries`: AWS's standard mode makes 3 attempts; a
/// provider that waits minutes for deployments can afford more patience
/// with throttling.
pub const DEFAULT_MAX_RETRIES: i64 = 10;

/// Default `environment` when the provider block names none: production's
/// defaults are the cautious ones (no spot capacity, 30-day logs).
pub const DEFAULT_ENVIRONMENT: Environment = Environment::Production;

pub struct MatbakhProvider {
    pub context: ProviderContext,
}

impl MatbakhProvider {
    pub fn new() -> Self {
        MatbakhProvider {
            context: ProviderContext::default(),
        }
    }
}

impl Default for MatbakhProvider {
    fn default() -> Self {
        Self::new()
    }
}

pub fn provider_schema() -> Schema {
    let mut endpoints =
        block("Per-service endpoint overrides; each wins over `endpoint` for its service.");
    for service in ENDPOINT_SERVICES {
        endpoints = endpoints.optional(
            service,
            Type::String,
            &format!("Endpoint URL for the `{service}` API."),
        );
    }
    block(concat!("The matbakh provider ", env!("CARGO_PKG_VERSION"), ": one block per AWS region (use `alias` for more)."))
        .optional("region", Type::String, "AWS region, e.g. `eu-central-1`. Else `AWS_REGION` or the profile's region, as the AWS SDK resolves it.")
        .optional("environment", Type::String, "`development`, `staging` or `production` (default). Drives the spot share, log retention and trace sampling defaults.")
        .optional("profile", Type::String, "Named profile of the shared AWS config files. Credentials always come from the standard AWS chain.")
        .optional("endpoint", Type::String, "One endpoint URL for every AWS API, e.g. an emulator at `http://127.0.0.1:4566`.")
        .optional("service_mesh", Type::String, "How services find and call each other: `service_connect` (default; ECS Service Connect in a Cloud Map HTTP namespace) or `app_mesh` (App Mesh and Envoy sidecars; AWS discontinued App Mesh on 2026-09-30, so it cannot be deployed on AWS today). Arguments without meaning on the chosen backend are errors at plan.")
        .optional("default_tags", string_map(), "Tags put on every AWS object the provider creates.")
        .optional("max_retries", Type::Number, "How often a throttled or failed AWS call is retried (standard mode, exponential backoff with full jitter; a whole number from 0 to 100). Default `10`.")
        .optional("skip_credentials_validation", Type::Bool, "Skip the check at configure that the credentials work (STS `GetCallerIdentity`). Default `false`.")
        .optional("allowed_account_ids", Type::Set(Box::new(Type::String)), "The only AWS account ids the credentials may belong to; configure fails for any other account.")
        .single_block("endpoints", endpoints)
        .single_block(
            "assume_role",
            block("Assume this IAM role (STS `AssumeRole`) with the credentials of the standard chain; every AWS call then uses the role's credentials.")
                .required("role_arn", Type::String, "ARN of the role, e.g. `arn:aws:iam::123456789012:role/deployer`.")
                .optional("session_name", Type::String, "Session name recorded in CloudTrail. Default `terraform-provider-matbakh`.")
                .optional("external_id", Type::String, "External id the role's trust policy requires."),
        )
        .schema(0)
}

/// Problems with a provider block, each naming its attribute.
pub fn validate_config(config: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(env) = config.get("environment").as_str() {
        if Environment::parse(env).is_none() {
            problems.push(Problem::at(
                "environment",
                "Invalid environment",
                format!(
                    "environment must be one of {}, not {env:?}.",
                    Environment::NAMES.join(", ")
                ),
            ));
        }
    }
    if let Some(mesh) = config.get("service_mesh").as_str() {
        if ServiceMesh::parse(mesh).is_none() {
            problems.push(Problem::at(
                "service_mesh",
                "Invalid service_mesh",
                format!(
                    "service_mesh must be one of {}, not {mesh:?}.",
                    ServiceMesh::NAMES.join(", ")
                ),
            ));
        }
    }
    if let Some(region) = config.get("region").as_str() {
        if !is_region(region) {
            problems.push(Problem::at(
                "region",
                "Invalid region",
                format!("{region:?} is not an AWS region name such as \"eu-central-1\"."),
            ));
        }
    }
    if let Some(url) = config.get("endpoint").as_str() {
        if let Err(why) = check_endpoint(url) {
            problems.push(Problem::at("endpoint", "Invalid endpoint URL", why));
        }
    }
    let endpoints = config.block("endpoints");
    for service in ENDPOINT_SERVICES {
        if let Some(url) = endpoints.get(service).as_str() {
            if let Err(why) = check_endpoint(url) {
                problems.push(Problem::at(
                    &format!("endpoints.0.{service}"),
                    "Invalid endpoint URL",
                    why,
                ));
            }
        }
    }
    problems.extend(crate::resources::tags::check_tags(
        "default_tags",
        &crate::resources::tags::known_tags(config.get("default_tags")),
    ));
    let role = config.block("assume_role");
    if let Some(arn) = role.get("role_arn").as_str() {
        if !is_role_arn(arn) {
            problems.push(Problem::at(
                "assume_role.0.role_arn",
                "Invalid role_arn",
                format!("{arn:?} is not an IAM role ARN such as \"arn:aws:iam::123456789012:role/deployer\"."),
            ));
        }
    }
    if let Some(name) = role.get("session_name").as_str() {
        let ok = (2..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c));
        if !ok {
            problems.push(Problem::at(
                "assume_role.0.session_name",
                "Invalid session_name",
                "session_name must be 2 to 64 characters of letters, digits and =,.@-_ (AWS's RoleSessionName).",
            ));
        }
    }
    if let Value::List(ids) = config.get("allowed_account_ids") {
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = id.as_str() {
                if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
                    problems.push(Problem::at(
                        &format!("allowed_account_ids.{i}"),
                        "Invalid account id",
                        format!("{id:?} is not an AWS account id (12 digits)."),
                    ));
                }
            }
        }
    }
    match config.get("max_retries") {
        Value::Number(n) if n.as_i64().is_some_and(|n| (0..=100).contains(&n)) => {}
        Value::Null | Value::Unknown => {}
        other => problems.push(Problem::at(
            "max_retries",
            "Invalid max_retries",
            format!(
                "max_retries must be a whole number from 0 to 100, not {}.",
                match other {
                    Value::Number(n) => n.to_string(),
                    other => format!("{:?}", other.to_json()),
                }
            ),
        )),
    }
    problems
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].len() > "role/".len()
        && parts[5].starts_with("role/")
}

fn is_region(region: &str) -> bool {
    // e.g. eu-central-1, us-gov-west-1, ap-southeast-3
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn check_endpoint(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| {
        format!("{text:?} is not a URL ({e}); write e.g. \"http://127.0.0.1:4566\".")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?}: the scheme must be http or https."));
    }
    if url.host_str().unwrap_or_default().is_empty() {
        return Err(format!("{text:?} has no host."));
    }
    Ok(())
}

fn string_or_none(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

pub fn connection_settings(config: &Value) -> ConnectionSettings {
    let e = config.block("endpoints");
    ConnectionSettings {
        region: string_or_none(config.get("region")),
        profile: string_or_none(config.get("profile")),
        endpoint: string_or_none(config.get("endpoint")),
        endpoints: Endpoints {
            ecs: string_or_none(e.get("ecs")),
            appmesh: string_or_none(e.get("appmesh")),
            servicediscovery: string_or_none(e.get("servicediscovery")),
            cloudwatch: string_or_none(e.get("cloudwatch")),
            logs: string_or_none(e.get("logs")),
            applicationautoscaling: string_or_none(e.get("applicationautoscaling")),
            budgets: string_or_none(e.get("budgets")),
            sts: string_or_none(e.get("sts")),
            iam: string_or_none(e.get("iam")),
        },
        skip_credentials_validation: config
            .get("skip_credentials_validation")
            .as_bool()
            .unwrap_or(false),
        allowed_account_ids: match config.get("allowed_account_ids") {
            Value::List(ids) => ids
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        },
        assume_role: {
            let r = config.block("assume_role");
            string_or_none(r.get("role_arn")).map(|role_arn| AssumeRole {
                role_arn,
                session_name: string_or_none(r.get("session_name")),
                external_id: string_or_none(r.get("external_id")),
            })
        },
        max_retries: config
            .get("max_retries")
            .as_number()
            .and_then(|n| n.as_i64())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_MAX_RETRIES as u32),
    }
}

#[async_trait]
impl Provider for MatbakhProvider {
    type Config<'a> = Value;
    type MetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(provider_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        let config = normalized(config, &provider_schema().block);
        report(diags, validate_config(&config));
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: Value,
    ) -> Option<()> {
        tracing::info!(terraform_version, "configuring matbakh provider");
        let config = normalized(config, &provider_schema().block);
        let problems = validate_config(&config);
        if !problems.is_empty() {
            report(diags, problems);
            return None;
        }
        let environment = config
            .get("environment")
            .as_str()
            .and_then(Environment::parse)
            .unwrap_or(DEFAULT_ENVIRONMENT);
        let service_mesh = config
            .get("service_mesh")
            .as_str()
            .and_then(ServiceMesh::parse)
            .unwrap_or_default();
        let settings = connection_settings(&config);
        // Endpoints are logged, credentials never are: they stay inside the
        // SDK's credential chain.
        tracing::debug!(
            region = settings.region.as_deref().unwrap_or("(from environment)"),
            endpoint = settings.endpoint.as_deref().unwrap_or("(AWS)"),
            environment = environment.name(),
            service_mesh = service_mesh.name(),
            max_retries = settings.max_retries,
            "provider settings"
        );
        match Clients::connect(&settings).await {
            Ok(clients) => {
                self.context.set(Configured {
                    clients,
                    environment,
                    default_tags: string_map_value(config.get("default_tags")),
                    service_mesh,
                    platforms: Default::default(),
                    confirm_platforms: true,
                });
                Some(())
            }
            Err(e) => {
                crate::tf::diagnostics::error(diags, "Cannot configure AWS access", e);
                None
            }
        }
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        let mut resources: HashMap<String, Box<dyn DynamicResource>> = HashMap::new();
        resources.insert(
            "platform".into(), // served as matbakh_platform
            Box::new(crate::resources::platform::PlatformResource::new(
                self.context.clone(),
            )),
        );
        resources.insert(
            "microservice".into(), // served as matbakh_microservice
            Box::new(crate::resources::microservice::MicroserviceResource::new(
                self.context.clone(),
            )),
        );
        resources.insert(
            "canary".into(), // served as matbakh_canary
            Box::new(crate::resources::canary::CanaryResource::new(
                self.context.clone(),
            )),
        );
        Some(resources)
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        Some(crate::resources::data_sources::all(&self.context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn config(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn an_unknown_service_mesh_names_the_attribute() {
        let p = validate_config(&config(&[("service_mesh", "istio".into())]));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].dotted(), "service_mesh");
        assert!(
            p[0].detail.contains("service_connect, app_mesh"),
            "{}",
            p[0].detail
        );
        for ok in ServiceMesh::NAMES {
            assert!(validate_config(&config(&[("service_mesh", ok.into())])).is_empty());
        }
    }

    #[test]
    fn a_good_config_has_no_problems() {
        let c = config(&[
            ("region", "eu-central-1".into()),
            ("environment", "staging".into()),
            ("endpoint", "http://127.0.0.1:4566".into()),
        ]);
        assert!(validate_config(&c).is_empty());
    }

    #[test]
    fn unknown_environment_names_the_attribute() {
        let p = validate_config(&config(&[("environment", "prod".into())]));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].dotted(), "environment");
    }

    #[test]
    fn malformed_endpoints_name_the_attribute() {
        let c = config(&[
            ("endpoint", "not a url".into()),
            (
                "endpoints",
                Value::List(vec![config(&[("appmesh", "ftp://x".into())])]),
            ),
        ]);
        let paths: Vec<String> = validate_config(&c).iter().map(Problem::dotted).collect();
        assert_eq!(paths, vec!["endpoint", "endpoints.0.appmesh"]);
    }

    #[test]
    fn max_retries_must_be_whole_and_in_range() {
        for bad in ["0.1", "-1", "101", "2147483648", "1e400"] {
            // As Terraform sends it: exact decimal text, which the schema
            // turns into a number.
            let c = normalized(
                config(&[("max_retries", bad.into())]),
                &provider_schema().block,
            );
            let p = validate_config(&c);
            assert_eq!(p.len(), 1, "{bad}");
            assert_eq!(p[0].dotted(), "max_retries");
        }
        let c = config(&[("max_retries", 0i64.into())]);
        assert!(validate_config(&c).is_empty());
        assert_eq!(connection_settings(&c).max_retries, 0);
    }

    #[test]
    fn role_arns_are_checked_at_plan() {
        for good in [
            "arn:aws:iam::123456789012:role/deployer",
            "arn:aws-us-gov:iam::123456789012:role/path/to/x",
        ] {
            assert!(is_role_arn(good), "{good}");
        }
        for bad in [
            "deployer",
            "arn:aws:iam::12345:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
        let c = config(&[(
            "assume_role",
            Value::List(vec![config(&[("role_arn", "deployer".into())])]),
        )]);
        let p = validate_config(&c);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].dotted(), "assume_role.0.role_arn");
        let c = config(&[(
            "allowed_account_ids",
            Value::List(vec!["123456789012".into(), "12".into()]),
        )]);
        assert_eq!(validate_config(&c)[0].dotted(), "allowed_account_ids.1");
    }

    #[test]
    fn credential_settings() {
        let c = config(&[
            ("skip_credentials_validation", true.into()),
            (
                "allowed_account_ids",
                Value::List(vec!["123456789012".into()]),
            ),
            (
                "assume_role",
                Value::List(vec![config(&[
                    ("role_arn", "arn:aws:iam::123456789012:role/x".into()),
                    ("external_id", "e".into()),
                ])]),
            ),
            (
                "endpoints",
                Value::List(vec![config(&[("sts", "http://s:1".into())])]),
            ),
        ]);
        let s = connection_settings(&c);
        assert!(s.skip_credentials_validation);
        assert_eq!(s.allowed_account_ids, vec!["123456789012"]);
        assert_eq!(
            s.assume_role,
            Some(AssumeRole {
                role_arn: "arn:aws:iam::123456789012:role/x".into(),
                session_name: None,
                external_id: Some("e".into()),
            })
        );
        assert_eq!(s.endpoints.sts.as_deref(), Some("http://s:1"));
    }

    #[test]
    fn region_names() {
        for good in ["eu-central-1", "us-gov-west-1", "ap-southeast-3"] {
            assert!(is_region(good), "{good}");
        }
        for bad in ["eu", "EU-central-1", "eu-central", "eu central 1", "eu--1"] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let c = config(&[
            ("environment", Value::Unknown),
            ("endpoint", Value::Unknown),
        ]);
        assert!(validate_config(&c).is_empty());
    }

    #[test]
    fn per_service_endpoint_wins_over_the_shared_one() {
        let c = config(&[
            ("endpoint", "http://a:1".into()),
            (
                "endpoints",
                Value::List(vec![config(&[("ecs", "http://b:2".into())])]),
            ),
        ]);
        let s = connection_settings(&c);
        assert_eq!(s.endpoint.as_deref(), Some("http://a:1"));
        assert_eq!(s.endpoints.ecs.as_deref(), Some("http://b:2"));
        assert_eq!(s.max_retries, 10);
    }
}
