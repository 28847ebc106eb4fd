//! IAM roles the provider makes for a resource: the desired role (trust
//! policy, one inline policy, attached managed policies).
//!
//! A role is global to the account, so its name carries the platform and
//! the service (see `resources::microservice::roles`); its id in
//! `components` is its ARN.

use serde_json::Value;

use super::tags::Tags;

/// The name of the one inline policy a role the provider makes carries.
/// Any other inline policy found on the role was added out of band and is
/// drift.
pub const INLINE_POLICY_NAME: &str = "matbakh";

/// IAM's longest role name.
pub const MAX_ROLE_NAME_LEN: usize = 64;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RoleSpec {
    /// Unique in the account; at most [`MAX_ROLE_NAME_LEN`] characters.
    pub name: String,
    pub description: String,
    /// Who may assume it (an IAM policy document).
    pub trust_policy: Value,
    /// What it may do, as the inline policy [`INLINE_POLICY_NAME`]; `None`:
    /// no inline policy (only managed ones).
    pub policy: Option<Value>,
    /// Managed policies attached to it (sorted).
    pub managed_policy_arns: Vec<String>,
    pub tags: Tags,
}

/// A role name: `base` when it fits IAM's limit, else cut and ended with a
/// stable hash of the whole, so two long names never collide and the same
/// name always comes out.
pub fn role_name(base: &str) -> String {
    if base.len() <= MAX_ROLE_NAME_LEN {
        return base.to_string();
    }
    let hash = &crate::stable_hash::stable_hash(base)[..8];
    // base is ASCII (validated names), so byte slicing is on characters.
    let keep = MAX_ROLE_NAME_LEN - hash.len() - 1;
    format!("{}-{hash}", &base[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_stay_long_ones_are_cut_with_a_stable_hash() {
        assert_eq!(role_name("matbakh-auth-exec"), "matbakh-auth-exec");
        let long = format!("{}-exec", "p".repeat(70));
        let a = role_name(&long);
        assert_eq!(a.len(), MAX_ROLE_NAME_LEN);
        assert_eq!(a, role_name(&long));
        let other = format!("{}-task", "p".repeat(70));
        assert_ne!(a, role_name(&other));
    }
}
