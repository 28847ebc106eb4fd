//! Terraform's stop request ends the engine's runs promptly, with
//! everything created so far recorded (issue #11 item 2).

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::spec::logs::LogGroupSpec;
use crate::spec::{Component, Spec, Tags};

/// Creates at once; settling "slow" waits as a steady-state wait does (up to
/// ten minutes, ending early only through `pause`).
#[derive(Default)]
struct SlowSettle {
    created: Mutex<Vec<String>>,
    deleted: Mutex<Vec<String>>,
}

fn key_of(spec: &Spec) -> String {
    match spec {
        Spec::LogGroup(l) => l.name.clone(),
        other => panic!("log groups only, got {other:?}"),
    }
}

fn comp(key: &str, deps: &[&str]) -> Component {
    Component::new(
        key,
        Spec::LogGroup(LogGroupSpec {
            name: key.to_string(),
            retention_days: 7,
            tags: Tags::new(),
        }),
    )
    .after(deps)
}

#[async_trait]
impl Backend for SlowSettle {
    type Spec = Spec;
    type Error = String;

    async fn observe(&self, _: &Spec, _: &str, _: &Resolved) -> Result<Observation, String> {
        Ok(Observation::in_sync())
    }
    async fn create(&self, spec: &Spec, _: &Resolved) -> Result<String, String> {
        let key = key_of(spec);
        self.created.lock().unwrap().push(key.clone());
        Ok(format!("{key}#1"))
    }
    async fn update(&self, spec: &Spec, _: &str, _: &Resolved) -> Result<String, String> {
        Ok(format!("{}#1", key_of(spec)))
    }
    async fn settle(&self, spec: &Spec, _: &str) -> Result<(), String> {
        if key_of(spec).starts_with("slow") {
            loop {
                pause(Duration::from_secs(5))
                    .await
                    .map_err(|_| "timed out waiting for a steady state".to_string())?;
            }
        }
        Ok(())
    }
    async fn delete(&self, spec: &Spec, _: &str) -> Result<(), String> {
        let key = key_of(spec);
        if key.starts_with("slow") {
            pause(Duration::from_secs(600))
                .await
                .map_err(|_| "timed out".to_string())?;
        }
        self.deleted.lock().unwrap().push(key);
        Ok(())
    }
}

/// Run `fut` with a stop request 50 ms in; returns its output and how long
/// it took.
async fn stopped_after_50ms<F: std::future::Future>(fut: F) -> (F::Output, Duration) {
    let signal = StopSignal::default();
    let trigger = signal.clone();
    let started = std::time::Instant::now();
    let (out, ()) = tokio::join!(
        with_stop_signal(signal, with_deadline(Duration::from_secs(20 * 60), fut)),
        async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            trigger.request();
        }
    );
    (out, started.elapsed())
}

#[tokio::test]
async fn stop_ends_a_steady_state_wait_and_keeps_what_was_created() {
    let backend = SlowSettle::default();
    let graph = vec![
        comp("log", &[]),
        comp("slow-service", &["log"]),
        comp("alarm", &["slow-service"]),
    ];
    let (outcome, took) = stopped_after_50ms(apply(&backend, &graph, &[], Resolved::new())).await;
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // Both created objects are recorded; nothing after the wait started.
    assert_eq!(
        outcome.recorded.keys().collect::<Vec<_>>(),
        vec!["log", "slow-service"]
    );
    assert_eq!(
        *backend.created.lock().unwrap(),
        vec!["log", "slow-service"]
    );
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert_eq!(outcome.errors[0].component, "slow-service");
    assert!(
        outcome.errors[0].message.starts_with(INTERRUPTED),
        "{}",
        outcome.errors[0].message
    );
}

#[tokio::test]
async fn stop_ends_a_destroy_and_keeps_what_is_left_recorded() {
    let backend = SlowSettle::default();
    // alarm depends on slow-service depends on log: deleted alarm, then slow-service (which
    // waits), and log never starts.
    let graph = vec![
        comp("log", &[]),
        comp("slow-service", &["log"]),
        comp("alarm", &["slow-service"]),
    ];
    let recorded: Resolved = ["log", "slow-service", "alarm"]
        .iter()
        .map(|k| (k.to_string(), format!("{k}#1")))
        .collect();
    let (outcome, took) = stopped_after_50ms(destroy(&backend, &graph, recorded)).await;
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(*backend.deleted.lock().unwrap(), vec!["alarm"]);
    assert_eq!(
        outcome.recorded.keys().collect::<Vec<_>>(),
        vec!["log", "slow-service"]
    );
    assert!(outcome
        .errors
        .iter()
        .all(|e| e.message.starts_with(INTERRUPTED) || e.message.contains("timed out")));
    assert!(!outcome.errors.is_empty());
}

#[tokio::test]
async fn without_a_stop_request_the_same_run_waits() {
    let backend = SlowSettle::default();
    let graph = vec![comp("slow-service", &[])];
    let run = with_stop_signal(
        StopSignal::default(),
        apply(&backend, &graph, &[], Resolved::new()),
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), run)
            .await
            .is_err(),
        "the wait should still be going"
    );
}
