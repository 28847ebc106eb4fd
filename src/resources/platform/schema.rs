//! `matbakh_platform`: its schema and plan-time validation.

use tf_provider::schema::Schema;

use crate::service_mesh::ServiceMesh;
use crate::tf::schema::{block, string_map, timeouts_block, Type};
use crate::tf::value::Value;
use crate::validation::Problem;

pub const DEFAULT_NAMESPACE: &str = "svc.local";
pub const DEFAULT_MESH_EGRESS: &str = "DROP_ALL";
pub const MESH_EGRESS_VALUES: [&str; 2] = ["DROP_ALL", "ALLOW_ALL"];
/// Platform names flow into the cluster, the mesh, every microservice's id
/// (`PLATFORM/NAME`), log group names and alarm names; 32 characters keeps
/// all of those well inside AWS's limits.
pub const MAX_NAME_LENGTH: usize = 32;
/// On Service Connect every microservice's client alias is
/// `NAME.NAMESPACE`, at most 127 characters; with names of up to 56
/// characters the namespace may have 127 - 56 - 1 = 70.
pub const MAX_SERVICE_CONNECT_NAMESPACE_LENGTH: usize = 70;

pub fn schema() -> Schema {
    block("The shared base of one region and environment that every microservice joins. With `service_mesh = \"service_connect\"` (the default): an ECS cluster (Fargate and Fargate Spot, Container Insights) whose Service Connect default namespace is a Cloud Map HTTP namespace, referenced by ARN. With `app_mesh`: the cluster, an App Mesh mesh and a Cloud Map private DNS namespace in `vpc_id`.")
        .required("name", Type::String, "Name of the platform; the ECS cluster and the mesh are named after it. Letters, digits and hyphens, starting with a letter, at most 32 characters. Changing it replaces the platform.")
        .optional("vpc_id", Type::String, "`app_mesh` only, and required there: VPC of the private DNS namespace (`vpc-…`). An HTTP namespace (service_connect) has no VPC, so it is an error there. Changing it replaces the platform.")
        .defaulted("namespace", Type::String, "Name of the Cloud Map namespace: an HTTP namespace on service_connect (at most 70 characters, so every `NAME.NAMESPACE` client alias fits ECS's 127), a private DNS namespace on app_mesh. Default `svc.local`. Changing it replaces the platform.")
        .defaulted("container_insights", Type::Bool, "CloudWatch Container Insights on the cluster. Default `true`.")
        .defaulted("mesh_egress", Type::String, "`app_mesh` only: egress filter of the mesh, `DROP_ALL` (default) or `ALLOW_ALL`. An error on service_connect, which has no mesh.")
        .optional("tags", string_map(), "Tags for this platform's objects, merged over the provider's `default_tags` (these win). At most 45 with `default_tags` together (AWS allows 50 per object; the provider adds up to five of its own: `matbakh:owner`, `matbakh:owner-token`, `matbakh:platform`, …), keys 1-128 and values 0-256 characters, no `aws:` or `matbakh:` prefix.")
        .computed("tags_all", string_map(), "The tags every object carries: `default_tags` merged with `tags`, besides the provider's own (`matbakh:owner`).")
        .computed("id", Type::String, "The platform's name; what microservices reference and what `terraform import` takes.")
        .computed("cluster_arn", Type::String, "ARN of the ECS cluster.")
        .computed("mesh_name", Type::String, "Name of the App Mesh mesh (app_mesh); null on service_connect.")
        .computed("service_mesh", Type::String, "The backend the platform was built for: the provider's `service_mesh`. Changing the provider's replaces the platform.")
        .computed("namespace_id", Type::String, "Id of the Cloud Map namespace (`ns-…`).")
        .computed("namespace_arn", Type::String, "ARN of the Cloud Map namespace.")
        .computed("components", string_map(), "Every AWS object of the platform: `cluster`, `mesh`, `namespace`, `budget` to its ARN; with `ingress` also `ingress_load_balancer` and its listeners (`ingress_listener`, `ingress_redirect_listener`, `ingress_test_listener`) to their ARNs and `ingress_security_group` to its id.")
        .computed("estimated_monthly_cost", Type::Number, "With a `budget` block: estimated USD per month of the platform's microservices, the sum of their `estimated_monthly_cost`, read from the tag each writes on its ECS service (so services of every Terraform state count); null without one.")
        .computed("budget_name", Type::String, "Name of the AWS Budgets budget (`matbakh-NAME-REGION`); null without a `budget` block.")
        .computed("drift", string_map(), "Deprecated, always empty: kept so states written by earlier versions load. Drift shows as argument values and plan warnings now.")
        .computed("ingress_dns_name", Type::String, "With `ingress`: the load balancer's DNS name.")
        .computed("ingress_zone_id", Type::String, "With `ingress`: the load balancer's Route 53 hosted zone id, for an alias record.")
        .computed("ingress_arn", Type::String, "With `ingress`: the load balancer's ARN.")
        .computed("ingress_security_group_id", Type::String, "With `ingress`: the load balancer's security group (`sg-…`), made by the provider; a service admits it on its port.")
        .single_block("budget", super::budget::schema())
        .single_block("ingress", super::ingress::schema_block())
        .single_block("timeouts", timeouts_block("20m"))
        .schema(0)
}

