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

/// Which way a run walks the dependency edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Create and update: a component unblocks what depends on it.
    Dependents,
    /// Delete: a component, once gone, unblocks what it depends on.
    Dependencies,
}

/// For each component, how many sequential requests the longest chain that
/// it starts takes (its own included; `rounds` says how many each
/// component's create or delete makes one after the other), walking
/// `direction`: the rounds that at least remain once it starts. Starting
/// the ready component with the longest chain first keeps the critical path
/// moving, instead of letting components nothing waits for (alarms) take
/// every slot while a slow one (a dashboard's four calls) waits for one.
/// Unknown dependencies are ignored and a cycle ends a chain, so this never
/// fails; the runs report those.
pub fn chain_lengths(
    components: &[Component],
    direction: Direction,
    rounds: impl Fn(&Component) -> usize,
) -> Vec<usize> {
    let rounds: Vec<usize> = components.iter().map(|c| rounds(c).max(1)).collect();
    let index: BTreeMap<&str, usize> = components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key.as_str(), i))
        .collect();
    // next[i]: the components that become closer to ready once i is done.
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); components.len()];
    for (i, c) in components.iter().enumerate() {
        for d in &c.depends_on {
            if let Some(&j) = index.get(d.as_str()) {
                match direction {
                    Direction::Dependents => next[j].push(i),
                    Direction::Dependencies => next[i].push(j),
                }
            }
        }
    }
    // 0: not computed yet; usize::MAX: being computed (a cycle when met).
    let mut length = vec![0usize; components.len()];
    fn visit(i: usize, next: &[Vec<usize>], rounds: &[usize], length: &mut [usize]) -> usize {
        match length[i] {
            0 => {}
            usize::MAX => return 0,
            known => return known,
        }
        length[i] = usize::MAX;
        let mut longest = 0;
        for &j in &next[i] {
            longest = longest.max(visit(j, next, rounds, length));
        }
        length[i] = longest + rounds[i];
        length[i]
    }
    for i in 0..components.len() {
        visit(i, &next, &rounds, &mut length);
    }
    length
}
