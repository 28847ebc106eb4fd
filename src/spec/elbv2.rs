//! Elastic Load Balancing v2: the platform's Application Load Balancer and
//! its listeners (issue 21, "Ingress").

use super::reference::Ref;
use super::tags::Tags;

/// An Application Load Balancer. Its id is its ARN.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LoadBalancerSpec {
    /// 1-32 letters, digits and hyphens; unique per account and region.
    pub name: String,
    /// `internal` scheme instead of `internet-facing`. AWS cannot change a
    /// load balancer's scheme: a change makes a new one of the same name.
    pub internal: bool,
    /// Sorted: the set the user gave.
    pub subnet_ids: Vec<String>,
    /// The security group component (its id).
    pub security_group: Ref,
    /// `idle_timeout.timeout_seconds`, 1-4000.
    pub idle_timeout_seconds: u32,
    pub tags: Tags,
}

/// What a listener answers a request no rule matches.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DefaultAction {
    /// A fixed response with this status and no body (404 on the HTTPS and
    /// test listeners: a path no service claims is not found).
    FixedResponse { status: u16 },
    /// `HTTP_301` to the same host, path and query on HTTPS port 443.
    RedirectToHttps,
}

/// A listener on the platform's load balancer, found by its port. Its id
/// is its ARN.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ListenerSpec {
    /// The load balancer component (its ARN).
    pub load_balancer: Ref,
    pub port: u16,
    /// "HTTP" or "HTTPS".
    pub protocol: String,
    /// HTTPS only: the ACM certificate and the security policy.
    pub certificate_arn: Option<String>,
    pub ssl_policy: Option<String>,
    pub default_action: DefaultAction,
    pub tags: Tags,
}
