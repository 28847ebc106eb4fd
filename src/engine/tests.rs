//! The engine against a fake backend that records every call.
//!
//! Components are `LogGroup` specs whose `name` is the component key, so the
//! fake knows which component a call is about. Ids are `KEY#N`: the N-th
//! object the fake made for that key, so duplicates are easy to see.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::order::{chain_lengths, Direction};
use super::*;
use crate::spec::logs::LogGroupSpec;
use crate::spec::{Component, Spec, Tags};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Observe,
    /// One read of several components (`key`: their keys joined by `+`).
    ObserveBatch,
    Create,
    Update,
    Settle,
    /// The rest of a create (`Backend::finish_create`).
    Finish,
    Delete,
    /// The rest of a delete (`Backend::finish_delete`).
    FinishDelete,
    /// A create's read ahead (recorded only by a fake `looking_ahead`).
    LookAhead,
}

/// One call the engine made.
#[derive(Clone, Debug)]
struct Call {
    op: Op,
    key: String,
    /// The id passed in (observe, update, settle, delete) or returned
    /// (create; update's new id replaces the old one once it returns).
    id: Option<String>,
    /// What the engine handed over as already recorded.
    resolved: Resolved,
    /// Global sequence numbers: every start and every end takes the next.
    started: u64,
    finished: Option<u64>,
    at: Instant,
}

/// A point in the run a call may be told to wait for.
#[derive(Clone, Copy, Debug)]
enum Until {
    Started(Op, &'static str),
    Finished(Op, &'static str),
}

/// The fake world: which objects exist, and what was done to it.
#[derive(Default)]
struct World {
    seq: u64,
    calls: Vec<Call>,
    in_flight: usize,
    max_in_flight: usize,
    made: BTreeMap<String, u32>,
    alive: BTreeSet<String>,
    /// Differences `observe` reports for a key until it is updated.
    differences: BTreeMap<String, Vec<String>>,
}

#[derive(Default)]
struct Fake {
    world: Mutex<World>,
    /// Calls (op, key) that fail.
    failing: BTreeSet<(Op, String)>,
    /// How long creates, updates and deletes take.
    delay: Duration,
    /// Calls (op, key) that only finish once something else happened.
    waits: BTreeMap<(Op, String), Until>,
    /// Keys whose create takes this many delays (sequential requests).
    slow: BTreeMap<String, usize>,
    /// Keys that only name what they depend on (see
    /// `Backend::only_names_its_dependencies`).
    namers: BTreeSet<String>,
    /// Keys that start once what they depend on is made, without only
    /// naming it (see `Backend::starts_once_made`).
    finders: BTreeSet<String>,
    /// Whether look-aheads are recorded (each takes one delay).
    looking_ahead: bool,
}

fn key_of(spec: &Spec) -> String {
    match spec {
        Spec::LogGroup(l) => l.name.clone(),
        other => panic!("the fake only knows log groups, got {other:?}"),
    }
}

fn spec(key: &str) -> Spec {
    Spec::LogGroup(LogGroupSpec {
        name: key.to_string(),
        retention_days: 7,
        tags: Tags::new(),
    })
}

fn comp(key: &str, deps: &[&str]) -> Component {
    Component::new(key, spec(key)).after(deps)
}

fn ids(pairs: &[(&str, &str)]) -> Resolved {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn keys(r: &Resolved) -> Vec<&str> {
    r.keys().map(String::as_str).collect()
}

impl Fake {
    fn new() -> Self {
        Fake::default()
    }

    fn failing(mut self, op: Op, key: &str) -> Self {
        self.failing.insert((op, key.to_string()));
        self
    }

    fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }

    fn looking_ahead(mut self) -> Self {
        self.looking_ahead = true;
        self
    }

    fn naming_only(mut self, key: &str) -> Self {
        self.namers.insert(key.to_string());
        self
    }

    fn finding(mut self, key: &str) -> Self {
        self.finders.insert(key.to_string());
        self
    }

    fn slow(mut self, key: &str, rounds: usize) -> Self {
        self.slow.insert(key.to_string(), rounds);
        self
    }

    fn wait(mut self, op: Op, key: &str, until: Until) -> Self {
        self.waits.insert((op, key.to_string()), until);
        self
    }

    /// Objects that exist before the run, as if an earlier apply made them.
    fn existing(self, keys: &[&str]) -> (Self, Resolved) {
        let mut recorded = Resolved::new();
        {
            let mut w = self.world.lock().unwrap();
            for k in keys {
                let id = w.new_id(k);
                w.alive.insert(id.clone());
                recorded.insert(k.to_string(), id);
            }
        }
        (self, recorded)
    }

    fn drifted(&self, key: &str, why: &str) {
        let mut w = self.world.lock().unwrap();
        w.differences.insert(key.to_string(), vec![why.to_string()]);
    }

    fn delete_out_of_band(&self, id: &str) {
        assert!(
            self.world.lock().unwrap().alive.remove(id),
            "{id} did not exist"
        );
    }

    fn begin(&self, op: Op, key: &str, id: Option<&str>, resolved: &Resolved) -> usize {
        let mut w = self.world.lock().unwrap();
        w.seq += 1;
        let started = w.seq;
        w.in_flight += 1;
        w.max_in_flight = w.max_in_flight.max(w.in_flight);
        w.calls.push(Call {
            op,
            key: key.to_string(),
            id: id.map(str::to_string),
            resolved: resolved.clone(),
            started,
            finished: None,
            at: Instant::now(),
        });
        w.calls.len() - 1
    }

    fn end(&self, call: usize, id: Option<&str>) {
        let mut w = self.world.lock().unwrap();
        w.seq += 1;
        let seq = w.seq;
        w.in_flight -= 1;
        let c = &mut w.calls[call];
        c.finished = Some(seq);
        if let Some(id) = id {
            c.id = Some(id.to_string());
        }
    }

    /// The configured delay, then any configured wait.
    async fn work(&self, op: Op, key: &str) {
        if !self.delay.is_zero() && matches!(op, Op::Create | Op::Update | Op::Delete) {
            let rounds = match op {
                Op::Create => self.slow.get(key).copied().unwrap_or(1),
                _ => 1,
            };
            tokio::time::sleep(self.delay * rounds as u32).await;
        } else {
            tokio::task::yield_now().await;
        }
        let Some(until) = self.waits.get(&(op, key.to_string())).copied() else {
            return;
        };
        let give_up = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let reached = {
                let w = self.world.lock().unwrap();
                w.calls.iter().any(|c| match until {
                    Until::Started(op, key) => c.op == op && c.key == key,
                    Until::Finished(op, key) => c.op == op && c.key == key && c.finished.is_some(),
                })
            };
            if reached {
                return;
            }
            assert!(
                std::time::Instant::now() < give_up,
                "{op:?} {key} waited in vain for {until:?}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn fails(&self, op: Op, key: &str) -> bool {
        self.failing.contains(&(op, key.to_string()))
    }

    // What the run did.

    fn calls(&self) -> Vec<Call> {
        self.world.lock().unwrap().calls.clone()
    }

    /// Keys of the calls of one kind, in the order they started.
    fn keys_of(&self, op: Op) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.op == op)
            .map(|c| c.key)
            .collect()
    }

    fn count(&self, op: Op, key: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.op == op && c.key == key)
            .count()
    }

