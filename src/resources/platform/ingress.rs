//! The platform's `ingress` block: an Application Load Balancer the
//! platform's services share, its security group and its listeners.
//! Schema, settings, plan-time checks and the (pure) components.

use crate::spec::ec2::{IngressRule, SecurityGroupSpec, Source};
use crate::spec::elbv2::{DefaultAction, ListenerSpec, LoadBalancerSpec};
use crate::spec::{Component, Ref, Spec, Tags};
use crate::tf::schema::{block, string_set, BlockBuilder, Type};
use crate::tf::value::Value;
use crate::validation::{parse_duration, Problem};

pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
pub const DEFAULT_IDLE_TIMEOUT: &str = "60s";
pub const DEFAULT_TEST_PORT: u16 = 8443;
pub const DEFAULT_ALLOWED_CIDR: &str = "0.0.0.0/0";

/// Component keys: what `components` records and microservices refer to.
pub mod keys {
    pub const SECURITY_GROUP: &str = "ingress_security_group";
    pub const LOAD_BALANCER: &str = "ingress_load_balancer";
    /// The listener production traffic reaches: HTTPS on 443 with a
    /// certificate, HTTP on 80 without (an internal ALB).
    pub const LISTENER: &str = "ingress_listener";
    /// HTTP on 80 answering 301 to HTTPS (only with a certificate).
    pub const REDIRECT_LISTENER: &str = "ingress_redirect_listener";
    /// A new revision's test traffic, on `test_port`.
    pub const TEST_LISTENER: &str = "ingress_test_listener";
}

/// The `ingress` block with defaults applied. Its arguments are optional,
/// not computed: an argument taken out of the configuration goes back to its
/// default (a computed one would keep the prior value).
#[derive(Clone, Debug, PartialEq)]
pub struct IngressSettings {
    /// Sorted.
    pub subnet_ids: Vec<String>,
    pub certificate_arn: Option<String>,
    pub internal: bool,
    /// Sorted.
    pub allowed_cidrs: Vec<String>,
    pub ssl_policy: String,
    pub idle_timeout_seconds: u32,
    pub test_port: u16,
    /// Sorted.
    pub test_cidrs: Vec<String>,
}

pub fn schema_block() -> BlockBuilder {
    block("An Application Load Balancer every microservice of the platform can be reached through, by path and host (service_connect only). HTTPS on 443 with `certificate_arn` (a path no service claims answers 404), HTTP on 80 answering 301 to HTTPS, and a test listener on `test_port` for a new revision's test traffic; a security group of its own admits 80 and 443 from `allowed_cidrs` and `test_port` from `test_cidrs` only.")
        .required("subnet_ids", string_set(), "Subnets of the load balancer (`subnet-…`), a set of at least two, in at least two Availability Zones; the VPC is theirs.")
        .optional("certificate_arn", Type::String, "ACM certificate of the HTTPS listeners (`arn:aws:acm:…:certificate/…`). Required unless `internal`; an internal load balancer without one listens on HTTP 80.")
        .optional("internal", Type::Bool, "An internal load balancer (reachable from the VPC only) instead of an internet-facing one. Default `false`. AWS cannot change a load balancer's scheme: changing it makes a new load balancer (a new DNS name).")
        .optional("allowed_cidrs", string_set(), "Who may reach 80 and 443, a set of CIDR blocks. Default `[\"0.0.0.0/0\"]`.")
        .optional("ssl_policy", Type::String, "Security policy of the HTTPS listeners. Default `ELBSecurityPolicy-TLS13-1-2-2021-06`.")
        .optional("idle_timeout", Type::String, "Idle timeout of connections, whole seconds from 1s to 4000s. Default `60s`.")
        .optional("test_port", Type::Number, "Port of the test listener a new revision's test traffic reaches first; not 80 or 443. Default `8443`.")
        .optional("test_cidrs", string_set(), "Who may reach `test_port`, a set of CIDR blocks. Default: none.")
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::List(items) => {
            let mut out: Vec<String> = items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect();
            out.sort();
            out.dedup();
            Some(out)
        }
        _ => None,
    }
}

