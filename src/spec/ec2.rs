//! EC2: the security groups the provider makes (never one it did not).

use super::reference::Ref;
use super::tags::Tags;

/// Where an ingress rule admits traffic from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// An IPv4 or IPv6 CIDR block.
    Cidr(String),
    /// Another security group component of the same graph (its id).
    Group(Ref),
    /// A security group given by id (made by another resource, e.g. the
    /// platform's load balancer group for a microservice).
    GroupId(String),
}

/// One TCP port open to one source.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct IngressRule {
    pub port: u16,
    pub source: Source,
}

/// A security group of the provider's own. Its id is its group id (`sg-…`).
/// Egress stays what EC2 gives a new group (all traffic out): the load
/// balancer must reach its targets on their ports, and tasks their
/// dependencies; what is restricted is who may come in.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SecurityGroupSpec {
    /// Unique per VPC; 1-255 characters, not starting with `sg-`.
    pub name: String,
    pub description: String,
    /// A subnet of the group's VPC: the VPC is the subnet's (read at
    /// create; the user gives subnets, never the VPC).
    pub subnet_id: String,
    /// Sorted, no duplicates: exactly the ingress the group has.
    pub ingress: Vec<IngressRule>,
    pub tags: Tags,
}