    /// The only call of this kind for this key.
    fn the(&self, op: Op, key: &str) -> Call {
        let found: Vec<Call> = self
            .calls()
            .into_iter()
            .filter(|c| c.op == op && c.key == key)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected exactly one {op:?} of {key}, got {found:?}"
        );
        found.into_iter().next().unwrap()
    }

    fn max_in_flight(&self) -> usize {
        self.world.lock().unwrap().max_in_flight
    }

    fn alive(&self) -> BTreeSet<String> {
        self.world.lock().unwrap().alive.clone()
    }
}

impl World {
    fn new_id(&mut self, key: &str) -> String {
        let n = self.made.entry(key.to_string()).or_default();
        *n += 1;
        format!("{key}#{n}")
    }
}

/// `first` finished before `then` started.
fn before(first: &Call, then: &Call) {
    let done = first.finished.expect("first call never finished");
    assert!(
        done < then.started,
        "{:?} {} (ended at {done}) should finish before {:?} {} starts (at {})",
        first.op,
        first.key,
        then.op,
        then.key,
        then.started
    );
}

#[async_trait]
impl Backend for Fake {
    type Spec = Spec;
    type Error = String;

    async fn observe(
        &self,
        spec: &Spec,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, String> {
        let key = key_of(spec);
        let call = self.begin(Op::Observe, &key, Some(id), resolved);
        self.work(Op::Observe, &key).await;
        let result = if self.fails(Op::Observe, &key) {
            Err(format!("observe {key}: access denied"))
        } else {
            let w = self.world.lock().unwrap();
            Ok(if !w.alive.contains(id) {
                Observation::Missing
            } else {
                Observation::with_differences(w.differences.get(&key).cloned().unwrap_or_default())
            })
        };
        self.end(call, None);
        result
    }

    async fn create(&self, spec: &Spec, resolved: &Resolved) -> Result<String, String> {
        let key = key_of(spec);
        let call = self.begin(Op::Create, &key, None, resolved);
        self.work(Op::Create, &key).await;
        let result = if self.fails(Op::Create, &key) {
            Err(format!("create {key}: refused"))
        } else {
            let mut w = self.world.lock().unwrap();
            let id = w.new_id(&key);
            w.alive.insert(id.clone());
            Ok(id)
        };
        self.end(call, result.as_deref().ok());
        result
    }

    async fn update(&self, spec: &Spec, id: &str, resolved: &Resolved) -> Result<String, String> {
        let key = key_of(spec);
        let call = self.begin(Op::Update, &key, Some(id), resolved);
        self.work(Op::Update, &key).await;
        let result = if self.fails(Op::Update, &key) {
            Err(format!("update {key}: refused"))
        } else {
            // Like a task definition: an update makes a new revision.
            let mut w = self.world.lock().unwrap();
            w.alive.remove(id);
            w.differences.remove(&key);
            let new = w.new_id(&key);
            w.alive.insert(new.clone());
            Ok(new)
        };
        self.end(call, result.as_deref().ok());
        result
    }

    async fn settle(&self, spec: &Spec, id: &str) -> Result<(), String> {
        let key = key_of(spec);
        let call = self.begin(Op::Settle, &key, Some(id), &Resolved::new());
        self.work(Op::Settle, &key).await;
        let result = if self.fails(Op::Settle, &key) {
            Err(format!("{key} did not become ready"))
        } else {
            Ok(())
        };
        self.end(call, None);
        result
    }

    async fn finish_create(&self, spec: &Spec, id: &str) -> Result<(), String> {
        let key = key_of(spec);
        let call = self.begin(Op::Finish, &key, Some(id), &Resolved::new());
        self.work(Op::Finish, &key).await;
        let result = if self.fails(Op::Finish, &key) {
            Err(format!("{key}: policy refused"))
        } else {
            Ok(())
        };
        self.end(call, None);
        result
    }

    async fn delete(&self, spec: &Spec, id: &str) -> Result<(), String> {
        let key = key_of(spec);
        let call = self.begin(Op::Delete, &key, Some(id), &Resolved::new());
        self.work(Op::Delete, &key).await;
        let result = if self.fails(Op::Delete, &key) {
            Err(format!("delete {key}: still in use"))
        } else {
            self.world.lock().unwrap().alive.remove(id);
            Ok(())
        };
        self.end(call, None);
        result
    }

    /// Recorded only for keys a test gives a wait or a failure (the other
    /// tests count deletes alone).
    async fn finish_delete(&self, spec: &Spec, id: &str) -> Result<(), String> {
        let key = key_of(spec);
        let op = (Op::FinishDelete, key.clone());
        if !self.waits.contains_key(&op) && !self.failing.contains(&op) {
            return Ok(());
        }
        let call = self.begin(Op::FinishDelete, &key, Some(id), &Resolved::new());
        self.work(Op::FinishDelete, &key).await;
        let result = if self.fails(Op::FinishDelete, &key) {
            Err(format!("{key}: what it left behind is still there"))
        } else {
            Ok(())
        };
        self.end(call, None);
        result
    }

    /// Components whose key starts with `alarm` are read together.
    fn rounds(&self, spec: &Spec, direction: Direction) -> usize {
        match direction {
            Direction::Dependents => self.slow.get(&key_of(spec)).copied().unwrap_or(1),
            Direction::Dependencies => 1,
        }
    }

    fn only_names_its_dependencies(&self, spec: &Spec) -> bool {
        self.namers.contains(&key_of(spec))
    }

    fn starts_once_made(&self, spec: &Spec) -> bool {
        let key = key_of(spec);
        self.namers.contains(&key) || self.finders.contains(&key)
    }

    async fn look_ahead(&self, spec: &Spec) {
        if self.looking_ahead {
            let call = self.begin(Op::LookAhead, &key_of(spec), None, &Resolved::new());
            tokio::time::sleep(self.delay).await;
            self.end(call, None);
        }
    }

    async fn look_ahead_delete(&self, spec: &Spec, _: &str) {
        self.look_ahead(spec).await
    }

    fn read_batch(&self, spec: &Spec) -> Option<&'static str> {
        key_of(spec).starts_with("alarm").then_some("alarms")
    }

