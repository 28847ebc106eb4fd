//! A resource's ownership token, where it lives between plan and apply, and
//! how destroy finds the objects it created that state never recorded.
//!
//! The rule is [`crate::spec::ownership`]'s. The token is generated when a
//! resource is first planned for creation and kept in the resource's
//! private state (`{"owner_token": "..."}`): Terraform carries a plan's
//! private state to apply and stores it with the resource afterwards, and
//! the user never sees or sets it. Import records the token the adopted
//! objects carry.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::aws::Clients;
use crate::engine::{Resolved, MAX_CONCURRENCY};
use crate::spec::ownership::{decide, is_refusal, OwnerToken, Ownership, OWNER_TOKEN_TAG};
use crate::spec::{Component, Tags, OWNER_TAG};
use crate::tf::value::Value;

/// The key of the token in a resource's private state.
const PRIVATE_KEY: &str = "owner_token";

/// The token a private state holds, if it holds a valid one.
pub fn token_of(private: &Value) -> Option<OwnerToken> {
    OwnerToken::parse(private.get(PRIVATE_KEY).as_str()?).ok()
}

/// `private` with `token` recorded in it (other entries kept).
pub fn with_token(mut private: Value, token: &OwnerToken) -> Value {
    private.set(PRIVATE_KEY, Value::str(token.as_str()));
    private
}

/// The private state a plan hands to apply: the prior token when there is
/// one, else a new one (a resource being created, or one whose state
/// predates ownership tokens: its next apply writes the token onto its
/// objects).
pub fn planned_private(prior_private: Value) -> Value {
    match token_of(&prior_private) {
        Some(_) => prior_private,
        None => with_token(prior_private, &OwnerToken::generate()),
    }
}

/// The token an apply works with: the one its plan carried. A plan without
/// one (made by a provider version before ownership tokens) gets a new one,
/// which for a create is what the plan would have generated.
pub fn token_for_apply(planned_private: &Value) -> OwnerToken {
    token_of(planned_private).unwrap_or_else(|| {
        tracing::warn!("the plan carried no ownership token; generating one");
        OwnerToken::generate()
    })
}

/// The token objects found by name carry, for import: all objects of one
/// resource share one token, so the first one found (in the order given)
/// is taken. `None` when none carries one (objects created before
/// ownership tokens).
pub fn token_found<'a>(found: impl IntoIterator<Item = &'a Tags>) -> Option<OwnerToken> {
    found
        .into_iter()
        .find_map(|tags| OwnerToken::parse(tags.get(OWNER_TOKEN_TAG)?).ok())
}

/// What an object found by a component's deterministic name looked like.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundObject {
    pub id: String,
    /// `None` for kinds that take no tags.
    pub tags: Option<Tags>,
}

/// Of the objects found by name for components that state does not record,
/// the ones this resource may delete: a tagged object when it carries this
/// resource's owner tag and token; an untagged one (a scalable target, a
/// scaling policy, a dashboard) only when everything it depends on in the
/// graph is this resource's (recorded, or claimed here), since its name
/// derives from theirs. Never one with another token or none.
pub fn claimable(
    graph: &[Component],
    recorded: &Resolved,
    found: &BTreeMap<String, FoundObject>,
    token: &OwnerToken,
) -> Resolved {
    let mut claimed = Resolved::new();
    let order = crate::engine::creation_order(graph).unwrap_or_default();
    for idx in order {
        let component = &graph[idx];
        if recorded.contains_key(&component.key) {
            continue;
        }
        let Some(object) = found.get(&component.key) else {
            continue;
        };
        let mine = match (&object.tags, component.spec.tags()) {
            (Some(found_tags), Some(wanted)) => {
                let owner = wanted.get(OWNER_TAG).map(String::as_str).unwrap_or("");
                decide(found_tags, owner, Some(token.as_str())) == Ownership::Mine
            }
            (None, None) => {
                !component.depends_on.is_empty()
                    && component
                        .depends_on
                        .iter()
                        .all(|d| recorded.contains_key(d) || claimed.contains_key(d))
            }
            // The spec and the object disagree on whether the kind takes
            // tags: nothing can be proved.
            _ => false,
        };
        if mine {
            claimed.insert(component.key.clone(), object.id.clone());
        } else {
            tracing::info!(
                component = component.key.as_str(),
                id = object.id.as_str(),
                "exists by name but is not this resource's; left alone"
            );
        }
    }
    claimed
}

