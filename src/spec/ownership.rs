//! Ownership: a resource owns only what it created.
//!
//! Names are deterministic (derived from the platform's and the service's
//! names), and every object carries its owner's Terraform id in the tag
//! `matbakh:owner` (`PLATFORM/NAME`). That alone cannot tell "my own
//! interrupted create" from "another resource of the same name" (a second
//! state, another workspace in the same account). So each resource also has
//! an **ownership token**: 128 random bits, generated once when the resource
//! is first planned for creation, carried to apply in the plan's private
//! state, kept in the resource's private state afterwards, and written into
//! the tag `matbakh:owner-token` of every object the resource creates. All
//! objects of one resource share one token.
//!
//! The rule, applied wherever a create meets an object of the same name
//! ([`decide`]):
//! - owner tag and token tag both equal this resource's: it is this
//!   resource's own leftover (an apply whose answer was lost, a Ctrl-C, a
//!   killed provider whose state was saved): **adopt** it;
//! - same owner tag, another token or none: a resource of the same name
//!   created it (another state or workspace, or this configuration before its
//!   state was lost): **refuse** with "already exists" and the exact
//!   `terraform import` command, which adopts it deliberately;
//! - another owner tag, or none: not a matbakh object of this resource at
//!   all: **refuse**, and say whose it is.
//!
//! Delete follows the same proof: it removes an object it finds by name only
//! when the object carries this resource's token ([`Ownership::Mine`]),
//! recorded in state or not, and never one with another token or none.
//!
//! This module is pure (no AWS): the adapters call [`decide`] through
//! `crate::aws::tags`, the resources generate and keep the token.

use std::collections::BTreeMap;

use super::tags::{Tags, OWNER_TAG};
use super::{DesiredGraph, Spec};

/// Tag key holding the ownership token of the resource that created an object.
pub const OWNER_TOKEN_TAG: &str = "matbakh:owner-token";

/// Hex digits in a token: 128 bits.
const TOKEN_HEX_DIGITS: usize = 32;

/// A resource's ownership token: 32 lowercase hex digits (128 random bits).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OwnerToken(String);

impl OwnerToken {
    /// A fresh token from the operating system's random source: two
    /// resources (or two plans after a lost state) never draw the same one.
    pub fn generate() -> Self {
        let bits: u128 = rand::random();
        OwnerToken(format!("{bits:032x}"))
    }

