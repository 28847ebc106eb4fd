//! `terraform import` of a platform with `ingress`: the block and its
//! objects (security group, load balancer, listeners, and the role ECS
//! moves the ALB's traffic with) recovered from AWS, defaults left out the
//! way a configuration that omits them records them, so the plan after
//! import shows no changes. Only objects whose owner tag names the
//! platform are taken.
//!
//! Import only: a refresh keeps the configured block (an explicit default
//! would read as a change) and shows drift of the objects as theirs.

use super::ingress::{keys, DEFAULT_ALLOWED_CIDR, DEFAULT_SSL_POLICY, DEFAULT_TEST_PORT};
use super::roles;
use crate::aws::Clients;
use crate::engine::Resolved;
use crate::spec::ec2::{IngressRule, SecurityGroupSpec, Source};
use crate::spec::elbv2::{DefaultAction, ListenerSpec, LoadBalancerSpec};
use crate::spec::{Ref, Spec, Tags};
use crate::tf::value::Value;

/// What the load balancer, its group and its listeners say, read back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundIngress {
    pub load_balancer: Option<(LoadBalancerSpec, String)>,
    pub security_group: Option<(SecurityGroupSpec, String)>,
    pub listeners: Vec<(ListenerSpec, String)>,
    /// The traffic role's ARN.
    pub role: Option<String>,
}

