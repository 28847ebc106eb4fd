//! Dependency order of a graph's components.

use std::collections::{BTreeMap, BTreeSet};

use crate::spec::Component;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    UnknownDependency {
        component: String,
        dependency: String,
    },
    Cycle(Vec<String>),
    DuplicateKey(String),
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderError::UnknownDependency {
                component,
                dependency,
            } => write!(
                f,
                "component {component} depends on unknown component {dependency}"
            ),
            OrderError::Cycle(keys) => write!(f, "dependency cycle among {}", keys.join(", ")),
            OrderError::DuplicateKey(k) => write!(f, "two components share the key {k}"),
        }
    }
}

/// A topological order (dependencies first), stable: among components that
/// are ready at the same time, the graph's own order is kept.
pub fn creation_order(components: &[Component]) -> Result<Vec<usize>, OrderError> {
    let mut index = BTreeMap::new();
    for (i, c) in components.iter().enumerate() {
        if index.insert(c.key.as_str(), i).is_some() {
            return Err(OrderError::DuplicateKey(c.key.clone()));
        }
    }
    for c in components {
        for d in &c.depends_on {
            if !index.contains_key(d.as_str()) {
                return Err(OrderError::UnknownDependency {
                    component: c.key.clone(),
                    dependency: d.clone(),
                });
            }
        }
    }
    let mut done: BTreeSet<usize> = BTreeSet::new();
    let mut order = Vec::with_capacity(components.len());
    while order.len() < components.len() {
        let before = order.len();
        for (i, c) in components.iter().enumerate() {
            if done.contains(&i) {
                continue;
            }
            if c.depends_on
                .iter()
                .all(|d| done.contains(&index[d.as_str()]))
            {
                done.insert(i);
                order.push(i);
            }
        }
        if order.len() == before {
            let stuck = components
                .iter()
                .enumerate()
                .filter(|(i, _)| !done.contains(i))
                .map(|(_, c)| c.key.clone())
                .collect();
            return Err(OrderError::Cycle(stuck));
        }
    }
    Ok(order)
}
