//! Apply, destroy and observe a graph of components through a [`Backend`].

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{FuturesUnordered, StreamExt};

use std::cmp::Reverse;

use super::backend::{Backend, Observation, Resolved, MAX_CONCURRENCY, READ_CONCURRENCY};
use super::deadline::{stop_requested, INTERRUPTED};
use super::order::{chain_lengths, creation_order, Direction};
use crate::spec::Component;

/// A component's step that failed, with what the backend said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError {
    pub component: String,
    pub message: String,
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.component, self.message)
    }
}

/// What happened to one component, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    Created(String),
    Updated(String, Vec<String>),
    Unchanged(String),
    Deleted(String),
}

/// The result of a run: the ids recorded afterwards (always, also after a
/// failure), the failures, and what was done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub recorded: Resolved,
    pub errors: Vec<StepError>,
    pub progress: Vec<Progress>,
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Told about each component as soon as it is done, while the run goes on
/// (the outcome's `progress` lists the same afterwards).
pub type Reporter<'a> = &'a (dyn Fn(&Progress) + Sync);

fn report_nothing(_: &Progress) {}

/// Bring every desired component into existence and in line with its spec,
/// dependencies first, then delete what `previous` had and `desired` no longer
/// has (in reverse order, after the survivors stopped pointing at it).
pub async fn apply<B: Backend>(
    backend: &B,
    desired: &[Component],
    previous: &[Component],
    recorded: Resolved,
) -> Outcome {
    apply_reporting(backend, desired, previous, recorded, &report_nothing).await
}