/// The `ingress` block and the components of `found` (an empty list and
/// none without a load balancer).
pub fn recovered(found: &FoundIngress) -> (Value, Resolved) {
    let mut components = Resolved::new();
    let Some((lb, lb_arn)) = &found.load_balancer else {
        return (Value::List(vec![]), components);
    };
    components.insert(keys::LOAD_BALANCER.into(), lb_arn.clone());
    let production = found
        .listeners
        .iter()
        .find(|(l, _)| l.port == 443 && l.protocol == "HTTPS")
        .or_else(|| {
            found
                .listeners
                .iter()
                .find(|(l, _)| l.port == 80 && l.default_action != DefaultAction::RedirectToHttps)
        });
    let redirect = found
        .listeners
        .iter()
        .find(|(l, _)| l.port == 80 && l.default_action == DefaultAction::RedirectToHttps);
    let test = found
        .listeners
        .iter()
        .find(|(l, _)| l.port != 80 && l.port != 443);
    for (key, listener) in [
        (keys::LISTENER, production),
        (keys::REDIRECT_LISTENER, redirect),
        (keys::TEST_LISTENER, test),
    ] {
        if let Some((_, arn)) = listener {
            components.insert(key.into(), arn.clone());
        }
    }
    if let Some((_, id)) = &found.security_group {
        components.insert(keys::SECURITY_GROUP.into(), id.clone());
    }
    if let Some(arn) = &found.role {
        components.insert(roles::ALB_TRAFFIC_ROLE.into(), arn.clone());
    }
    let test_port = test.map(|(l, _)| l.port).unwrap_or(DEFAULT_TEST_PORT);
    let rules: &[IngressRule] = found
        .security_group
        .as_ref()
        .map(|(g, _)| g.ingress.as_slice())
        .unwrap_or_default();
    let cidrs_on = |port: u16| -> Vec<String> {
        let mut v: Vec<String> = rules
            .iter()
            .filter(|r| r.port == port)
            .filter_map(|r| match &r.source {
                Source::Cidr(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let strings = |v: &[String]| Value::List(v.iter().map(Value::str).collect());
    let allowed = cidrs_on(if production.is_some_and(|(l, _)| l.port == 443) {
        443
    } else {
        80
    });
    let test_cidrs = cidrs_on(test_port);
    let certificate = production.and_then(|(l, _)| l.certificate_arn.clone());
    let ssl_policy = production
        .and_then(|(l, _)| l.ssl_policy.clone())
        .filter(|p| p != DEFAULT_SSL_POLICY);
    let mut b = Value::Map(Default::default());
    b.set("subnet_ids", strings(&lb.subnet_ids));
    b.set("certificate_arn", certificate.map(Value::str).into());
    b.set("internal", lb.internal.then_some(true).into());
    b.set(
        "allowed_cidrs",
        if allowed == [DEFAULT_ALLOWED_CIDR] {
            Value::Null
        } else {
            strings(&allowed)
        },
    );
    b.set("ssl_policy", ssl_policy.map(Value::str).into());
    b.set(
        "idle_timeout",
        (lb.idle_timeout_seconds != 60)
            .then(|| Value::str(format!("{}s", lb.idle_timeout_seconds)))
            .into(),
    );
    b.set(
        "test_port",
        (test_port != DEFAULT_TEST_PORT)
            .then(|| Value::from(i64::from(test_port)))
            .into(),
    );
    b.set(
        "test_cidrs",
        if test_cidrs.is_empty() {
            Value::Null
        } else {
            strings(&test_cidrs)
        },
    );
    (Value::List(vec![b]), components)
}

/// Read platform `name`'s ingress objects in `region` (each only when its
/// owner tag names the platform).
pub async fn find(aws: &Clients, name: &str, region: &str) -> Result<FoundIngress, String> {
    let reading = |what: &str, e: crate::aws::AwsError| format!("reading ingress {what}: {e}");
    let owned = |tags: &Tags| tags.get(crate::spec::OWNER_TAG).map(String::as_str) == Some(name);
    let probe = LoadBalancerSpec {
        name: name.to_string(),
        internal: false,
        subnet_ids: Vec::new(),
        security_group: Ref(String::new()),
        idle_timeout_seconds: 0,
        tags: Tags::new(),
    };
    let Some(lb) = probe
        .read_back(aws)
        .await
        .map_err(|e| reading("load balancer", e))?
        .filter(|f| owned(&f.spec.tags))
    else {
        return Ok(FoundIngress::default());
    };
    let listeners = crate::aws::elbv2::listener::on_load_balancer(aws, &lb.id)
        .await
        .map_err(|e| reading("listeners", e))?
        .into_iter()
        .map(|f| (f.spec, f.id))
        .collect();
    let group_probe = SecurityGroupSpec {
        name: format!("{name}-ingress"),
        description: String::new(),
        subnet_id: lb.spec.subnet_ids.first().cloned().unwrap_or_default(),
        ingress: Vec::new(),
        tags: Tags::new(),
    };
    let security_group = group_probe
        .read_back(aws)
        .await
        .map_err(|e| reading("security group", e))?
        .filter(|f| owned(&f.spec.tags))
        .map(|f| (f.spec, f.id));
    let role_probe =
        roles::alb_traffic_role(name, region, "", roles::partition(region), &Tags::new());
    let role = role_probe
        .read_back(aws)
        .await
        .map_err(|e| reading("traffic role", e))?
        .filter(|f| Spec::Role(f.spec.clone()).owner() == Some(name))
        .map(|f| f.id);
    Ok(FoundIngress {
        load_balancer: Some((lb.spec, lb.id)),
        security_group,
        listeners,
        role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "arn:aws:acm:eu-central-1:1:certificate/abc";

    fn listener(port: u16, protocol: &str, action: DefaultAction) -> (ListenerSpec, String) {
        (
            ListenerSpec {
                load_balancer: Ref("lb".into()),
                port,
                protocol: protocol.into(),
                certificate_arn: (protocol == "HTTPS").then(|| CERT.to_string()),
                ssl_policy: (protocol == "HTTPS").then(|| DEFAULT_SSL_POLICY.to_string()),
                default_action: action,
                tags: Tags::new(),
            },
            format!("listener-{port}"),
        )
    }

    fn found(allowed: &str, test: &[&str], idle: u32) -> FoundIngress {
        let mut rules: Vec<IngressRule> = [80, 443]
            .into_iter()
            .map(|port| IngressRule {
                port,
                source: Source::Cidr(allowed.into()),
            })
            .collect();
        rules.extend(test.iter().map(|c| IngressRule {
            port: 8443,
            source: Source::Cidr(c.to_string()),
        }));
        let not_found = DefaultAction::FixedResponse { status: 404 };
        FoundIngress {
            load_balancer: Some((
                LoadBalancerSpec {
                    name: "matbakh".into(),
                    internal: false,
                    subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
                    security_group: Ref("sg-1".into()),
                    idle_timeout_seconds: idle,
                    tags: Tags::new(),
                },
                "lb-arn".into(),
            )),
            security_group: Some((
                SecurityGroupSpec {
                    name: "matbakh-ingress".into(),
                    description: String::new(),
                    subnet_id: "subnet-a".into(),
                    ingress: rules,
                    tags: Tags::new(),
                },
                "sg-1".into(),
            )),
            listeners: vec![
                listener(443, "HTTPS", not_found.clone()),
                listener(80, "HTTP", DefaultAction::RedirectToHttps),
                listener(8443, "HTTPS", not_found),
            ],
            role: Some("arn:aws:iam::1:role/matbakh-eu-central-1-alb-traffic".into()),
        }
    }

    #[test]
    fn every_object_is_recorded_and_the_traffic_role_too() {
        let (block, components) = recovered(&found("0.0.0.0/0", &[], 60));
        assert_eq!(
            components.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                roles::ALB_TRAFFIC_ROLE,
                keys::LISTENER,
                keys::LOAD_BALANCER,
                keys::REDIRECT_LISTENER,
                keys::SECURITY_GROUP,
                keys::TEST_LISTENER
            ]
        );
        assert_eq!(components[keys::LISTENER], "listener-443");
        assert_eq!(components[keys::TEST_LISTENER], "listener-8443");
        let Value::List(b) = block else { panic!() };
        // Defaults left out.
        for k in [
            "internal",
            "allowed_cidrs",
            "ssl_policy",
            "idle_timeout",
            "test_port",
            "test_cidrs",
        ] {
            assert!(b[0].get(k).is_null(), "{k}");
        }
        assert_eq!(b[0].get("certificate_arn").as_str(), Some(CERT));
    }

    #[test]
    fn settings_other_than_the_defaults_are_recovered() {
        let (block, _) = recovered(&found("10.0.0.0/8", &["192.168.0.0/16"], 120));
        let Value::List(b) = block else { panic!() };
        assert_eq!(
            b[0].get("allowed_cidrs"),
            &Value::List(vec![Value::str("10.0.0.0/8")])
        );
        assert_eq!(
            b[0].get("test_cidrs"),
            &Value::List(vec![Value::str("192.168.0.0/16")])
        );
        assert_eq!(b[0].get("idle_timeout").as_str(), Some("120s"));
    }

    #[test]
    fn no_load_balancer_no_block() {
        let (block, components) = recovered(&FoundIngress::default());
        assert_eq!(block, Value::List(vec![]));
        assert!(components.is_empty());
    }
}