/// `recorded` plus the objects of `graph` that exist by their deterministic
/// names, unrecorded, and provably this resource's ([`claimable`]): what a
/// destroy deletes, so an object whose create answer was lost on the wire
/// does not outlive its resource.
pub async fn with_unrecorded_own_objects(
    clients: &Clients,
    graph: &[Component],
    recorded: Resolved,
    token: &OwnerToken,
) -> Result<Resolved, String> {
    // The futures are collected first: a stream built from a closure that
    // returns async blocks is not provably Send inside async_trait methods.
    let lookups: Vec<_> = graph
        .iter()
        .filter(|c| !recorded.contains_key(&c.key))
        .map(|c| find_by_name(clients, c))
        .collect();
    let found: Vec<(String, Option<FoundObject>)> = stream::iter(lookups)
        .buffered(MAX_CONCURRENCY)
        .try_collect()
        .await?;
    let found: BTreeMap<String, FoundObject> = found
        .into_iter()
        .filter_map(|(k, f)| Some((k, f?)))
        .collect();
    let mut all = recorded;
    let claimed = claimable(graph, &all, &found, token);
    for (key, id) in &claimed {
        tracing::info!(
            component = key.as_str(),
            id = id.as_str(),
            "not recorded in state but this resource's (owner and token): deleting it too"
        );
    }
    all.extend(claimed);
    Ok(all)
}

/// After an apply that failed, record the objects of `graph` that exist by
/// name with this resource's token although the apply could not record them
/// (a create whose answer was lost or garbled, its retries spent), so state
/// names everything that exists and the next apply or destroy starts from
/// there. A failed lookup leaves `outcome` as it was (destroy looks again).
pub async fn record_own_objects_after_failure(
    clients: &Clients,
    graph: &[Component],
    outcome: &mut crate::engine::Outcome,
    token: &OwnerToken,
) {
    if outcome.is_ok() {
        return;
    }
    match with_unrecorded_own_objects(clients, graph, outcome.recorded.clone(), token).await {
        Ok(all) => outcome.recorded = all,
        Err(e) => tracing::warn!(
            error = e.as_str(),
            "could not look for objects the failed apply left unrecorded"
        ),
    }
}

/// Whether a run failed because a create met an object this resource may
/// not adopt ("already exists").
pub fn refused(outcome: &crate::engine::Outcome) -> bool {
    outcome.errors.iter().any(|e| is_refusal(&e.message))
}

/// A create refused for ownership leaves nothing behind: what it made in
/// this call (every object carrying this plan's token, none of anyone
/// else's) is deleted again, so Terraform records no resource and the
/// import command the error gives works as written. Returns true when the
/// undo succeeded (the error is reported, and the create must return no
/// state); false when something could not be deleted, which `outcome` then
/// keeps recorded (nothing is lost) with the undo's errors added.
pub async fn undo_refused_create(
    diags: &mut tf_provider::Diagnostics,
    resource: &str,
    clients: &Clients,
    graph: &[Component],
    outcome: &mut crate::engine::Outcome,
    timeout: std::time::Duration,
) -> bool {
    if !refused(outcome) {
        return false;
    }
    let report = |p: &crate::engine::Progress| {
        if let crate::engine::Progress::Deleted(key) = p {
            tracing::info!(
                tf_resource_type = resource,
                component = key.as_str(),
                "deleted again: the create was refused"
            );
        }
    };
    let undo =
        super::lifecycle::destroy(clients, graph, outcome.recorded.clone(), timeout, &report).await;
    if !undo.is_ok() {
        outcome.recorded = undo.recorded;
        outcome.errors.extend(undo.errors);
        return false;
    }
    for e in &outcome.errors {
        crate::tf::diagnostics::error(
            diags,
            format!("creating {resource}: component {} failed", e.component),
            format!(
                "{}\n\nWhat this apply had created for {resource} was deleted again; nothing is recorded in the state.",
                e.message
            ),
        );
    }
    true
}