/// [`apply`], telling `report` about each component as it finishes.
pub async fn apply_reporting<B: Backend>(
    backend: &B,
    desired: &[Component],
    previous: &[Component],
    recorded: Resolved,
    report: Reporter<'_>,
) -> Outcome {
    let mut outcome = Outcome {
        recorded,
        ..Outcome::default()
    };
    let order = match creation_order(desired) {
        Ok(order) => order,
        Err(e) => {
            outcome.errors.push(StepError {
                component: "graph".into(),
                message: e.to_string(),
            });
            return outcome;
        }
    };
    let deps: Vec<Vec<usize>> = desired
        .iter()
        .map(|c| {
            c.depends_on
                .iter()
                .map(|d| {
                    desired
                        .iter()
                        .position(|o| &o.key == d)
                        .expect("checked by creation_order")
                })
                .collect()
        })
        .collect();
    let waits = waits_in_apply(backend, desired, &deps);
    // Components something starts after once they are made (what only
    // names them): once made, such a component hands its slot to them
    // (they start at once, even with every slot taken) and finishes
    // outside the bound (a role's policies: a request or two).
    let named: Vec<bool> = (0..desired.len())
        .map(|i| {
            (0..desired.len())
                .any(|j| deps[j].contains(&i) && backend.starts_once_made(&desired[j].spec))
        })
        .collect();
    let mut handed_over = 0usize;

    // Critical path first: among ready components, the one with the longest
    // chain of dependents starts first (the sort is stable, so ties keep
    // the dependency order).
    let chains = chain_lengths(desired, Direction::Dependents, |c| {
        backend.rounds(&c.spec, Direction::Dependents)
    });
    let mut pending: Vec<usize> = order;
    pending.sort_by_key(|&i| Reverse(chains[i]));
    // made: its create or update returned (its id is recorded); done: and
    // what came after (finish, settle) too.
    let mut made: BTreeSet<usize> = BTreeSet::new();
    let mut done: BTreeSet<usize> = BTreeSet::new();
    let mut in_flight = FuturesUnordered::new();
    // The reads that components to be created make before their create
    // (an owner check, a leftover of an interrupted apply) go out now,
    // beside the first round, instead of after their dependencies.
    let looked_ahead = futures::future::join_all(
        desired
            .iter()
            .filter(|c| !outcome.recorded.contains_key(&c.key))
            .map(|c| backend.look_ahead(&c.spec)),
    );
    let reconciled = async {
        loop {
            // After a failure or Terraform's stop request nothing new starts;
            // what is in flight finishes (its waits end at once on stop) and is
            // recorded.
            if outcome.errors.is_empty() && !stop_requested() {
                let mut i = 0;
                while i < pending.len() && in_flight.len() - handed_over < MAX_CONCURRENCY {
                    let idx = pending[i];
                    let ready = waits[idx].iter().all(|&(d, need)| match need {
                        Need::Made => made.contains(&d),
                        Need::Done => done.contains(&d),
                    });
                    if ready {
                        pending.remove(i);
                        let component = &desired[idx];
                        let id = outcome.recorded.get(&component.key).cloned();
                        let resolved = outcome.recorded.clone();
                        in_flight.push(work_on(
                            backend,
                            idx,
                            component,
                            Work::Make { id },
                            resolved,
                        ));
                    } else {
                        i += 1;
                    }
                }
            }
            let Some((idx, result)) = in_flight.next().await else {
                break;
            };
            let key = desired[idx].key.clone();
            let result = match result {
                // Made: its id is recorded now, so what only names it may
                // start; the rest of its step keeps its slot (unless
                // something only names it: see `named`).
                Phase::Made {
                    id,
                    created,
                    progress,
                } => {
                    outcome.recorded.insert(key, id.clone());
                    made.insert(idx);
                    if named[idx] {
                        handed_over += 1;
                    }
                    let work = Work::Finish {
                        id,
                        created,
                        progress,
                    };
                    in_flight.push(work_on(backend, idx, &desired[idx], work, Resolved::new()));
                    continue;
                }
                Phase::Ended(step) => step,
                Phase::Finished(step) => {
                    if named[idx] {
                        handed_over -= 1;
                    }
                    step
                }
            };
            match interrupted_step(result) {
                Step {
                    id: Some(id),
                    progress,
                    error,
                } => {
                    outcome.recorded.insert(key.clone(), id);
                    progress.iter().for_each(report);
                    outcome.progress.extend(progress);
                    match error {
                        None => {
                            made.insert(idx);
                            done.insert(idx);
                        }
                        Some(message) => outcome.errors.push(StepError {
                            component: key,
                            message,
                        }),
                    }
                }
                Step {
                    id: None,
                    progress,
                    error,
                } => {
                    outcome.recorded.remove(&key);
                    progress.iter().for_each(report);
                    outcome.progress.extend(progress);
                    outcome.errors.push(StepError {
                        component: key,
                        message: error.unwrap_or_else(|| "no id recorded".into()),
                    });
                }
            }
        }
    };
    futures::join!(looked_ahead, reconciled);
    if outcome.errors.is_empty() && stop_requested() && !pending.is_empty() {
        outcome.errors.push(StepError {
            component: desired[pending[0]].key.clone(),
            message: format!("{INTERRUPTED}; not started: {}", keys_of(desired, &pending)),
        });
    }
    if !outcome.errors.is_empty() {
        return outcome;
    }

    // Components the previous configuration had and this one has not.
    let wanted: BTreeSet<&str> = desired.iter().map(|c| c.key.as_str()).collect();
    let removed: Vec<Component> = previous
        .iter()
        .filter(|c| !wanted.contains(c.key.as_str()))
        .cloned()
        .collect();
    if removed.is_empty() {
        return outcome;
    }
    let removed_ids: Resolved = removed
        .iter()
        .filter_map(|c| {
            outcome
                .recorded
                .get(&c.key)
                .map(|id| (c.key.clone(), id.clone()))
        })
        .collect();
    let kept: Resolved = outcome
        .recorded
        .iter()
        .filter(|(k, _)| !removed_ids.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let deleted = destroy_reporting(backend, &removed, removed_ids, report).await;
    outcome.recorded = kept;
    outcome.recorded.extend(deleted.recorded);
    outcome.errors.extend(deleted.errors);
    outcome.progress.extend(deleted.progress);
    outcome
}

/// A step that failed while Terraform asked the provider to stop failed
/// because of it (its wait was cut short): say so.
fn interrupted_step(mut step: Step) -> Step {
    if stop_requested() {
        if let Some(e) = &step.error {
            step.error = Some(format!("{INTERRUPTED} ({e})"));
        }
    }
    step
}

fn keys_of(graph: &[Component], indices: &[usize]) -> String {
    indices
        .iter()
        .map(|&i| graph[i].key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The result of reconciling one component: the id to record (None when
/// nothing exists), what was done, and the error that stopped it, if any.
struct Step {
    id: Option<String>,
    progress: Vec<Progress>,
    error: Option<String>,
}

/// What is left to do for one component.
enum Work {
    /// Observe it (when recorded), then create or update it.
    Make { id: Option<String> },
    /// After its create or update: finish the create, then settle.
    Finish {
        id: String,
        created: bool,
        progress: Progress,
    },
}

/// How far one component got.
enum Phase {
    /// Created (`created`) or updated, with the id to record; its finish
    /// and settle are still to come.
    Made {
        id: String,
        created: bool,
        progress: Progress,
    },
    /// Nothing more to do: unchanged or failed before it was made.
    Ended(Step),
    /// Its finish and settle ran (failed or not).
    Finished(Step),
}

/// Do `work` for component `idx` (one future type for both parts, so both
/// share the in-flight set and its concurrency bound).
async fn work_on<B: Backend>(
    backend: &B,
    idx: usize,
    component: &Component,
    work: Work,
    resolved: Resolved,
) -> (usize, Phase) {
    let phase = match work {
        Work::Make { id } => make_one(backend, component, id, resolved).await,
        Work::Finish {
            id,
            created,
            progress,
        } => Phase::Finished(finish_one(backend, component, id, created, progress).await),
    };
    (idx, phase)
}

async fn make_one<B: Backend>(
    backend: &B,
    component: &Component,
    id: Option<String>,
    resolved: Resolved,
) -> Phase {
    let key = component.key.clone();
    let spec = &component.spec;
    let observed = match &id {
        None => Observation::Missing,
        Some(id) => match backend.observe(spec, id, &resolved).await {
            Ok(o) => o,
            Err(e) => {
                return Phase::Ended(Step {
                    id: Some(id.clone()),
                    progress: vec![],
                    error: Some(e.to_string()),
                })
            }
        },
    };
    match observed {
        Observation::Missing => match backend.create(spec, &resolved).await {
            Ok(id) => Phase::Made {
                id,
                created: true,
                progress: Progress::Created(key),
            },
            Err(e) => Phase::Ended(Step {
                id: None,
                progress: vec![],
                error: Some(e.to_string()),
            }),
        },
        Observation::Present { differences } if differences.is_empty() => Phase::Ended(Step {
            id: Some(id.expect("present implies recorded")),
            progress: vec![Progress::Unchanged(key)],
            error: None,
        }),
        Observation::Present { differences } => {
            let old = id.expect("present implies recorded");
            match backend.update(spec, &old, &resolved).await {
                Ok(id) => Phase::Made {
                    id,
                    created: false,
                    progress: Progress::Updated(key, differences),
                },
                Err(e) => Phase::Ended(Step {
                    id: Some(old),
                    progress: vec![],
                    error: Some(e.to_string()),
                }),
            }
        }
    }
}

/// The rest of a component's step once its id is recorded: what its create
/// left for later ([`Backend::finish_create`]), then the wait until it is
/// ready for what uses it.
async fn finish_one<B: Backend>(
    backend: &B,
    component: &Component,
    id: String,
    created: bool,
    progress: Progress,
) -> Step {
    let spec = &component.spec;
    let finished = if created {
        backend.finish_create(spec, &id).await
    } else {
        Ok(())
    };
    let error = match finished {
        Ok(()) => backend.settle(spec, &id).await.err(),
        Err(e) => Some(e),
    };
    Step {
        id: Some(id),
        progress: vec![progress],
        error: error.map(|e| e.to_string()),
    }
}

/// Whether a component waits for a dependency to be made (its id
/// recorded) or done (finished and settled too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    Made,
    Done,
}

/// What each component's create or update waits for. One that starts once
/// its dependencies are made ([`Backend::starts_once_made`]: a task
/// definition only names its roles) needs their ids recorded. Any other
/// needs its dependencies done, and, past a dependency that started once
/// its own were made, those done too (transitively): the service whose
/// tasks assume a role waits for the role's policies although the task
/// definition between them did not.
fn waits_in_apply<B: Backend>(
    backend: &B,
    graph: &[Component],
    deps: &[Vec<usize>],
) -> Vec<Vec<(usize, Need)>> {
    (0..graph.len())
        .map(|i| {
            if backend.starts_once_made(&graph[i].spec) {
                return deps[i].iter().map(|&d| (d, Need::Made)).collect();
            }
            let mut waits = BTreeSet::new();
            let mut todo = deps[i].clone();
            while let Some(d) = todo.pop() {
                if !waits.insert(d) {
                    continue;
                }
                if backend.starts_once_made(&graph[d].spec) {
                    todo.extend(deps[d].iter().copied());
                }
            }
            waits.into_iter().map(|d| (d, Need::Done)).collect()
        })
        .collect()
}

/// What each component's delete waits for: its dependents, except that a
/// dependent that only names it ([`Backend::only_names_its_dependencies`])
/// stands for its own dependents instead (transitively).
fn waiting_past_namers<B: Backend>(
    backend: &B,
    graph: &[Component],
    dependents: &[Vec<usize>],
) -> Vec<Vec<usize>> {
    (0..graph.len())
        .map(|i| {
            let mut waits = BTreeSet::new();
            let mut seen = BTreeSet::new();
            let mut todo = dependents[i].clone();
            while let Some(d) = todo.pop() {
                if !seen.insert(d) {
                    continue;
                }
                if backend.only_names_its_dependencies(&graph[d].spec) {
                    todo.extend(dependents[d].iter().copied());
                } else {
                    waits.insert(d);
                }
            }
            waits.into_iter().collect()
        })
        .collect()
}

/// Delete every recorded component of `graph`, dependents before what they
/// depend on, independent ones concurrently. Deleting continues past a
/// failure wherever the order allows, so one stuck object does not keep the
/// rest alive; what could not be deleted stays recorded.
pub async fn destroy<B: Backend>(backend: &B, graph: &[Component], recorded: Resolved) -> Outcome {
    destroy_reporting(backend, graph, recorded, &report_nothing).await
}

/// [`destroy`], telling `report` about each component as it is deleted.
pub async fn destroy_reporting<B: Backend>(
    backend: &B,
    graph: &[Component],
    recorded: Resolved,
    report: Reporter<'_>,
) -> Outcome {
    let mut outcome = Outcome {
        recorded,
        ..Outcome::default()
    };
    for key in outcome.recorded.keys() {
        if !graph.iter().any(|c| &c.key == key) {
            outcome.errors.push(StepError {
                component: key.clone(),
                message: "recorded in state but unknown to this configuration; delete it by hand"
                    .into(),
            });
        }
    }
    // dependents[i]: components (of this graph) that depend on component i.
    let index: BTreeMap<&str, usize> = graph
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key.as_str(), i))
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); graph.len()];
    for (i, c) in graph.iter().enumerate() {
        for d in &c.depends_on {
            if let Some(&j) = index.get(d.as_str()) {
                dependents[j].push(i);
            }
        }
    }
    let dependents = waiting_past_namers(backend, graph, &dependents);
    // Critical path first: among deletable components, the one with the
    // longest chain of dependencies behind it goes first.
    let chains = chain_lengths(graph, Direction::Dependencies, |c| {
        backend.rounds(&c.spec, Direction::Dependencies)
    });
    let mut pending: Vec<usize> = (0..graph.len()).rev().collect();
    pending.sort_by_key(|&i| Reverse(chains[i]));
    let mut gone: BTreeSet<usize> = BTreeSet::new();
    let mut blocked: BTreeSet<usize> = BTreeSet::new();
    // What deletes read before they write (a role's owner check and
    // policies) goes out now, beside the first deletes, instead of after
    // what depends on them is gone.
    let looked_ahead = futures::future::join_all(graph.iter().filter_map(|c| {
        let id = outcome.recorded.get(&c.key)?.clone();
        Some(async move { backend.look_ahead_delete(&c.spec, &id).await })
    }));
    let deleted = async {
        let mut in_flight = FuturesUnordered::new();
        // Gone objects whose delete's finish is under way: a wait for what AWS
        // does after them, outside the bound.
        let mut finishing = 0usize;
        loop {
            let mut i = 0;
            while i < pending.len()
                && in_flight.len() - finishing < MAX_CONCURRENCY
                && !stop_requested()
            {
                let idx = pending[i];
                if dependents[idx].iter().any(|d| blocked.contains(d)) {
                    // Something that depends on it could not be deleted. What
                    // it depends on may sit earlier in `pending` and was passed
                    // over as not ready: scan again, so it is blocked too.
                    pending.remove(i);
                    blocked.insert(idx);
                    i = 0;
                    continue;
                }
                if dependents[idx].iter().all(|d| gone.contains(d)) {
                    pending.remove(i);
                    let component = &graph[idx];
                    match outcome.recorded.get(&component.key).cloned() {
                        None => {
                            gone.insert(idx);
                        }
                        Some(id) => in_flight.push(delete_step(backend, idx, component, id, false)),
                    }
                    i = 0;
                } else {
                    i += 1;
                }
            }
            let Some((idx, finished, result)) = in_flight.next().await else {
                if pending.is_empty() {
                    break;
                }
                if stop_requested() {
                    outcome.errors.push(StepError {
                        component: graph[pending[0]].key.clone(),
                        message: format!(
                            "{INTERRUPTED}; not deleted: {}",
                            keys_of(graph, &pending)
                        ),
                    });
                    break;
                }
                // Nothing running and nothing startable: only possible with a
                // dependency cycle, which expansions never produce.
                for idx in pending.drain(..) {
                    outcome.errors.push(StepError {
                        component: graph[idx].key.clone(),
                        message: "not deleted: dependency cycle".into(),
                    });
                }
                break;
            };
            let key = graph[idx].key.clone();
            if finished {
                finishing -= 1;
            }
            match result {
                // Gone: what it depends on may go now; it stays recorded until
                // its delete's finish is done too (a failed finish is retried
                // by the next destroy).
                Ok(()) if !finished => {
                    gone.insert(idx);
                    if let Some(id) = outcome.recorded.get(&key).cloned() {
                        finishing += 1;
                        in_flight.push(delete_step(backend, idx, &graph[idx], id, true));
                    }
                }
                Ok(()) => {
                    outcome.recorded.remove(&key);
                    let progress = Progress::Deleted(key);
                    report(&progress);
                    outcome.progress.push(progress);
                }
                Err(message) => {
                    outcome.errors.push(StepError {
                        component: key,
                        message,
                    });
                    // Gone already (its finish failed): what it depends on
                    // went on; else they wait, and stay.
                    if !finished {
                        blocked.insert(idx);
                    }
                }
            }
        }
    };
    futures::join!(looked_ahead, deleted);
    outcome
}