/// The settings of the `ingress` block of `state`, `None` without one.
pub fn settings(state: &Value) -> Option<IngressSettings> {
    let b = state.block("ingress");
    if b.is_null() {
        return None;
    }
    let seconds = b
        .get("idle_timeout")
        .as_str()
        .and_then(|t| parse_duration(t).ok())
        .map(|d| d.as_secs() as u32)
        .unwrap_or(60);
    Some(IngressSettings {
        subnet_ids: strings(b.get("subnet_ids")).unwrap_or_default(),
        certificate_arn: b.get("certificate_arn").as_str().map(str::to_string),
        internal: b.get("internal").as_bool().unwrap_or(false),
        allowed_cidrs: strings(b.get("allowed_cidrs"))
            .unwrap_or_else(|| vec![DEFAULT_ALLOWED_CIDR.to_string()]),
        ssl_policy: b
            .get("ssl_policy")
            .as_str()
            .unwrap_or(DEFAULT_SSL_POLICY)
            .to_string(),
        idle_timeout_seconds: seconds,
        test_port: b
            .get("test_port")
            .as_f64()
            .map(|p| p as u16)
            .unwrap_or(DEFAULT_TEST_PORT),
        test_cidrs: strings(b.get("test_cidrs")).unwrap_or_default(),
    })
}

/// `arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID`.
pub fn is_acm_certificate_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "acm", region, account, resource]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && resource.strip_prefix("certificate/").is_some_and(|id| !id.is_empty()
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')))
}

/// An IPv4 (`10.0.0.0/16`) or IPv6 (`2001:db8::/32`) CIDR block.
pub fn is_cidr(text: &str) -> bool {
    let Some((ip, bits)) = text.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    if let Ok(v4) = ip.parse::<std::net::Ipv4Addr>() {
        return bits <= 32 && !v4.to_string().is_empty();
    }
    ip.parse::<std::net::Ipv6Addr>().is_ok() && bits <= 128
}