    /// A token read back from private state or a tag, or why it is not one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let well_formed = text.len() == TOKEN_HEX_DIGITS
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if well_formed {
            Ok(OwnerToken(text.to_string()))
        } else {
            Err(format!(
                "{text:?} is not an ownership token ({TOKEN_HEX_DIGITS} lowercase hex digits)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OwnerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose an existing object is, judged from its tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Owner and token are this resource's: its own leftover, adopt it.
    Mine,
    /// This resource's owner tag with another token (or none): created by a
    /// resource of the same name elsewhere, or before this state was lost.
    /// Adopted only by `terraform import`.
    SameNameElsewhere { found_token: Option<String> },
    /// Another owner, or no owner tag at all: never this resource's.
    NotMine { found_owner: Option<String> },
}

/// Judge an existing object with tags `found` against this resource's
/// `owner` (`PLATFORM/NAME`) and `token`. Without a token of its own (a
/// resource whose plan carried none) nothing can be proved, so nothing is
/// adopted.
pub fn decide(found: &BTreeMap<String, String>, owner: &str, token: Option<&str>) -> Ownership {
    let found_owner = found.get(OWNER_TAG).filter(|o| !o.is_empty());
    if owner.is_empty() || found_owner.map(String::as_str) != Some(owner) {
        return Ownership::NotMine {
            found_owner: found_owner.cloned(),
        };
    }
    let found_token = found.get(OWNER_TOKEN_TAG).filter(|t| !t.is_empty());
    match (token, found_token) {
        (Some(mine), Some(theirs)) if !mine.is_empty() && mine == theirs => Ownership::Mine,
        _ => Ownership::SameNameElsewhere {
            found_token: found_token.cloned(),
        },
    }
}

/// The command that adopts an existing resource of `owner` (its Terraform
/// id, `PLATFORM/NAME`). Terraform does not tell a provider the resource's
/// address, so the address is left for the reader to fill in; Terraform
/// prints it under the error ("with matbakh_microservice.auth").
pub fn import_command(owner: &str) -> String {
    format!("terraform import <resource address> {owner}")
}

/// Why a create refuses an existing object (`what` and `name` say which),
/// for an owner that is not [`Ownership::Mine`]: "already exists", whose it
/// is, and how to proceed.
pub fn refusal(what: &str, name: &str, owner: &str, ownership: &Ownership) -> String {
    match ownership {
        Ownership::Mine => format!("{what} {name} is this resource's own (owner {owner})"),
        Ownership::SameNameElsewhere { found_token } => {
            let created_by = match found_token {
                Some(_) => "another resource of the same name (another state or workspace), \
                            or this one before its state was lost"
                    .to_string(),
                None => {
                    "an earlier matbakh resource of the same name that wrote no ownership token"
                        .to_string()
                }
            };
            format!(
                "{what} {name} already exists: it is tagged {OWNER_TAG} = {owner:?} but was created by \
                 {created_by} (its {OWNER_TOKEN_TAG} tag is not this resource's). Nothing was changed. \
                 If it is yours, adopt it with `{import}` (the address is the resource's, shown below \
                 as \"with ...\"); otherwise choose another name.",
                import = import_command(owner),
            )
        }
        Ownership::NotMine { found_owner } => {
            let whose = match found_owner {
                Some(other) => format!("it belongs to {other} (its {OWNER_TAG} tag)"),
                None => format!("it has no {OWNER_TAG} tag, so matbakh did not create it"),
            };
            format!(
                "{what} {name} already exists and is not {owner}'s: {whose}. Nothing was changed; \
                 delete or rename that object, or choose another name."
            )
        }
    }
}

/// Whether an error message is a [`refusal`] (as the engine reports a
/// failed step: the adapter's error as text).
pub fn is_refusal(message: &str) -> bool {
    message.contains(" already exists") && message.contains(OWNER_TAG)
}

impl Spec {
    /// The tags this object carries, `None` for kinds that take no tags
    /// (Application Auto Scaling) or whose tags ECS writes (the Service
    /// Connect Cloud Map service): their names say whose they are.
    pub fn tags(&self) -> Option<&Tags> {
        match self {
            Spec::Cluster(s) => Some(&s.tags),
            Spec::Mesh(s) => Some(&s.tags),
            Spec::Namespace(s) => Some(&s.tags),
            Spec::LogGroup(s) => Some(&s.tags),
            Spec::TaskDefinition(s) => Some(&s.tags),
            Spec::EcsService(s) => Some(&s.tags),
            Spec::DiscoveryService(s) => Some(&s.tags),
            Spec::VirtualNode(s) => Some(&s.tags),
            Spec::VirtualRouter(s) => Some(&s.tags),
            Spec::Route(s) => Some(&s.tags),
            Spec::VirtualService(s) => Some(&s.tags),
            Spec::MetricAlarm(s) => Some(&s.tags),
            Spec::Dashboard(s) => Some(&s.tags),
            Spec::LoadBalancer(s) => Some(&s.tags),
            Spec::Listener(s) => Some(&s.tags),
            Spec::SecurityGroup(s) => Some(&s.tags),
            Spec::Role(s) => Some(&s.tags),
            Spec::Budget(s) => Some(&s.tags),
            // ECS creates it; the provider never writes its tags.
            Spec::ServiceConnectDiscovery(_) => None,
            Spec::ScalableTarget(_) | Spec::ScalingPolicy(_) => None,
        }
    }

    fn tags_mut(&mut self) -> Option<&mut Tags> {
        match self {
            Spec::Cluster(s) => Some(&mut s.tags),
            Spec::Mesh(s) => Some(&mut s.tags),
            Spec::Namespace(s) => Some(&mut s.tags),
            Spec::LogGroup(s) => Some(&mut s.tags),
            Spec::TaskDefinition(s) => Some(&mut s.tags),
            Spec::EcsService(s) => Some(&mut s.tags),
            Spec::DiscoveryService(s) => Some(&mut s.tags),
            Spec::VirtualNode(s) => Some(&mut s.tags),
            Spec::VirtualRouter(s) => Some(&mut s.tags),
            Spec::Route(s) => Some(&mut s.tags),
            Spec::VirtualService(s) => Some(&mut s.tags),
            Spec::MetricAlarm(s) => Some(&mut s.tags),
            Spec::Dashboard(s) => Some(&mut s.tags),
            Spec::LoadBalancer(s) => Some(&mut s.tags),
            Spec::Listener(s) => Some(&mut s.tags),
            Spec::SecurityGroup(s) => Some(&mut s.tags),
            Spec::Role(s) => Some(&mut s.tags),
            Spec::Budget(s) => Some(&mut s.tags),
            Spec::ServiceConnectDiscovery(_) => None,
            // Its name says whose it is (see `tags`), but it carries the
            // token like the rest.
            Spec::ScalableTarget(s) => Some(&mut s.tags),
            Spec::ScalingPolicy(_) => None,
        }
    }
}

impl DesiredGraph {
    /// Write `token` into every object that carries an owner tag, so each
    /// object the resource creates can later be proved its own.
    pub fn with_owner_token(mut self, token: &OwnerToken) -> Self {
        for component in &mut self.components {
            if let Some(tags) = component.spec.tags_mut() {
                if tags.contains_key(OWNER_TAG) {
                    tags.insert(OWNER_TOKEN_TAG.to_string(), token.to_string());
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Component;

    const OWNER: &str = "matbakh/auth-service";
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn generated_tokens_are_128_bit_hex_and_differ() {
        let a = OwnerToken::generate();
        let b = OwnerToken::generate();
        assert_eq!(a.as_str().len(), 32);
        assert_eq!(OwnerToken::parse(a.as_str()), Ok(a.clone()));
        assert_ne!(a, b);
    }

    #[test]
    fn parse_refuses_what_is_not_a_token() {
        assert!(OwnerToken::parse(TOKEN).is_ok());
        for bad in [
            "",
            "0123",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef0123456789abcdef0",
        ] {
            let why = OwnerToken::parse(bad).unwrap_err();
            assert!(why.contains("ownership token"), "{bad}: {why}");
        }
    }

    #[test]
    fn own_leftover_is_adopted() {
        let found = tags(&[(OWNER_TAG, OWNER), (OWNER_TOKEN_TAG, TOKEN), ("team", "x")]);
        assert_eq!(decide(&found, OWNER, Some(TOKEN)), Ownership::Mine);
    }

    #[test]
    fn same_name_other_token_is_refused() {
        let other = "ffffffffffffffffffffffffffffffff";
        let found = tags(&[(OWNER_TAG, OWNER), (OWNER_TOKEN_TAG, other)]);
        assert_eq!(
            decide(&found, OWNER, Some(TOKEN)),
            Ownership::SameNameElsewhere {
                found_token: Some(other.into())
            }
        );
    }

    #[test]
    fn same_name_without_token_is_refused() {
        let found = tags(&[(OWNER_TAG, OWNER)]);
        let no_token = Ownership::SameNameElsewhere { found_token: None };
        assert_eq!(decide(&found, OWNER, Some(TOKEN)), no_token);
        // An empty token tag proves nothing either.
        let empty = tags(&[(OWNER_TAG, OWNER), (OWNER_TOKEN_TAG, "")]);
        assert_eq!(decide(&empty, OWNER, Some(TOKEN)), no_token);
    }

    #[test]
    fn without_a_token_of_its_own_nothing_is_adopted() {
        let found = tags(&[(OWNER_TAG, OWNER), (OWNER_TOKEN_TAG, TOKEN)]);
        assert!(matches!(
            decide(&found, OWNER, None),
            Ownership::SameNameElsewhere { .. }
        ));
        assert!(matches!(
            decide(&found, OWNER, Some("")),
            Ownership::SameNameElsewhere { .. }
        ));
    }

    #[test]
    fn other_owner_or_none_is_not_mine_even_with_my_token() {
        let other = tags(&[(OWNER_TAG, "matbakh/billing"), (OWNER_TOKEN_TAG, TOKEN)]);
        assert_eq!(
            decide(&other, OWNER, Some(TOKEN)),
            Ownership::NotMine {
                found_owner: Some("matbakh/billing".into())
            }
        );
        let untagged = tags(&[(OWNER_TOKEN_TAG, TOKEN)]);
        assert_eq!(
            decide(&untagged, OWNER, Some(TOKEN)),
            Ownership::NotMine { found_owner: None }
        );
        assert_eq!(
            decide(&tags(&[]), "", Some(TOKEN)),
            Ownership::NotMine { found_owner: None }
        );
    }

    #[test]
    fn refusal_names_the_object_and_the_import_command() {
        let why = refusal(
            "ECS service",
            "auth-service",
            OWNER,
            &Ownership::SameNameElsewhere { found_token: None },
        );
        assert!(
            why.contains("ECS service auth-service already exists"),
            "{why}"
        );
        assert!(
            why.contains("`terraform import <resource address> matbakh/auth-service`"),
            "{why}"
        );
        let why = refusal(
            "log group",
            "/ecs/matbakh/auth-service",
            OWNER,
            &Ownership::NotMine {
                found_owner: Some("other/thing".into()),
            },
        );
        assert!(why.contains("already exists"), "{why}");
        assert!(why.contains("belongs to other/thing"), "{why}");
        assert!(!why.contains("terraform import"), "{why}");
    }

    #[test]
    fn the_token_is_written_into_every_owned_object() {
        let log_group = |name: &str, owner: Option<&str>| {
            let mut tags = tags(&[("project", "matbakh")]);
            if let Some(owner) = owner {
                tags.insert(OWNER_TAG.into(), owner.into());
            }
            Spec::LogGroup(crate::spec::logs::LogGroupSpec {
                name: name.into(),
                retention_days: 30,
                tags,
            })
        };
        let mut graph = DesiredGraph::default();
        graph.push(Component::new("owned", log_group("/a", Some(OWNER))));
        graph.push(Component::new("unowned", log_group("/b", None)));
        graph.push(Component::new(
            "scaling",
            Spec::ScalableTarget(crate::spec::autoscaling::ScalableTargetSpec {
                resource_id: "service/matbakh/auth-service".into(),
                min_capacity: 1,
                max_capacity: 2,
                tags: Default::default(),
            }),
        ));
        let token = OwnerToken::parse(TOKEN).unwrap();
        let graph = graph.with_owner_token(&token);
        let token_of = |key: &str| {
            graph
                .get(key)
                .unwrap()
                .spec
                .tags()
                .map(|t| t.get(OWNER_TOKEN_TAG).cloned())
        };
        assert_eq!(token_of("owned"), Some(Some(TOKEN.to_string())));
        // No owner tag: not an object this resource claims, so no token.
        assert_eq!(token_of("unowned"), Some(None));
        assert_eq!(token_of("scaling"), None);
    }
}