    async fn observe_batch(
        &self,
        items: &[(&Spec, &str)],
        resolved: &Resolved,
    ) -> Vec<Result<Observation, String>> {
        let keys: Vec<String> = items.iter().map(|(s, _)| key_of(s)).collect();
        let call = self.begin(Op::ObserveBatch, &keys.join("+"), None, resolved);
        self.work(Op::ObserveBatch, "").await;
        let w = self.world.lock().unwrap();
        let results = items
            .iter()
            .zip(&keys)
            .map(|((_, id), key)| {
                Ok(if !w.alive.contains(*id) {
                    Observation::Missing
                } else {
                    Observation::with_differences(
                        w.differences.get(key).cloned().unwrap_or_default(),
                    )
                })
            })
            .collect();
        drop(w);
        self.end(call, None);
        results
    }
}

fn error_components(outcome: &Outcome) -> Vec<&str> {
    outcome
        .errors
        .iter()
        .map(|e| e.component.as_str())
        .collect()
}

// creation_order

fn order_keys(graph: &[Component]) -> Vec<&str> {
    creation_order(graph)
        .unwrap()
        .into_iter()
        .map(|i| graph[i].key.as_str())
        .collect()
}

#[test]
fn creation_order_puts_dependencies_first_and_keeps_graph_order() {
    let graph = [
        comp("service", &["task", "discovery"]),
        comp("log", &[]),
        comp("task", &["log"]),
        comp("discovery", &[]),
        comp("alarm", &["service"]),
    ];
    assert_eq!(
        order_keys(&graph),
        ["log", "task", "discovery", "service", "alarm"]
    );
    assert!(creation_order(&[]).unwrap().is_empty());
}

#[test]
fn creation_order_detects_cycles() {
    let graph = [comp("a", &["b"]), comp("b", &["a"]), comp("c", &[])];
    assert_eq!(
        creation_order(&graph),
        Err(OrderError::Cycle(vec!["a".into(), "b".into()]))
    );
    let itself = [comp("a", &["a"])];
    assert_eq!(
        creation_order(&itself),
        Err(OrderError::Cycle(vec!["a".into()]))
    );
    let long = [
        comp("a", &["c"]),
        comp("b", &["a"]),
        comp("c", &["b"]),
        comp("d", &["c"]),
    ];
    let Err(OrderError::Cycle(stuck)) = creation_order(&long) else {
        panic!("cycle not found");
    };
    assert_eq!(stuck, ["a", "b", "c", "d"]);
}

#[test]
fn creation_order_rejects_unknown_dependencies() {
    let graph = [comp("a", &[]), comp("b", &["a", "ghost"])];
    let err = creation_order(&graph).unwrap_err();
    assert_eq!(
        err,
        OrderError::UnknownDependency {
            component: "b".into(),
            dependency: "ghost".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "component b depends on unknown component ghost"
    );
}

#[test]
fn creation_order_rejects_duplicate_keys() {
    let graph = [comp("a", &[]), comp("b", &[]), comp("a", &[])];
    assert_eq!(
        creation_order(&graph),
        Err(OrderError::DuplicateKey("a".into()))
    );
}

// apply

#[tokio::test]
async fn apply_creates_dependencies_before_dependents() {
    let fake = Fake::new().delay(Duration::from_millis(2));
    let graph = [
        comp("service", &["task", "discovery"]),
        comp("log", &[]),
        comp("task", &["log"]),
        comp("discovery", &[]),
        comp("alarm", &["service"]),
    ];
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(
        keys(&outcome.recorded),
        ["alarm", "discovery", "log", "service", "task"]
    );
    assert_eq!(outcome.recorded["service"], "service#1");
    for c in &graph {
        let created = fake.the(Op::Create, &c.key);
        // Ready means created and settled.
        let settled = fake.the(Op::Settle, &c.key);
        before(&created, &settled);
        assert_eq!(settled.id, created.id);
        for d in &c.depends_on {
            before(&fake.the(Op::Settle, d), &created);
            // The dependency's id is there for the dependent to use.
            assert_eq!(
                created.resolved.get(d),
                fake.the(Op::Create, d).id.as_ref(),
                "{} sees {d}",
                c.key
            );
        }
    }
    assert_eq!(
        fake.count(Op::Observe, "log"),
        0,
        "nothing recorded, nothing to observe"
    );
    let created: Vec<Progress> = ["log", "discovery", "task", "service", "alarm"]
        .iter()
        .map(|k| Progress::Created(k.to_string()))
        .collect();
    let mut progress = outcome.progress.clone();
    progress.sort_by_key(|p| format!("{p:?}"));
    let mut want = created;
    want.sort_by_key(|p| format!("{p:?}"));
    assert_eq!(progress, want);
}

#[tokio::test]
async fn apply_runs_independent_components_concurrently_within_the_limit() {
    let fake = Fake::new().delay(Duration::from_millis(10));
    let mut graph = vec![comp("root", &[])];
    let leaves: Vec<String> = (0..9).map(|i| format!("leaf{i}")).collect();
    for leaf in &leaves {
        graph.push(comp(leaf, &["root"]));
    }
    let started = Instant::now();
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(outcome.recorded.len(), 10);
    // Concurrent, but never more than the limit at once.
    assert_eq!(fake.max_in_flight(), MAX_CONCURRENCY);
    // The first wave of leaves all started before any of them finished.
    let creates: Vec<Call> = fake
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::Create && c.key != "root")
        .collect();
    let first_end = creates.iter().filter_map(|c| c.finished).min().unwrap();
    assert_eq!(
        creates.iter().filter(|c| c.started < first_end).count(),
        MAX_CONCURRENCY
    );
    for c in &creates {
        assert!(c.at >= started);
    }
}

#[tokio::test]
async fn a_failure_stops_new_work_but_records_everything_created() {
    // a and b start together; c (after a) starts while b is still running;
    // b fails while c is in flight; c finishes after the failure; d (after
    // c) must never start.
    let fake = Fake::new()
        .failing(Op::Create, "b")
        .wait(Op::Create, "b", Until::Started(Op::Create, "c"))
        .wait(Op::Create, "c", Until::Finished(Op::Create, "b"));
    let graph = [
        comp("a", &[]),
        comp("b", &[]),
        comp("c", &["a"]),
        comp("d", &["c"]),
    ];
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;

    assert_eq!(error_components(&outcome), ["b"]);
    assert!(
        outcome.errors[0].message.contains("refused"),
        "{}",
        outcome.errors[0]
    );
    assert_eq!(outcome.recorded, ids(&[("a", "a#1"), ("c", "c#1")]));
    // c was in flight when b failed, and still recorded.
    let (b, c) = (fake.the(Op::Create, "b"), fake.the(Op::Create, "c"));
    assert!(c.started < b.finished.unwrap() && b.finished < c.finished);
    assert_eq!(
        fake.count(Op::Create, "d"),
        0,
        "nothing new starts after a failure"
    );
    assert!(!outcome.is_ok());
}

