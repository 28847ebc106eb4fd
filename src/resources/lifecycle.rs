//! What every graph-backed resource does the same way: timeouts, the
//! `components` attribute, running the engine against AWS with a deadline.
//! The driver (`super::driver`) and the canary build on these.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::aws::{AwsBackend, Clients};
use crate::engine::{self, Observation, Outcome, Reporter, Resolved};
use crate::spec::{Component, DesiredGraph};
use crate::tf::value::Value;
use crate::validation::{parse_duration, Problem};

/// The default of every `timeouts` entry.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    fn key(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// The timeout for `op` from the resource's `timeouts` block.
pub fn timeout(state: &Value, op: Operation) -> Duration {
    timeout_or(state, op, DEFAULT_TIMEOUT)
}

/// The timeout for `op`, `default` when the `timeouts` block leaves it out.
pub fn timeout_or(state: &Value, op: Operation, default: Duration) -> Duration {
    state
        .block("timeouts")
        .get(op.key())
        .as_str()
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(default)
}

/// Problems in a `timeouts` block.
pub fn validate_timeouts(config: &Value) -> Vec<Problem> {
    let t = config.block("timeouts");
    ["create", "update", "delete"]
        .iter()
        .filter_map(|k| {
            let text = t.get(k).as_str()?;
            match parse_duration(text) {
                Ok(d) if d >= Duration::from_secs(1) => None,
                Ok(_) => Some(Problem::at(
                    &format!("timeouts.0.{k}"),
                    "Timeout too short",
                    "A timeout must be at least one second.",
                )),
                Err(why) => Some(Problem::at(
                    &format!("timeouts.0.{k}"),
                    "Invalid duration",
                    why,
                )),
            }
        })
        .collect()
}

pub fn components_value(recorded: &Resolved) -> Value {
    Value::Map(
        recorded
            .iter()
            .map(|(k, v)| (k.clone(), Value::str(v)))
            .collect(),
    )
}

pub fn recorded_components(state: &Value) -> Resolved {
    match state.get("components") {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect(),
        _ => Resolved::new(),
    }
}

/// The `drift` attribute: kept in the schema for states written by earlier
/// versions, always empty now that drift shows as values.
pub fn no_drift() -> Value {
    Value::Map(Default::default())
}

/// Read every recorded component of `graph` back: what each observation
/// found, by component key (components with nothing recorded are missing).
pub async fn observe(
    clients: &Clients,
    graph: &DesiredGraph,
    recorded: &Resolved,
) -> Result<BTreeMap<String, Observation>, String> {
    let backend = AwsBackend { clients };
    engine::observe_all(&backend, &graph.components, recorded)
        .await
        .into_iter()
        .map(|(key, observation)| {
            observation
                .map(|o| (key.clone(), o))
                .map_err(|e| format!("reading {key}: {e}"))
        })
        .collect()
}

/// Create or update a graph within `timeout`, telling `report` about each
/// component as it finishes.
pub async fn apply(
    clients: &Clients,
    desired: &[Component],
    previous: &[Component],
    recorded: Resolved,
    timeout: Duration,
    report: Reporter<'_>,
) -> Outcome {
    let backend = AwsBackend { clients };
    engine::with_deadline(
        timeout,
        engine::apply_reporting(&backend, desired, previous, recorded, report),
    )
    .await
}

/// Delete a graph within `timeout`, telling `report` about each component
/// as it is deleted.
pub async fn destroy(
    clients: &Clients,
    graph: &[Component],
    recorded: Resolved,
    timeout: Duration,
    report: Reporter<'_>,
) -> Outcome {
    let backend = AwsBackend { clients };
    engine::with_deadline(
        timeout,
        engine::destroy_reporting(&backend, graph, recorded, report),
    )
    .await
}