/// The object `component` names, if it exists.
async fn find_by_name(
    clients: &Clients,
    component: &Component,
) -> Result<(String, Option<FoundObject>), String> {
    // A platform's objects are found by their own lookups (the platform
    // module's), not by a probe: a platform's lost create answers are
    // adopted by its next apply instead.
    if matches!(
        component.spec,
        crate::spec::Spec::Cluster(_)
            | crate::spec::Spec::Mesh(_)
            | crate::spec::Spec::Namespace(_)
    ) {
        return Ok((component.key.clone(), None));
    }
    let found = component
        .spec
        .read_back(clients)
        .await
        .map_err(|e| format!("looking for an unrecorded {}: {e}", component.key))?;
    Ok((
        component.key.clone(),
        found.map(|f| FoundObject {
            id: f.id,
            tags: f.spec.tags().cloned(),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::autoscaling::ScalableTargetSpec;
    use crate::spec::logs::LogGroupSpec;
    use crate::spec::Spec;

    const MINE: &str = "0123456789abcdef0123456789abcdef";
    const THEIRS: &str = "fedcba9876543210fedcba9876543210";
    const OWNER: &str = "matbakh/auth-service";

    fn token(t: &str) -> OwnerToken {
        OwnerToken::parse(t).unwrap()
    }

    fn tags(token: Option<&str>) -> Tags {
        let mut t: Tags = [(OWNER_TAG.to_string(), OWNER.to_string())].into();
        if let Some(token) = token {
            t.insert(OWNER_TOKEN_TAG.into(), token.into());
        }
        t
    }

    fn log_group(key: &str) -> Component {
        Component::new(
            key,
            Spec::LogGroup(LogGroupSpec {
                name: format!("/ecs/{key}"),
                retention_days: 30,
                tags: tags(Some(MINE)),
            }),
        )
    }

    fn target(key: &str, after: &str) -> Component {
        Component::new(
            key,
            Spec::ScalableTarget(ScalableTargetSpec {
                resource_id: format!("service/matbakh/{key}"),
                min_capacity: 1,
                max_capacity: 2,
                tags: Default::default(),
            }),
        )
        .after(&[after])
    }

    fn found(id: &str, tags: Option<Tags>) -> FoundObject {
        FoundObject {
            id: id.into(),
            tags,
        }
    }

    #[test]
    fn private_state_keeps_the_token() {
        assert_eq!(token_of(&Value::Null), None);
        let private = planned_private(Value::Null);
        let first = token_of(&private).expect("a new token");
        // A later plan keeps it.
        assert_eq!(
            token_of(&planned_private(private.clone())),
            Some(first.clone())
        );
        assert_eq!(token_for_apply(&private), first);
        // Garbage is not a token: a new one replaces it.
        let garbage = with_token(Value::Null, &token(MINE));
        let mut garbage = garbage;
        garbage.set(PRIVATE_KEY, Value::str("not-a-token"));
        assert_eq!(token_of(&garbage), None);
        assert!(token_of(&planned_private(garbage)).is_some());
    }

    #[test]
    fn import_takes_the_token_the_objects_carry() {
        let none = tags(None);
        let mine = tags(Some(MINE));
        assert_eq!(token_found([&none, &mine]), Some(token(MINE)));
        assert_eq!(token_found([&none]), None);
    }

    #[test]
    fn destroy_claims_only_unrecorded_objects_with_its_token() {
        let graph = vec![
            log_group("recorded"),
            log_group("lost-answer"),
            log_group("someone-elses"),
            log_group("untokened"),
            log_group("absent"),
        ];
        let recorded: Resolved = [("recorded".to_string(), "/ecs/recorded".to_string())].into();
        let found: BTreeMap<String, FoundObject> = [
            ("recorded", found("/ecs/recorded", Some(tags(Some(THEIRS))))),
            (
                "lost-answer",
                found("/ecs/lost-answer", Some(tags(Some(MINE)))),
            ),
            (
                "someone-elses",
                found("/ecs/someone-elses", Some(tags(Some(THEIRS)))),
            ),
            ("untokened", found("/ecs/untokened", Some(tags(None)))),
        ]
        .into_iter()
        .map(|(k, f)| (k.to_string(), f))
        .collect();
        let claimed = claimable(&graph, &recorded, &found, &token(MINE));
        assert_eq!(
            claimed,
            [("lost-answer".to_string(), "/ecs/lost-answer".to_string())].into()
        );
    }

    #[test]
    fn untagged_kinds_follow_what_they_depend_on() {
        let graph = vec![
            log_group("service"),
            target("target-of-mine", "service"),
            log_group("theirs"),
            target("target-of-theirs", "theirs"),
        ];
        let found: BTreeMap<String, FoundObject> = [
            ("service", found("svc", Some(tags(Some(MINE))))),
            ("target-of-mine", found("t1", None)),
            ("theirs", found("other", Some(tags(Some(THEIRS))))),
            ("target-of-theirs", found("t2", None)),
        ]
        .into_iter()
        .map(|(k, f)| (k.to_string(), f))
        .collect();
        let claimed = claimable(&graph, &Resolved::new(), &found, &token(MINE));
        assert_eq!(
            claimed.keys().map(String::as_str).collect::<Vec<_>>(),
            vec!["service", "target-of-mine"]
        );
    }
}
