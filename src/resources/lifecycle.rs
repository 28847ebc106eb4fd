//! What every graph-backed resource does the same way: timeouts, the
//! `components` and `drift` attributes, running the engine against AWS with
//! a deadline, and turning its outcome into diagnostics.

use std::collections::BTreeMap;
use std::time::Duration;

use tf_provider::Diagnostics;

use crate::aws::{AwsBackend, Clients};
use crate::engine::{self, Observation, Outcome, Progress, Resolved};
use crate::spec::Component;
use crate::tf::diagnostics::error;
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

pub fn drift_value(drift: &BTreeMap<String, String>) -> Value {
    Value::Map(
        drift
            .iter()
            .map(|(k, v)| (k.clone(), Value::str(v)))
            .collect(),
    )
}

/// The `drift` attribute with nothing to report: what every plan and apply
/// leaves behind (the apply has just reconciled everything).
pub fn no_drift() -> Value {
    Value::Map(Default::default())
}

/// Whether any argument differs between the prior state and the plan
/// (computed attributes and `timeouts` aside): whether apply has work to do.
pub fn arguments_changed(prior: &Value, planned: &Value, computed: &[&str]) -> bool {
    let (Value::Map(p), Value::Map(n)) = (prior, planned) else {
        return true;
    };
    let ignore = |k: &str| computed.contains(&k) || k == "timeouts";
    n.iter().any(|(k, v)| !ignore(k) && p.get(k) != Some(v))
}

/// Whether the state's `drift` attribute reports anything.
pub fn has_drift(state: &Value) -> bool {
    matches!(state.get("drift"), Value::Map(m) if !m.is_empty())
}

/// One warning per drifted component of the prior state, so `terraform plan`
/// says what changed outside Terraform and that apply restores it.
pub fn warn_drift(diags: &mut Diagnostics, resource: &str, name: &str, prior: &Value) {
    if let Value::Map(drift) = prior.get("drift") {
        for (component, why) in drift {
            crate::tf::diagnostics::warning(
                diags,
                format!("{resource}.{name}: {component} changed outside Terraform"),
                format!("{}; apply restores it.", why.as_str().unwrap_or("")),
            );
        }
    }
}

/// Read every component back. Returns the components that still exist and,
/// for each component that is missing or differs, a sentence saying how.
pub async fn observe(
    clients: &Clients,
    graph: &[Component],
    recorded: &Resolved,
) -> Result<(Resolved, BTreeMap<String, String>), String> {
    let backend = AwsBackend { clients };
    let observations = engine::observe_all(&backend, graph, recorded).await;
    let mut existing = Resolved::new();
    let mut drift = BTreeMap::new();
    for (key, observation) in observations {
        match observation {
            Err(e) => return Err(format!("reading {key}: {e}")),
            Ok(Observation::Missing) => {
                let why = if recorded.contains_key(&key) {
                    "deleted outside Terraform"
                } else {
                    "not created yet"
                };
                drift.insert(key, why.to_string());
            }
            Ok(Observation::Present { differences }) => {
                if let Some(id) = recorded.get(&key) {
                    existing.insert(key.clone(), id.clone());
                }
                if !differences.is_empty() {
                    drift.insert(key, differences.join("; "));
                }
            }
        }
    }
    // Recorded ids the graph does not know stay recorded: destroy reports them.
    for (key, id) in recorded {
        if !graph.iter().any(|c| &c.key == key) {
            existing.insert(key.clone(), id.clone());
        }
    }
    Ok((existing, drift))
}

fn log_progress(resource: &str, outcome: &Outcome) {
    for p in &outcome.progress {
        match p {
            Progress::Created(k) => tracing::info!(resource, component = k.as_str(), "created"),
            Progress::Updated(k, why) => {
                tracing::info!(
                    resource,
                    component = k.as_str(),
                    changes = why.join("; ").as_str(),
                    "updated"
                )
            }
            Progress::Unchanged(k) => {
                tracing::debug!(resource, component = k.as_str(), "unchanged")
            }
            Progress::Deleted(k) => tracing::info!(resource, component = k.as_str(), "deleted"),
        }
    }
}

/// Create or update a graph within `timeout`.
pub async fn apply(
    resource: &str,
    clients: &Clients,
    desired: &[Component],
    previous: &[Component],
    recorded: Resolved,
    timeout: Duration,
) -> Outcome {
    let backend = AwsBackend { clients };
    let outcome = engine::with_deadline(
        timeout,
        engine::apply(&backend, desired, previous, recorded),
    )
    .await;
    log_progress(resource, &outcome);
    outcome
}

/// Delete a graph within `timeout`.
pub async fn destroy(
    resource: &str,
    clients: &Clients,
    graph: &[Component],
    recorded: Resolved,
    timeout: Duration,
) -> Outcome {
    let backend = AwsBackend { clients };
    let outcome = engine::with_deadline(timeout, engine::destroy(&backend, graph, recorded)).await;
    log_progress(resource, &outcome);
    outcome
}

/// One error diagnostic per failed component, naming the component.
pub fn report_failures(diags: &mut Diagnostics, resource: &str, action: &str, outcome: &Outcome) {
    for e in &outcome.errors {
        error(
            diags,
            format!("{action} {resource}: component {} failed", e.component),
            format!(
                "{}\n\nEvery object created so far is recorded in the state (attribute `components`); \
                 the next apply or destroy continues from there.",
                e.message
            ),
        );
    }
}
