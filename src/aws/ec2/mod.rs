//! EC2: only what ingress needs, the security groups the provider makes
//! and the VPC of a subnet. The provider never edits a group it did not
//! make: every call here is on a group of its own spec.

pub mod owned_groups;
pub mod security_group;
pub mod subnet;