#[tokio::test]
async fn a_second_apply_with_the_recorded_ids_converges() {
    let mut fake = Fake::new()
        .failing(Op::Create, "b")
        .wait(Op::Create, "b", Until::Started(Op::Create, "c"))
        .wait(Op::Create, "c", Until::Finished(Op::Create, "b"));
    let graph = [
        comp("a", &[]),
        comp("b", &[]),
        comp("c", &["a"]),
        comp("d", &["c"]),
    ];
    let first = apply(&fake, &graph, &[], Resolved::new()).await;
    assert_eq!(error_components(&first), ["b"]);

    fake.failing.clear();
    fake.waits.clear();
    let second = apply(&fake, &graph, &graph, first.recorded).await;
    assert!(second.is_ok(), "{:?}", second.errors);
    assert_eq!(
        second.recorded,
        ids(&[("a", "a#1"), ("b", "b#1"), ("c", "c#1"), ("d", "d#1")])
    );
    for key in ["a", "c", "d"] {
        assert_eq!(fake.count(Op::Create, key), 1, "{key} created once");
    }
    assert_eq!(fake.count(Op::Create, "b"), 2, "one refused, one made");
    assert_eq!(fake.alive().len(), 4, "no duplicates exist");
    assert!(second.progress.contains(&Progress::Unchanged("a".into())));
    assert!(second.progress.contains(&Progress::Unchanged("c".into())));
    assert!(second.progress.contains(&Progress::Created("b".into())));
    assert!(second.progress.contains(&Progress::Created("d".into())));
    // d saw c's id from the first run.
    assert_eq!(
        fake.the(Op::Create, "d")
            .resolved
            .get("c")
            .map(String::as_str),
        Some("c#1")
    );

    // And a third apply has nothing to do.
    let third = apply(&fake, &graph, &graph, second.recorded.clone()).await;
    assert!(third.is_ok());
    assert_eq!(third.recorded, second.recorded);
    assert!(
        third
            .progress
            .iter()
            .all(|p| matches!(p, Progress::Unchanged(_))),
        "{:?}",
        third.progress
    );
    assert_eq!(fake.keys_of(Op::Create).len(), 5);
    assert!(fake.keys_of(Op::Update).is_empty());
}