/// Delete one component (`finish`: the rest of its delete, once it is
/// gone, [`Backend::finish_delete`]); with whether this was the finish.
async fn delete_step<B: Backend>(
    backend: &B,
    idx: usize,
    component: &Component,
    id: String,
    finish: bool,
) -> (usize, bool, Result<(), String>) {
    let result = if finish {
        backend.finish_delete(&component.spec, &id).await
    } else {
        backend.delete(&component.spec, &id).await
    };
    (idx, finish, result.map_err(|e| e.to_string()))
}

/// Read every recorded component back, concurrently (all of a graph at once:
/// reads are cheap, and a refresh then takes one round, not one per
/// [`MAX_CONCURRENCY`] components). Components the backend reads together
/// ([`Backend::read_batch`]) go in one [`Backend::observe_batch`].
/// Components of the graph with nothing recorded are reported as missing.
pub async fn observe_all<B: Backend>(
    backend: &B,
    graph: &[Component],
    recorded: &Resolved,
) -> BTreeMap<String, Result<Observation, String>> {
    let mut observations = BTreeMap::new();
    // Groups of components read by one request each: a batch, or one alone.
    let mut batches: BTreeMap<&'static str, Vec<(&Component, &str)>> = BTreeMap::new();
    let mut groups: Vec<Vec<(&Component, &str)>> = Vec::new();
    for c in graph {
        match recorded.get(&c.key) {
            None => {
                observations.insert(c.key.clone(), Ok(Observation::Missing));
            }
            Some(id) => match backend.read_batch(&c.spec) {
                Some(batch) => batches.entry(batch).or_default().push((c, id.as_str())),
                None => groups.push(vec![(c, id.as_str())]),
            },
        }
    }
    groups.extend(batches.into_values());
    // The futures are collected first: a stream built from a closure that
    // returns async blocks is not provably Send inside async_trait methods.
    let pending: Vec<_> = groups
        .into_iter()
        .map(|group| observe_group(backend, group, recorded))
        .collect();
    let read = futures::stream::iter(pending)
        .buffer_unordered(READ_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    observations.extend(read.into_iter().flatten());
    observations
}

async fn observe_group<B: Backend>(
    backend: &B,
    group: Vec<(&Component, &str)>,
    recorded: &Resolved,
) -> Vec<(String, Result<Observation, String>)> {
    if let [(c, id)] = group[..] {
        let result = backend
            .observe(&c.spec, id, recorded)
            .await
            .map_err(|e| e.to_string());
        return vec![(c.key.clone(), result)];
    }
    let items: Vec<(&crate::spec::Spec, &str)> =
        group.iter().map(|(c, id)| (&c.spec, *id)).collect();
    let results = backend.observe_batch(&items, recorded).await;
    let mut out: Vec<(String, Result<Observation, String>)> = group
        .iter()
        .zip(results)
        .map(|((c, _), r)| (c.key.clone(), r.map_err(|e| e.to_string())))
        .collect();
    // A backend that answered for fewer items than asked: the rest failed.
    for (c, _) in group.iter().skip(out.len()) {
        out.push((c.key.clone(), Err("no answer in the batched read".into())));
    }
    out
}
