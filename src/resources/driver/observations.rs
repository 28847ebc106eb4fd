//! What reading the components back says, and the components changed in
//! ways no argument shows (kept in private state until the next apply).

use std::collections::BTreeMap;

use crate::engine::{Observation, Resolved};
use crate::resources::lifecycle::{self};
use crate::spec::DesiredGraph;
use crate::tf::value::Value;

/// What reading the components back says.
#[derive(Debug, Default, PartialEq)]
pub struct Sorted {
    /// The components to keep recording.
    pub existing: Resolved,
    /// Components changed outside Terraform in ways no argument shows,
    /// dropped from `components` (so the plan shows them updated) but
    /// remembered in private state (so the apply updates, not duplicates).
    pub stale: Resolved,
    /// A short sentence per component that no argument can show.
    pub drift: BTreeMap<String, String>,
}

impl Sorted {
    /// Whether nothing `recorded` exists any more. An object changed out of
    /// band still exists: a create killed between CreateLogGroup and
    /// PutRetentionPolicy leaves only such objects, and its import must not
    /// read as "gone".
    pub fn all_gone(&self, recorded: &Resolved) -> bool {
        self.existing.is_empty() && self.stale.is_empty() && !recorded.is_empty()
    }
}

/// Sort the observations of `graph`'s components.
pub fn sort_observations(
    graph: &DesiredGraph,
    recorded: &Resolved,
    observations: BTreeMap<String, Observation>,
) -> Sorted {
    let mut sorted = Sorted::default();
    for (key, observation) in observations {
        let Some(id) = recorded.get(&key) else {
            continue;
        };
        match observation {
            Observation::Missing => {
                sorted
                    .drift
                    .insert(key, "it was deleted outside Terraform".to_string());
            }
            Observation::Present { differences } if differences.is_empty() => {
                sorted.existing.insert(key, id.clone());
            }
            Observation::Present { differences } => {
                // What AWS moved itself is updated, not reported as drift.
                if !differences
                    .iter()
                    .all(|d| d.starts_with(crate::engine::FOLLOWS_AWS))
                {
                    sorted.drift.insert(key.clone(), summarize(&differences));
                }
                sorted.stale.insert(key, id.clone());
            }
        }
    }
    // Recorded ids the graph does not know stay recorded: destroy reports them.
    for (key, id) in recorded {
        if graph.get(key).is_none() {
            sorted.existing.insert(key.clone(), id.clone());
        }
    }
    sorted
}

/// A short sentence for differences no argument shows: what differs, never
/// the values (an alarm's or dashboard's would be kilobytes).
pub(super) fn summarize(differences: &[String]) -> String {
    let what: Vec<String> = differences
        .iter()
        .map(|d| {
            let head = d.split([':', '(']).next().unwrap_or(d).trim();
            let mut head: String = head.chars().take(60).collect();
            if head.len() < d.trim().len() && !head.ends_with("...") && head.len() == 60 {
                head.push_str("...");
            }
            head
        })
        .collect();
    let mut unique: Vec<String> = Vec::new();
    for w in what {
        if !unique.contains(&w) {
            unique.push(w);
        }
    }
    format!(
        "its settings were changed outside Terraform ({})",
        unique.join(", ")
    )
}

/// Components a read found changed in ways no argument shows, kept in
/// private state between read, plan and apply.
pub(super) fn stale_ids(private: &Value) -> Resolved {
    lifecycle::recorded_components(&Value::Map(
        [("components".to_string(), private.get("stale").clone())]
            .into_iter()
            .collect(),
    ))
}

pub(super) fn private_with_stale(stale: &Resolved) -> Value {
    if stale.is_empty() {
        return Value::Null;
    }
    let mut private = Value::Null;
    private.set("stale", lifecycle::components_value(stale));
    private
}