#[tokio::test]
async fn apply_recreates_what_was_deleted_out_of_band() {
    let (fake, recorded) = Fake::new().existing(&["a", "b"]);
    fake.delete_out_of_band("a#1");
    let graph = [comp("a", &[]), comp("b", &["a"])];
    let outcome = apply(&fake, &graph, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(outcome.recorded, ids(&[("a", "a#2"), ("b", "b#1")]));
    assert_eq!(fake.the(Op::Observe, "a").id.as_deref(), Some("a#1"));
    assert_eq!(fake.the(Op::Create, "a").id.as_deref(), Some("a#2"));
    assert_eq!(fake.count(Op::Create, "b"), 0);
    // b is looked at with the new a.
    assert_eq!(
        fake.the(Op::Observe, "b")
            .resolved
            .get("a")
            .map(String::as_str),
        Some("a#2")
    );
    assert_eq!(
        outcome.progress,
        [
            Progress::Created("a".into()),
            Progress::Unchanged("b".into())
        ]
    );
}

#[tokio::test]
async fn apply_updates_what_drifted_and_records_the_new_id() {
    let (fake, recorded) = Fake::new().existing(&["a", "b", "c"]);
    fake.drifted("a", "retention is 1 day, want 7");
    let graph = [comp("a", &[]), comp("b", &["a"]), comp("c", &[])];
    let outcome = apply(&fake, &graph, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(
        outcome.recorded,
        ids(&[("a", "a#2"), ("b", "b#1"), ("c", "c#1")])
    );
    let update = fake.the(Op::Update, "a");
    assert_eq!(update.id.as_deref(), Some("a#2"));
    before(&update, &fake.the(Op::Settle, "a"));
    assert_eq!(fake.the(Op::Settle, "a").id.as_deref(), Some("a#2"));
    assert_eq!(fake.the(Op::Observe, "b").resolved["a"], "a#2");
    assert!(outcome.progress.contains(&Progress::Updated(
        "a".into(),
        vec!["retention is 1 day, want 7".into()]
    )));
    assert!(outcome.progress.contains(&Progress::Unchanged("b".into())));
    assert!(fake.keys_of(Op::Create).is_empty());
    // In-sync components are neither updated nor settled again.
    assert_eq!(fake.keys_of(Op::Update), ["a"]);
    assert_eq!(fake.keys_of(Op::Settle), ["a"]);
}

#[tokio::test]
async fn a_failed_update_keeps_the_old_id() {
    let (fake, recorded) = Fake::new().existing(&["a", "b"]);
    let fake = fake.failing(Op::Update, "a");
    fake.drifted("a", "changed");
    let graph = [comp("a", &[]), comp("b", &["a"])];
    let outcome = apply(&fake, &graph, &graph, recorded.clone()).await;
    assert_eq!(error_components(&outcome), ["a"]);
    assert_eq!(outcome.recorded, recorded);
    assert_eq!(fake.count(Op::Observe, "b"), 0, "b waits for a");
}

#[tokio::test]
async fn a_failed_settle_keeps_the_new_id() {
    let fake = Fake::new().failing(Op::Settle, "a");
    let graph = [comp("a", &[]), comp("b", &["a"])];
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert_eq!(error_components(&outcome), ["a"]);
    assert!(outcome.errors[0].message.contains("did not become ready"));
    assert_eq!(outcome.recorded, ids(&[("a", "a#1")]));
    assert_eq!(fake.count(Op::Create, "b"), 0);
}

#[tokio::test]
async fn a_failed_observe_keeps_the_id() {
    let (fake, recorded) = Fake::new().existing(&["a"]);
    let fake = fake.failing(Op::Observe, "a");
    let graph = [comp("a", &[])];
    let outcome = apply(&fake, &graph, &graph, recorded.clone()).await;
    assert_eq!(error_components(&outcome), ["a"]);
    assert_eq!(outcome.recorded, recorded);
    assert!(fake.keys_of(Op::Create).is_empty());
}

#[tokio::test]
async fn apply_deletes_removed_components_after_reconciling_the_desired_ones() {
    let (fake, recorded) = Fake::new().existing(&["a", "old", "older"]);
    // older depends on old: it goes first.
    let previous = [comp("a", &[]), comp("old", &["a"]), comp("older", &["old"])];
    let desired = [comp("a", &[]), comp("new", &["a"])];
    let outcome = apply(&fake, &desired, &previous, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(outcome.recorded, ids(&[("a", "a#1"), ("new", "new#1")]));
    before(&fake.the(Op::Delete, "older"), &fake.the(Op::Delete, "old"));
    let last_desired = fake
        .calls()
        .into_iter()
        .filter(|c| c.op != Op::Delete)
        .filter_map(|c| c.finished)
        .max()
        .unwrap();
    let first_delete = fake
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::Delete)
        .map(|c| c.started)
        .min()
        .unwrap();
    assert!(
        last_desired < first_delete,
        "deletes start after the desired graph is done"
    );
    assert!(fake.count(Op::Delete, "a") == 0);
    assert_eq!(
        fake.alive(),
        BTreeSet::from(["a#1".to_string(), "new#1".to_string()])
    );
    assert!(outcome.progress.ends_with(&[
        Progress::Deleted("older".into()),
        Progress::Deleted("old".into())
    ]));
}

#[tokio::test]
async fn a_removed_component_that_cannot_be_deleted_stays_recorded() {
    let (fake, recorded) = Fake::new().existing(&["a", "old"]);
    let fake = fake.failing(Op::Delete, "old");
    let previous = [comp("a", &[]), comp("old", &[])];
    let desired = [comp("a", &[])];
    let outcome = apply(&fake, &desired, &previous, recorded.clone()).await;
    assert_eq!(error_components(&outcome), ["old"]);
    assert_eq!(outcome.recorded, recorded);
}

#[tokio::test]
async fn removed_components_are_kept_while_the_desired_graph_failed() {
    let (fake, recorded) = Fake::new().existing(&["old"]);
    let fake = fake.failing(Op::Create, "a");
    let previous = [comp("old", &[])];
    let desired = [comp("a", &[])];
    let outcome = apply(&fake, &desired, &previous, recorded.clone()).await;
    assert_eq!(error_components(&outcome), ["a"]);
    assert_eq!(
        outcome.recorded, recorded,
        "old stays: it may still be in use"
    );
    assert!(fake.keys_of(Op::Delete).is_empty());
}

#[tokio::test]
async fn apply_reports_a_bad_graph_without_touching_anything() {
    let fake = Fake::new();
    let recorded = ids(&[("a", "a#1")]);
    for graph in [
        vec![comp("a", &["b"]), comp("b", &["a"])],
        vec![comp("a", &["ghost"])],
        vec![comp("a", &[]), comp("a", &[])],
    ] {
        let outcome = apply(&fake, &graph, &[], recorded.clone()).await;
        assert_eq!(error_components(&outcome), ["graph"]);
        assert_eq!(outcome.recorded, recorded);
    }
    assert!(fake.calls().is_empty());
}

// destroy

/// log <- task <- service <- alarm, log <- dashboard; plus a loner.
fn service_graph() -> Vec<Component> {
    vec![
        comp("log", &[]),
        comp("task", &["log"]),
        comp("service", &["task"]),
        comp("alarm", &["service"]),
        comp("dashboard", &["log"]),
        comp("loner", &[]),
    ]
}

const SERVICE_KEYS: [&str; 6] = ["log", "task", "service", "alarm", "dashboard", "loner"];

#[tokio::test]
async fn destroy_deletes_dependents_before_their_dependencies() {
    let (fake, recorded) = Fake::new()
        .delay(Duration::from_millis(2))
        .existing(&SERVICE_KEYS);
    let graph = service_graph();
    let outcome = destroy(&fake, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert!(outcome.recorded.is_empty());
    assert!(fake.alive().is_empty());
    for c in &graph {
        for d in &c.depends_on {
            before(&fake.the(Op::Delete, &c.key), &fake.the(Op::Delete, d));
        }
    }
    assert_eq!(outcome.progress.len(), 6);
    assert!(outcome
        .progress
        .ends_with(&[Progress::Deleted("log".into())]));
}

#[tokio::test]
async fn a_create_reads_ahead_when_the_apply_starts_not_after_its_dependencies() {
    // role <- task <- service, with `service` already recorded: the task
    // definition's read ahead goes out with the role's create, in the
    // first round; the recorded service reads nothing ahead.
    let graph = [
        comp("role", &[]),
        comp("task", &["role"]),
        comp("service", &["task"]),
    ];
    let fake = Fake::new().delay(Duration::from_millis(20)).looking_ahead();
    let (fake, recorded) = fake.existing(&["service"]);
    let outcome = apply(&fake, &graph, &[], recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(fake.keys_of(Op::LookAhead), ["role", "task"]);
    let ahead = fake.the(Op::LookAhead, "task");
    let role = fake.the(Op::Create, "role");
    // Under way together: neither ended before the other started.
    assert!(ahead.started < role.finished.unwrap() && role.started < ahead.finished.unwrap());
    before(&ahead, &fake.the(Op::Create, "task"));
}

#[tokio::test]
async fn what_only_names_a_role_is_created_beside_the_roles_policies_and_its_user_after_them() {
    // role <- task <- service. The task definition only names the role:
    // it is created once the role's create returned, while the role's
    // finish (its policies) is still under way (the finish waits until
    // the task definition's create started: an order, not a race). The
    // service, whose tasks use the role, waits for the finish too.
    let graph = [
        comp("role", &[]),
        comp("task", &["role"]),
        comp("service", &["task"]),
    ];
    let fake = Fake::new().naming_only("task").wait(
        Op::Finish,
        "role",
        Until::Started(Op::Create, "task"),
    );
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    let (role, finish) = (fake.the(Op::Create, "role"), fake.the(Op::Finish, "role"));
    let task = fake.the(Op::Create, "task");
    before(&role, &task);
    assert_eq!(keys(&task.resolved), ["role"], "the role's id is recorded");
    before(&task, &fake.the(Op::Finish, "task"));
    before(&finish, &fake.the(Op::Create, "service"));
    before(
        &fake.the(Op::Finish, "task"),
        &fake.the(Op::Create, "service"),
    );
    // Finished creates only: settles follow every finish.
    assert_eq!(fake.keys_of(Op::Finish), ["role", "task", "service"]);
    before(&finish, &fake.the(Op::Settle, "role"));

    // Every slot taken (the role's finish and three alarms that end only
    // once the task definition started): the role hands its slot over.
    let mut graph = graph.to_vec();
    let alarms = ["alarm1", "alarm2", "alarm3"];
    let mut fake = Fake::new().naming_only("task").wait(
        Op::Finish,
        "role",
        Until::Started(Op::Create, "task"),
    );
    for alarm in alarms {
        graph.push(comp(alarm, &[]));
        fake = fake.wait(Op::Create, alarm, Until::Started(Op::Create, "task"));
    }
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert!(fake.max_in_flight() <= MAX_CONCURRENCY + 1);

    // Without the property, the task definition waits for the finish.
    let fake = Fake::new();
    let outcome = apply(&fake, &graph[..3], &[], Resolved::new()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    before(&fake.the(Op::Finish, "role"), &fake.the(Op::Create, "task"));
}

#[tokio::test]
async fn what_finds_an_object_a_create_made_looks_for_it_while_the_create_settles() {
    // service <- discovery (Service Connect's Cloud Map service, made by
    // the ECS service's create): found while the service settles (the
    // settle ends only once the discovery's create started), and its
    // delete still comes first in a destroy.
    let graph = [comp("service", &[]), comp("discovery", &["service"])];
    let fake = Fake::new().finding("discovery").wait(
        Op::Settle,
        "service",
        Until::Started(Op::Create, "discovery"),
    );
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    before(
        &fake.the(Op::Create, "service"),
        &fake.the(Op::Create, "discovery"),
    );
    assert_eq!(
        keys(&fake.the(Op::Create, "discovery").resolved),
        ["service"]
    );
    let outcome = destroy(&fake, &graph, outcome.recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    before(
        &fake.the(Op::Delete, "discovery"),
        &fake.the(Op::Delete, "service"),
    );
}

#[tokio::test]
async fn a_failed_finish_keeps_the_id_and_what_uses_the_object_never_starts() {
    // The role's policy is refused after the task definition started: the
    // role and the task definition are both recorded (state names every
    // object made), the service is not created.
    let graph = [
        comp("role", &[]),
        comp("task", &["role"]),
        comp("service", &["task"]),
    ];
    let fake = Fake::new()
        .naming_only("task")
        .failing(Op::Finish, "role")
        .wait(Op::Finish, "role", Until::Finished(Op::Create, "task"));
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert_eq!(error_components(&outcome), ["role"], "{:?}", outcome.errors);
    assert_eq!(keys(&outcome.recorded), ["role", "task"]);
    assert_eq!(outcome.recorded["role"], "role#1");
    assert_eq!(fake.count(Op::Create, "service"), 0);
    assert_eq!(fake.count(Op::Settle, "role"), 0);
}

#[tokio::test]
async fn what_a_task_definition_only_names_is_deleted_beside_it_once_its_service_is_gone() {
    // role <- task <- service; log <- task. The task definition only names
    // the role and the log group: they wait for the service, not for it.
    let graph = [
        comp("role", &[]),
        comp("log", &[]),
        comp("task", &["role", "log"]),
        comp("service", &["task"]),
    ];
    let keys = ["role", "log", "task", "service"];
    let (fake, recorded) = Fake::new()
        .delay(Duration::from_millis(20))
        .naming_only("task")
        .existing(&keys);
    let outcome = destroy(&fake, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert!(fake.alive().is_empty());
    for what in ["role", "log", "task"] {
        before(
            &fake.the(Op::Delete, "service"),
            &fake.the(Op::Delete, what),
        );
    }
    // The service, then the other three at once: two rounds, not three.
    assert_eq!(rounds(&fake.calls()), 2);

    // Without the property, the task definition goes first: three.
    let (fake, recorded) = Fake::new().delay(Duration::from_millis(20)).existing(&keys);
    destroy(&fake, &graph, recorded).await;
    assert_eq!(rounds(&fake.calls()), 3);

    // A service that cannot be deleted keeps the role too.
    let (fake, recorded) = Fake::new().naming_only("task").existing(&keys);
    let fake = fake.failing(Op::Delete, "service");
    let outcome = destroy(&fake, &graph, recorded).await;
    assert_eq!(
        error_components(&outcome),
        ["service"],
        "{:?}",
        outcome.errors
    );
    assert_eq!(fake.keys_of(Op::Delete), ["service"]);
}

#[tokio::test]
async fn what_a_component_depends_on_is_deleted_beside_the_finish_of_its_delete() {
    // role <- service. Once the service is gone its role goes, while the
    // service's finish (the wait for Service Connect's Cloud Map service)
    // is under way: it ends only once the role's delete started.
    let graph = [comp("role", &[]), comp("service", &["role"])];
    let (fake, recorded) = Fake::new().existing(&["role", "service"]);
    let fake = fake.wait(
        Op::FinishDelete,
        "service",
        Until::Started(Op::Delete, "role"),
    );
    let outcome = destroy(&fake, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert!(outcome.recorded.is_empty());
    before(
        &fake.the(Op::Delete, "service"),
        &fake.the(Op::Delete, "role"),
    );
    before(
        &fake.the(Op::Delete, "service"),
        &fake.the(Op::FinishDelete, "service"),
    );

    // A finish that fails keeps the service recorded (the next destroy
    // waits again); its role is gone all the same.
    let (fake, recorded) = Fake::new().existing(&["role", "service"]);
    let fake = fake.failing(Op::FinishDelete, "service").wait(
        Op::FinishDelete,
        "service",
        Until::Finished(Op::Delete, "role"),
    );
    let outcome = destroy(&fake, &graph, recorded).await;
    assert_eq!(
        error_components(&outcome),
        ["service"],
        "{:?}",
        outcome.errors
    );
    assert_eq!(keys(&outcome.recorded), ["service"]);
    assert_eq!(fake.count(Op::Delete, "role"), 1);
}

#[tokio::test]
async fn a_delete_reads_ahead_when_the_destroy_starts_not_once_its_dependents_are_gone() {
    // role <- service: the role's read ahead goes out before the service's
    // delete ends (the delete waits for it to start: an order, not a
    // race); what was never recorded reads nothing ahead.
    let graph = [
        comp("role", &[]),
        comp("service", &["role"]),
        comp("alarm", &[]),
    ];
    let (fake, recorded) = Fake::new().looking_ahead().existing(&["role", "service"]);
    let fake = fake.wait(Op::Delete, "service", Until::Started(Op::LookAhead, "role"));
    let outcome = destroy(&fake, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(fake.keys_of(Op::LookAhead), ["role", "service"]);
    before(
        &fake.the(Op::Delete, "service"),
        &fake.the(Op::Delete, "role"),
    );
}

#[tokio::test]
async fn destroy_continues_past_a_failure_and_keeps_what_it_could_not_delete() {
    let (fake, recorded) = Fake::new().existing(&SERVICE_KEYS);
    let fake = fake.failing(Op::Delete, "service");
    let outcome = destroy(&fake, &service_graph(), recorded).await;
    assert_eq!(error_components(&outcome), ["service"]);
    assert!(outcome.errors[0].message.contains("still in use"));
    // service failed; task and log (what it depends on) are left alone and
    // stay recorded; everything else is gone.
    assert_eq!(keys(&outcome.recorded), ["log", "service", "task"]);
    assert_eq!(fake.count(Op::Delete, "task"), 0);
    assert_eq!(fake.count(Op::Delete, "log"), 0);
    for gone in ["alarm", "dashboard", "loner"] {
        assert_eq!(fake.count(Op::Delete, gone), 1, "{gone}");
        assert!(outcome.progress.contains(&Progress::Deleted(gone.into())));
    }
    assert_eq!(
        fake.alive(),
        BTreeSet::from([
            "log#1".to_string(),
            "service#1".to_string(),
            "task#1".to_string()
        ])
    );

    // Once the obstacle is gone, destroying again finishes the job.
    let mut fake = fake;
    fake.failing.clear();
    let again = destroy(&fake, &service_graph(), outcome.recorded).await;
    assert!(again.is_ok(), "{:?}", again.errors);
    assert!(again.recorded.is_empty());
    assert!(fake.alive().is_empty());
}

#[tokio::test]
async fn destroy_reports_recorded_components_unknown_to_the_graph() {
    let (fake, recorded) = Fake::new().existing(&["log", "ghost"]);
    let outcome = destroy(&fake, &[comp("log", &[])], recorded).await;
    assert_eq!(error_components(&outcome), ["ghost"]);
    assert!(outcome.errors[0].message.contains("unknown"));
    assert_eq!(outcome.recorded, ids(&[("ghost", "ghost#1")]));
    assert_eq!(fake.keys_of(Op::Delete), ["log"]);
}

#[tokio::test]
async fn destroy_skips_components_that_were_never_created() {
    let (fake, recorded) = Fake::new().existing(&["log", "alarm"]);
    let outcome = destroy(&fake, &service_graph(), recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(fake.keys_of(Op::Delete), ["alarm", "log"]);
    assert!(outcome.recorded.is_empty());
}

#[tokio::test]
async fn destroy_runs_independent_deletes_concurrently_within_the_limit() {
    let names: Vec<String> = (0..9).map(|i| format!("c{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (fake, recorded) = Fake::new().delay(Duration::from_millis(10)).existing(&refs);
    let graph: Vec<Component> = refs.iter().map(|k| comp(k, &[])).collect();
    let outcome = destroy(&fake, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(fake.keys_of(Op::Delete).len(), 9);
    assert_eq!(fake.max_in_flight(), MAX_CONCURRENCY);
}

// observe_all

#[tokio::test]
async fn observe_all_reports_each_component() {
    let (fake, recorded) = Fake::new().existing(&["a", "b", "c"]);
    fake.delete_out_of_band("b#1");
    fake.drifted("c", "tag team missing");
    let graph = [
        comp("a", &[]),
        comp("b", &[]),
        comp("c", &[]),
        comp("d", &[]),
    ];
    let seen = observe_all(&fake, &graph, &recorded).await;
    assert_eq!(seen["a"], Ok(Observation::in_sync()));
    assert_eq!(seen["b"], Ok(Observation::Missing));
    assert_eq!(
        seen["c"],
        Ok(Observation::with_differences(vec![
            "tag team missing".into()
        ]))
    );
    assert_eq!(seen["d"], Ok(Observation::Missing), "never recorded");
    assert_eq!(seen.len(), 4);
    assert_eq!(fake.count(Op::Observe, "d"), 0);
    assert!(fake.max_in_flight() <= READ_CONCURRENCY);
}

#[tokio::test]
async fn observe_all_reads_a_whole_graph_in_one_round() {
    let names: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (fake, recorded) = Fake::new().existing(&refs);
    let graph: Vec<Component> = refs.iter().map(|k| comp(k, &[])).collect();
    let seen = observe_all(&fake, &graph, &recorded).await;
    assert_eq!(seen.len(), 12);
    assert_eq!(
        fake.max_in_flight(),
        12,
        "every read started before any ended"
    );
    assert_eq!(rounds(&fake.calls()), 1);

    // A graph larger than the read limit still never exceeds it.
    let names: Vec<String> = (0..READ_CONCURRENCY + 5).map(|i| format!("d{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (fake, recorded) = Fake::new().existing(&refs);
    let graph: Vec<Component> = refs.iter().map(|k| comp(k, &[])).collect();
    observe_all(&fake, &graph, &recorded).await;
    assert_eq!(fake.max_in_flight(), READ_CONCURRENCY);
}

#[tokio::test]
async fn observe_all_reads_a_batch_with_one_call() {
    let (fake, recorded) = Fake::new().existing(&["alarm-cpu", "alarm-errors", "alarm-p95", "log"]);
    fake.delete_out_of_band("alarm-errors#1");
    fake.drifted("alarm-p95", "threshold 200 instead of 300");
    let graph = [
        comp("log", &[]),
        comp("alarm-cpu", &["log"]),
        comp("alarm-errors", &["log"]),
        comp("alarm-p95", &["log"]),
        comp("alarm-new", &["log"]),
    ];
    let seen = observe_all(&fake, &graph, &recorded).await;
    assert_eq!(seen.len(), 5);
    assert_eq!(seen["alarm-cpu"], Ok(Observation::in_sync()));
    assert_eq!(seen["alarm-errors"], Ok(Observation::Missing));
    assert_eq!(
        seen["alarm-p95"],
        Ok(Observation::with_differences(vec![
            "threshold 200 instead of 300".into()
        ]))
    );
    assert_eq!(
        seen["alarm-new"],
        Ok(Observation::Missing),
        "never recorded"
    );
    // One read for the three recorded alarms, none alone; the log group
    // alone, at the same time.
    assert_eq!(
        fake.keys_of(Op::ObserveBatch),
        ["alarm-cpu+alarm-errors+alarm-p95"]
    );
    assert_eq!(fake.keys_of(Op::Observe), ["log"]);
    assert_eq!(rounds(&fake.calls()), 1);
}

// Critical path first

/// Sequential rounds of a run: a call's round is one more than the latest
/// round among the calls that had finished when it started.
fn rounds(calls: &[Call]) -> usize {
    let mut round: Vec<usize> = vec![0; calls.len()];
    let mut order: Vec<usize> = (0..calls.len()).collect();
    order.sort_by_key(|&i| calls[i].started);
    for &i in &order {
        round[i] = 1 + order
            .iter()
            .filter(|&&j| calls[j].finished.is_some_and(|f| f < calls[i].started))
            .map(|&j| round[j])
            .max()
            .unwrap_or(0);
    }
    round.into_iter().max().unwrap_or(0)
}

/// `root`, then a chain b -> c -> d, and more leaves on `root` than there
/// are slots, listed before the chain (as alarms and a dashboard are).
fn chain_and_leaves() -> Vec<Component> {
    let mut graph = vec![comp("root", &[])];
    for i in 0..5 {
        graph.push(comp(&format!("leaf{i}"), &["root"]));
    }
    graph.push(comp("b", &["root"]));
    graph.push(comp("c", &["b"]));
    graph.push(comp("d", &["c"]));
    graph
}

#[test]
fn chain_lengths_count_the_longest_chain_each_component_starts() {
    let graph = chain_and_leaves();
    let by_key = |direction| {
        let lengths = chain_lengths(&graph, direction, |_| 1);
        graph
            .iter()
            .zip(lengths)
            .map(|(c, n)| (c.key.clone(), n))
            .collect::<BTreeMap<String, usize>>()
    };
    let forward = by_key(Direction::Dependents);
    assert_eq!(forward["root"], 4);
    assert_eq!(forward["b"], 3);
    assert_eq!(forward["d"], 1);
    assert_eq!(forward["leaf0"], 1);
    let backward = by_key(Direction::Dependencies);
    assert_eq!(backward["d"], 4);
    assert_eq!(backward["leaf0"], 2);
    assert_eq!(backward["root"], 1);
    // A cycle ends a chain instead of looping.
    let cyclic = [comp("x", &["y"]), comp("y", &["x"])];
    assert_eq!(chain_lengths(&cyclic, Direction::Dependents, |_| 1), [2, 1]);
}

#[tokio::test]
async fn apply_starts_the_ready_component_with_the_longest_chain_first() {
    let fake = Fake::new().delay(Duration::from_millis(5));
    let graph = chain_and_leaves();
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(
        fake.keys_of(Op::Create)[1],
        "b",
        "{:?}",
        fake.keys_of(Op::Create)
    );
    // As many rounds as the longest chain (root, b, c, d); in graph order
    // the leaves would take the first wave and the run one round more.
    let creates: Vec<Call> = fake
        .calls()
        .into_iter()
        .filter(|c| c.op == Op::Create)
        .collect();
    assert_eq!(rounds(&creates), 4);
}

#[tokio::test]
async fn a_component_of_many_sequential_requests_starts_before_quick_ones() {
    // Six quick leaves listed first, then one whose create takes three
    // requests in a row (a dashboard): it gets a slot at once, instead of
    // starting last and finishing two rounds after everything else.
    let mut graph: Vec<Component> = (0..6).map(|i| comp(&format!("leaf{i}"), &[])).collect();
    graph.push(comp("slow", &[]));
    let fake = Fake::new().delay(Duration::from_millis(5)).slow("slow", 3);
    let outcome = apply(&fake, &graph, &[], Resolved::new()).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(
        fake.keys_of(Op::Create)[0],
        "slow",
        "{:?}",
        fake.keys_of(Op::Create)
    );
}

#[test]
fn chain_lengths_add_up_the_sequential_requests_of_each_component() {
    let graph = chain_and_leaves();
    let weight = |c: &Component| if c.key == "leaf0" { 5 } else { 1 };
    let lengths = chain_lengths(&graph, Direction::Dependents, weight);
    let of = |key: &str| lengths[graph.iter().position(|c| c.key == key).unwrap()];
    // root, then the slow leaf (5) is longer than b, c, d (3).
    assert_eq!(of("leaf0"), 5);
    assert_eq!(of("b"), 3);
    assert_eq!(of("root"), 6);
}

#[tokio::test]
async fn destroy_starts_the_deletable_component_with_the_longest_chain_first() {
    // The chain listed first, so that in reverse graph order the leaves
    // would come first.
    let mut graph = chain_and_leaves();
    let leaves: Vec<Component> = graph.drain(1..6).collect();
    graph.extend(leaves);
    let keys: Vec<&str> = graph.iter().map(|c| c.key.as_str()).collect();
    let (fake, recorded) = Fake::new().delay(Duration::from_millis(5)).existing(&keys);
    let outcome = destroy(&fake, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(
        fake.keys_of(Op::Delete)[0],
        "d",
        "{:?}",
        fake.keys_of(Op::Delete)
    );
    // d, c, b, root: four rounds; leaves first would make it five.
    assert_eq!(rounds(&fake.calls()), 4);
}

#[tokio::test]
async fn destroy_handles_graphs_listed_dependents_first() {
    // The graph's own order does not matter: here every component comes
    // before what it depends on. When `alarm` cannot be deleted, `service`
    // and `log` stay, with one error, for `alarm`, and no talk of cycles.
    let (fake, recorded) = Fake::new().existing(&["alarm", "service", "log"]);
    let fake = fake.failing(Op::Delete, "alarm");
    let graph = [
        comp("alarm", &["service"]),
        comp("service", &["log"]),
        comp("log", &[]),
    ];
    let outcome = destroy(&fake, &graph, recorded.clone()).await;
    assert_eq!(
        error_components(&outcome),
        ["alarm"],
        "{:?}",
        outcome.errors
    );
    assert_eq!(outcome.recorded, recorded);
    assert_eq!(fake.keys_of(Op::Delete), ["alarm"]);

    // And without the failure, the order is still dependents first.
    let (fake, recorded) = Fake::new().existing(&["alarm", "service", "log"]);
    let outcome = destroy(&fake, &graph, recorded).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    assert_eq!(fake.keys_of(Op::Delete), ["alarm", "service", "log"]);
}

#[tokio::test]
async fn apply_reports_each_component_as_it_finishes_not_at_the_end() {
    let fake = Fake::new().delay(Duration::from_millis(2));
    let graph = [comp("log", &[]), comp("task", &["log"])];
    // For each report: how many creates of `task` had started by then.
    let seen: Mutex<Vec<(Progress, usize)>> = Mutex::new(Vec::new());
    let report = |p: &Progress| {
        let task_creates = fake.count(Op::Create, "task");
        seen.lock().unwrap().push((p.clone(), task_creates));
    };
    let outcome = apply_reporting(&fake, &graph, &[], Resolved::new(), &report).await;
    assert!(outcome.is_ok(), "{:?}", outcome.errors);
    let seen = seen.into_inner().unwrap();
    assert_eq!(
        seen,
        [
            (Progress::Created("log".into()), 0),
            (Progress::Created("task".into()), 1)
        ]
    );
    assert_eq!(
        seen.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        outcome.progress
    );

    let seen: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let report = |p: &Progress| seen.lock().unwrap().push(p.clone());
    let deleted = destroy_reporting(&fake, &graph, outcome.recorded, &report).await;
    assert!(deleted.is_ok());
    assert_eq!(seen.into_inner().unwrap(), deleted.progress);
}