fn is_subnet_id(id: &str) -> bool {
    let hex = id.strip_prefix("subnet-").unwrap_or("");
    (hex.len() == 8 || hex.len() == 17)
        && hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// Plan-time problems of the `ingress` block (values unknown at plan are
/// not judged), each naming its attribute. `platform` is the platform's
/// name, which the load balancer carries.
pub fn validate(config: &Value) -> Vec<Problem> {
    let b = config.block("ingress");
    if b.is_null() {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let at = |k: &str| format!("ingress.0.{k}");
    if let Some(name) = config.get("name").as_str() {
        // AWS: a load balancer's name must not begin with "internal-".
        if name.starts_with("internal-") {
            problems.push(Problem::at(
                "name",
                "Invalid platform name for ingress",
                format!("{name:?}: the load balancer is named after the platform, and AWS refuses a load balancer name that begins with \"internal-\"."),
            ));
        }
    }
    if let Some(subnets) = strings(b.get("subnet_ids")) {
        if !b.get("subnet_ids").contains_unknown() && subnets.len() < 2 {
            problems.push(Problem::at(
                &at("subnet_ids"),
                "Too few subnets",
                format!("an Application Load Balancer needs subnets in at least two Availability Zones; {} given.", subnets.len()),
            ));
        }
        if let Some(bad) = subnets.iter().find(|s| !is_subnet_id(s)) {
            problems.push(Problem::at(
                &at("subnet_ids"),
                "Invalid subnet id",
                format!("{bad:?} is not a subnet id; it looks like \"subnet-0123456789abcdef0\"."),
            ));
        }
    }
    let internal = b.get("internal").as_bool().unwrap_or(false);
    match b.get("certificate_arn") {
        Value::Null if !internal && !b.get("internal").is_unknown() => problems.push(Problem::at(
            &at("certificate_arn"),
            "Missing certificate_arn",
            "an internet-facing load balancer serves HTTPS only: set certificate_arn to an ACM certificate (or internal = true).",
        )),
        Value::String(arn) if !is_acm_certificate_arn(arn) => problems.push(Problem::at(
            &at("certificate_arn"),
            "Invalid certificate_arn",
            format!("{arn:?} is not an ACM certificate ARN; it looks like \"arn:aws:acm:eu-central-1:123456789012:certificate/0e1f…\"."),
        )),
        _ => {}
    }
    for k in ["allowed_cidrs", "test_cidrs"] {
        if let Some(bad) = strings(b.get(k))
            .unwrap_or_default()
            .into_iter()
            .find(|c| !is_cidr(c))
        {
            problems.push(Problem::at(
                &at(k),
                format!("Invalid {k}"),
                format!(
                    "{bad:?} is not a CIDR block such as \"10.0.0.0/16\" or \"2001:db8::/32\"."
                ),
            ));
        }
    }
    if let Some(policy) = b.get("ssl_policy").as_str() {
        if !policy.starts_with("ELBSecurityPolicy-") || policy.len() > 255 {
            problems.push(Problem::at(
                &at("ssl_policy"),
                "Invalid ssl_policy",
                format!("{policy:?} is not an ELB security policy such as {DEFAULT_SSL_POLICY:?}."),
            ));
        }
    }
    if let Some(text) = b.get("idle_timeout").as_str() {
        let ok = parse_duration(text)
            .ok()
            .filter(|d| d.subsec_nanos() == 0 && (1..=4000).contains(&d.as_secs()));
        if ok.is_none() {
            problems.push(Problem::at(
                &at("idle_timeout"),
                "Invalid idle_timeout",
                format!(
                    "{text:?}: the load balancer's idle timeout is whole seconds from 1s to 4000s."
                ),
            ));
        }
    }
    if let Some(port) = b.get("test_port").as_f64() {
        if port.fract() != 0.0 || !(1.0..=65535.0).contains(&port) || port == 80.0 || port == 443.0
        {
            problems.push(Problem::at(
                &at("test_port"),
                "Invalid test_port",
                format!("test_port is {port}; it must be a port 1-65535 other than 80 and 443, which production traffic uses."),
            ));
        }
    }
    problems
}

/// The problem of an `ingress` block on App Mesh: not built there (App
/// Mesh's releases walk route weights, not a listener rule's, and AWS
/// discontinued App Mesh).
pub fn on_app_mesh(config: &Value) -> Option<Problem> {
    (!config.block("ingress").is_null()).then(|| Problem::at(
        "ingress",
        "ingress is not available on app_mesh",
        "ingress is built for service_mesh = \"service_connect\" only (App Mesh was discontinued on 2026-09-30; its releases walk App Mesh route weights, not a listener rule's); remove the block or use service_connect.",
    ))
}

/// The plan error of removing `ingress` from platform `platform` while the
/// rules of `owners` (owner tags, `PLATFORM/NAME`) are on its listeners.
pub fn removal_verdict(platform: &str, owners: &[String]) -> Option<crate::budget_guard::Verdict> {
    let prefix = format!("{platform}/");
    let mut services: Vec<&str> = owners
        .iter()
        .map(|o| o.strip_prefix(&prefix).unwrap_or(o))
        .collect();
    services.sort();
    services.dedup();
    (!services.is_empty()).then(|| crate::budget_guard::Verdict {
        error: true,
        summary: "ingress: microservices still use the load balancer".to_string(),
        detail: format!(
            "Platform {platform:?} cannot drop its ingress block while {} still route through it: remove their `ingress` blocks and apply that first.",
            services.join(", ")
        ),
    })
}

fn listener(
    port: u16,
    protocol: &str,
    ingress: &IngressSettings,
    default_action: DefaultAction,
    tags: &Tags,
) -> Spec {
    let https = protocol == "HTTPS";
    Spec::Listener(ListenerSpec {
        load_balancer: Ref::to(keys::LOAD_BALANCER),
        port,
        protocol: protocol.to_string(),
        certificate_arn: ingress.certificate_arn.clone().filter(|_| https),
        ssl_policy: https.then(|| ingress.ssl_policy.clone()),
        default_action,
        tags: tags.clone(),
    })
}

/// The ingress components of platform `name`: the security group, the
/// load balancer in it, and its listeners.
pub fn components(name: &str, ingress: &IngressSettings, tags: &Tags) -> Vec<Component> {
    let mut rules: Vec<IngressRule> = Vec::new();
    for port in [80, 443] {
        rules.extend(ingress.allowed_cidrs.iter().map(|c| IngressRule {
            port,
            source: Source::Cidr(c.clone()),
        }));
    }
    rules.extend(ingress.test_cidrs.iter().map(|c| IngressRule {
        port: ingress.test_port,
        source: Source::Cidr(c.clone()),
    }));
    rules.sort();
    rules.dedup();
    let not_found = DefaultAction::FixedResponse { status: 404 };
    let https = ingress.certificate_arn.is_some();
    let protocol = if https { "HTTPS" } else { "HTTP" };
    let mut out = vec![
        Component::new(
            keys::SECURITY_GROUP,
            Spec::SecurityGroup(SecurityGroupSpec {
                name: format!("{name}-ingress"),
                description: format!("matbakh platform {name}: its load balancer"),
                subnet_id: ingress.subnet_ids.first().cloned().unwrap_or_default(),
                ingress: rules,
                tags: tags.clone(),
            }),
        ),
        Component::new(
            keys::LOAD_BALANCER,
            Spec::LoadBalancer(LoadBalancerSpec {
                name: name.to_string(),
                internal: ingress.internal,
                subnet_ids: ingress.subnet_ids.clone(),
                security_group: Ref::to(keys::SECURITY_GROUP),
                idle_timeout_seconds: ingress.idle_timeout_seconds,
                tags: tags.clone(),
            }),
        )
        .after(&[keys::SECURITY_GROUP]),
        Component::new(
            keys::LISTENER,
            listener(
                if https { 443 } else { 80 },
                protocol,
                ingress,
                not_found.clone(),
                tags,
            ),
        )
        .after(&[keys::LOAD_BALANCER]),
        Component::new(
            keys::TEST_LISTENER,
            listener(ingress.test_port, protocol, ingress, not_found, tags),
        )
        .after(&[keys::LOAD_BALANCER]),
    ];
    if https {
        out.push(
            Component::new(
                keys::REDIRECT_LISTENER,
                listener(80, "HTTP", ingress, DefaultAction::RedirectToHttps, tags),
            )
            .after(&[keys::LOAD_BALANCER]),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const CERT: &str =
        "arn:aws:acm:eu-central-1:123456789012:certificate/0e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b";

    fn ingress(pairs: &[(&str, Value)]) -> Value {
        let mut b = Value::Map(BTreeMap::new());
        b.set(
            "subnet_ids",
            Value::List(vec![
                Value::str("subnet-0123456789abcdef0"),
                Value::str("subnet-0123456789abcdef1"),
            ]),
        );
        b.set("certificate_arn", Value::str(CERT));
        for (k, v) in pairs {
            b.set(k, v.clone());
        }
        let mut c = Value::Map(BTreeMap::new());
        c.set("name", Value::str("matbakh"));
        c.set("ingress", Value::List(vec![b]));
        c
    }

    fn paths(c: &Value) -> Vec<String> {
        validate(c).iter().map(Problem::dotted).collect()
    }

    #[test]
    fn removing_ingress_in_use_names_the_services() {
        let v = removal_verdict(
            "matbakh",
            &[
                "matbakh/persona".into(),
                "matbakh/auth".into(),
                "matbakh/auth".into(),
            ],
        )
        .unwrap();
        assert!(v.error);
        assert!(v.detail.contains("auth, persona"), "{}", v.detail);
        assert!(removal_verdict("matbakh", &[]).is_none());
    }

    #[test]
    fn a_valid_block_and_its_defaults() {
        let c = ingress(&[]);
        assert!(paths(&c).is_empty(), "{:?}", validate(&c));
        let s = settings(&c).unwrap();
        assert_eq!(s.allowed_cidrs, ["0.0.0.0/0"]);
        assert_eq!(s.test_port, 8443);
        assert_eq!(s.ssl_policy, DEFAULT_SSL_POLICY);
        assert_eq!(s.idle_timeout_seconds, 60);
        assert!(!s.internal && s.test_cidrs.is_empty());
        assert!(settings(&Value::Map(BTreeMap::new())).is_none());
    }

    #[test]
    fn bad_input_names_the_attribute() {
        let one = Value::List(vec![Value::str("subnet-0123456789abcdef0")]);
        assert_eq!(
            paths(&ingress(&[("subnet_ids", one)])),
            ["ingress.0.subnet_ids"]
        );
        assert_eq!(
            paths(&ingress(&[("certificate_arn", Value::Null)])),
            ["ingress.0.certificate_arn"]
        );
        assert!(paths(&ingress(&[
            ("certificate_arn", Value::Null),
            ("internal", Value::Bool(true))
        ]))
        .is_empty());
        for bad in [
            "arn:aws:iam::123456789012:server-certificate/x",
            "arn:aws:acm:eu-central-1:1234:certificate/x",
            "cert",
        ] {
            assert_eq!(
                paths(&ingress(&[("certificate_arn", Value::str(bad))])),
                ["ingress.0.certificate_arn"],
                "{bad}"
            );
        }
        for port in [80, 443, 0, 70000] {
            assert_eq!(
                paths(&ingress(&[("test_port", Value::from(port as i64))])),
                ["ingress.0.test_port"],
                "{port}"
            );
        }
        let cidrs = Value::List(vec![Value::str("10.0.0.0/33")]);
        assert_eq!(
            paths(&ingress(&[("allowed_cidrs", cidrs)])),
            ["ingress.0.allowed_cidrs"]
        );
        let v6 = Value::List(vec![Value::str("2001:db8::/32")]);
        assert!(paths(&ingress(&[("test_cidrs", v6)])).is_empty());
        for t in ["0s", "4001s", "1.5s", "soon"] {
            assert_eq!(
                paths(&ingress(&[("idle_timeout", Value::str(t))])),
                ["ingress.0.idle_timeout"],
                "{t}"
            );
        }
        assert_eq!(
            paths(&ingress(&[("ssl_policy", Value::str("TLS-please"))])),
            ["ingress.0.ssl_policy"]
        );
        let mut internal_name = ingress(&[]);
        internal_name.set("name", Value::str("internal-api"));
        assert_eq!(paths(&internal_name), ["name"]);
        assert!(on_app_mesh(&ingress(&[])).is_some());
        assert!(on_app_mesh(&Value::Map(BTreeMap::new())).is_none());
    }

    fn expanded(c: &Value) -> Vec<Component> {
        let tags = Tags::from([("matbakh:owner".to_string(), "matbakh".to_string())]);
        components("matbakh", &settings(c).unwrap(), &tags)
    }

    #[test]
    fn https_with_a_redirect_a_test_listener_and_a_group_of_its_own() {
        let test = Value::List(vec![Value::str("10.1.0.0/16")]);
        let g = expanded(&ingress(&[("test_cidrs", test)]));
        let keys: Vec<&str> = g.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                keys::SECURITY_GROUP,
                keys::LOAD_BALANCER,
                keys::LISTENER,
                keys::TEST_LISTENER,
                keys::REDIRECT_LISTENER
            ]
        );
        let Spec::SecurityGroup(sg) = &g[0].spec else {
            panic!()
        };
        let open: Vec<(u16, &Source)> = sg.ingress.iter().map(|r| (r.port, &r.source)).collect();
        let anywhere = Source::Cidr("0.0.0.0/0".into());
        let tests = Source::Cidr("10.1.0.0/16".into());
        assert_eq!(open, [(80, &anywhere), (443, &anywhere), (8443, &tests)]);
        let Spec::LoadBalancer(lb) = &g[1].spec else {
            panic!()
        };
        assert_eq!(lb.name, "matbakh");
        assert_eq!(lb.security_group, Ref::to(keys::SECURITY_GROUP));
        assert_eq!(g[1].depends_on, [keys::SECURITY_GROUP]);
        let listener = |i: usize| match &g[i].spec {
            Spec::Listener(l) => l.clone(),
            _ => panic!(),
        };
        let (https, test, redirect) = (listener(2), listener(3), listener(4));
        assert_eq!((https.port, https.protocol.as_str()), (443, "HTTPS"));
        assert_eq!(https.certificate_arn.as_deref(), Some(CERT));
        assert_eq!(
            https.default_action,
            DefaultAction::FixedResponse { status: 404 }
        );
        assert_eq!((test.port, test.protocol.as_str()), (8443, "HTTPS"));
        assert_eq!((redirect.port, redirect.protocol.as_str()), (80, "HTTP"));
        assert_eq!(redirect.default_action, DefaultAction::RedirectToHttps);
        assert_eq!(
            (redirect.certificate_arn, redirect.ssl_policy),
            (None, None)
        );
    }

    #[test]
    fn an_internal_balancer_without_a_certificate_listens_on_http() {
        let g = expanded(&ingress(&[
            ("certificate_arn", Value::Null),
            ("internal", Value::Bool(true)),
        ]));
        assert!(g.iter().all(|c| c.key != keys::REDIRECT_LISTENER));
        let Spec::Listener(l) = &g.iter().find(|c| c.key == keys::LISTENER).unwrap().spec else {
            panic!()
        };
        assert_eq!(
            (l.port, l.protocol.as_str(), &l.certificate_arn),
            (80, "HTTP", &None)
        );
    }
}