/// Whether `name` is a valid platform name.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name must not be empty.".into());
    }
    if name.len() > MAX_NAME_LENGTH {
        return Err(format!(
            "name is {} characters long; at most {MAX_NAME_LENGTH} are allowed.",
            name.len()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("{name:?} must start with a letter."));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "{name:?} contains {bad:?}; only letters, digits and hyphens are allowed."
        ));
    }
    if name.ends_with('-') {
        return Err(format!("{name:?} must not end with a hyphen."));
    }
    Ok(())
}

/// A DNS name such as `svc.local`: dot-separated labels of lowercase
/// letters, digits and hyphens, each 1-63 characters, 253 in all.
pub fn check_dns_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 253 {
        return Err("a DNS name of 1 to 253 characters is required.".into());
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "{name:?} is not a DNS name: each dot-separated label must be 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen."
            ));
        }
    }
    Ok(())
}

pub fn check_vpc_id(id: &str) -> Result<(), String> {
    let hex = id.strip_prefix("vpc-").unwrap_or("");
    if (hex.len() == 8 || hex.len() == 17)
        && hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not a VPC id; it looks like \"vpc-0123456789abcdef0\"."
        ))
    }
}

pub fn validate(config: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(name) = config.get("name").as_str() {
        if let Err(why) = check_name(name) {
            problems.push(Problem::at("name", "Invalid platform name", why));
        }
    }
    if let Some(vpc) = config.get("vpc_id").as_str() {
        if let Err(why) = check_vpc_id(vpc) {
            problems.push(Problem::at("vpc_id", "Invalid VPC id", why));
        }
    }
    if let Some(ns) = config.get("namespace").as_str() {
        if let Err(why) = check_dns_name(ns) {
            problems.push(Problem::at("namespace", "Invalid namespace", why));
        }
    }
    if let Some(egress) = config.get("mesh_egress").as_str() {
        if !MESH_EGRESS_VALUES.contains(&egress) {
            problems.push(Problem::at(
                "mesh_egress",
                "Invalid mesh_egress",
                format!("mesh_egress must be DROP_ALL or ALLOW_ALL, not {egress:?}."),
            ));
        }
    }
    problems.extend(super::budget::validate(config));
    problems.extend(super::ingress::validate(config));
    problems.extend(crate::resources::lifecycle::validate_timeouts(config));
    // The tags alone; with the provider's default_tags at plan.
    problems.extend(crate::resources::tags::check_tags(
        "tags",
        &crate::resources::tags::known_tags(config.get("tags")),
    ));
    problems
}

/// The problems of `config` on the backend `mesh` (the provider's
/// `service_mesh`, known at plan), each naming the attribute and backend.
pub fn validate_on(config: &Value, mesh: ServiceMesh) -> Vec<Problem> {
    let mut problems = Vec::new();
    let set = |k: &str| !config.get(k).is_null();
    match mesh {
        ServiceMesh::ServiceConnect => {
            for (attr, why) in [
                (
                    "mesh_egress",
                    "there is no mesh; Service Connect lets tasks reach any address",
                ),
                (
                    "vpc_id",
                    "the Cloud Map HTTP namespace Service Connect uses has no VPC",
                ),
            ] {
                if set(attr) {
                    problems.push(Problem::at(
                        attr,
                        format!("{attr} is not available on service_connect"),
                        format!("{attr} has no meaning with service_mesh = \"service_connect\": {why}; remove it (or use service_mesh = \"app_mesh\")."),
                    ));
                }
            }
            if let Some(ns) = config.get("namespace").as_str() {
                if ns.len() > MAX_SERVICE_CONNECT_NAMESPACE_LENGTH {
                    problems.push(Problem::at(
                        "namespace",
                        "Namespace too long for Service Connect",
                        format!("namespace is {} characters long; on service_connect at most {MAX_SERVICE_CONNECT_NAMESPACE_LENGTH}, so that every microservice's client alias NAME.NAMESPACE fits ECS's 127 characters.", ns.len()),
                    ));
                }
            }
        }
        ServiceMesh::AppMesh => {
            if config.get("vpc_id").is_null() {
                problems.push(Problem::at(
                    "vpc_id",
                    "Missing vpc_id",
                    "with service_mesh = \"app_mesh\" the platform's private DNS namespace needs a VPC: set vpc_id.",
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_without_meaning_on_the_backend_are_named_with_it() {
        let mut c = config(&[
            ("name", "matbakh"),
            ("vpc_id", "vpc-1234abcd"),
            ("mesh_egress", "ALLOW_ALL"),
        ]);
        let sc = validate_on(&c, ServiceMesh::ServiceConnect);
        let paths: Vec<String> = sc.iter().map(|p| p.dotted()).collect();
        assert_eq!(paths, ["mesh_egress", "vpc_id"]);
        assert!(sc.iter().all(|p| p.detail.contains("service_connect")));
        assert!(validate_on(&c, ServiceMesh::AppMesh).is_empty());
        c.set("vpc_id", Value::Null);
        let am = validate_on(&c, ServiceMesh::AppMesh);
        assert_eq!(am.len(), 1);
        assert_eq!(am[0].dotted(), "vpc_id");
        let long = config(&[("namespace", &format!("{}.local", "a".repeat(66)))]);
        let p = validate_on(&long, ServiceMesh::ServiceConnect);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].dotted(), "namespace");
    }
    use std::collections::BTreeMap;

    fn config(pairs: &[(&str, &str)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::str(*v)))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn paths(c: &Value) -> Vec<String> {
        validate(c).iter().map(Problem::dotted).collect()
    }

    #[test]
    fn valid_platform() {
        assert!(paths(&config(&[
            ("name", "matbakh"),
            ("vpc_id", "vpc-0123456789abcdef0"),
            ("namespace", "svc.local"),
            ("mesh_egress", "ALLOW_ALL")
        ]))
        .is_empty());
    }

    #[test]
    fn names() {
        assert_eq!(paths(&config(&[("name", "")])), vec!["name"]);
        assert_eq!(paths(&config(&[("name", "bad name!")])), vec!["name"]);
        assert_eq!(paths(&config(&[("name", "1abc")])), vec!["name"]);
        assert_eq!(paths(&config(&[("name", "abc-")])), vec!["name"]);
        assert_eq!(paths(&config(&[("name", &"a".repeat(33))])), vec!["name"]);
        assert!(paths(&config(&[("name", &"a".repeat(32))])).is_empty());
    }

    #[test]
    fn vpc_namespace_and_egress() {
        assert_eq!(paths(&config(&[("vpc_id", "vpc-12")])), vec!["vpc_id"]);
        assert!(paths(&config(&[("vpc_id", "vpc-1234abcd")])).is_empty());
        assert_eq!(
            paths(&config(&[("namespace", "Svc.local")])),
            vec!["namespace"]
        );
        assert_eq!(
            paths(&config(&[("namespace", "svc..local")])),
            vec!["namespace"]
        );
        assert_eq!(
            paths(&config(&[("mesh_egress", "SOMETIMES")])),
            vec!["mesh_egress"]
        );
    }

    #[test]
    fn bad_timeouts() {
        let mut c = config(&[]);
        c.set("timeouts", Value::List(vec![config(&[("create", "soon")])]));
        assert_eq!(paths(&c), vec!["timeouts.0.create"]);
    }
}
