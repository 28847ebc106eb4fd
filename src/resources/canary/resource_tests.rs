//! What `matbakh_canary` tells the shared driver: what a plan leaves
//! unknown, when it warns, its settings while arguments are unknown, its
//! timeout, and a release's report as the driver records it.

use super::*;
use crate::resources::canary::report::Report;

fn state(json: serde_json::Value) -> Value {
    Value::from_json(&json)
}

fn succeeded() -> Value {
    state(serde_json::json!({
        "microservice": "matbakh/auth-service",
        "image": "registry.example/auth:1.5.0",
        "strategy": "canary",
        "steps": [10, 100],
        "step_interval": "5m",
        "id": "matbakh/auth-service-canary",
        "status": "succeeded",
        "current_weight": 100,
        "components": {"alarm_error_rate": "arn:alarm"},
    }))
}

#[test]
fn a_create_leaves_what_the_release_sets_unknown() {
    assert_eq!(
        unknown_after_plan(None, &succeeded(), false),
        ["status", "current_weight", "components"]
    );
}

#[test]
fn a_finished_walk_with_nothing_changed_plans_nothing() {
    let prior = succeeded();
    assert!(unknown_after_plan(Some(&prior), &prior, false).is_empty());
    assert!(!Canary.warns_on_update(&prior, &prior));
}

#[test]
fn a_new_image_an_unfinished_walk_or_a_repair_plans_a_release() {
    let prior = succeeded();
    let mut new_image = prior.clone();
    new_image.set("image", "registry.example/auth:1.6.0".into());
    let mut unfinished = prior.clone();
    unfinished.set("status", "progressing".into());
    for (prior, planned, repair) in [
        (&prior, &new_image, false),
        (&unfinished, &unfinished, false),
        (&prior, &prior, true),
    ] {
        assert_eq!(
            unknown_after_plan(Some(prior), planned, repair),
            ["status", "current_weight", "components"]
        );
    }
    assert!(Canary.warns_on_update(&prior, &new_image));
}

#[test]
fn another_microservice_is_a_new_canary_with_a_new_id() {
    let prior = succeeded();
    let mut planned = prior.clone();
    planned.set("microservice", "matbakh/other".into());
    assert!(unknown_after_plan(Some(&prior), &planned, false).contains(&"id"));
}

#[test]
fn unknown_arguments_give_no_settings_and_no_graph() {
    let (_fake, configured) = configured();
    let mut planned = succeeded();
    planned.set("microservice", Value::Unknown);
    let unknown = Canary.settings(&planned, &configured).unwrap();
    assert!(unknown.settings.is_none());
    assert_eq!(unknown.step_interval, Some(Duration::from_secs(300)));
    assert_eq!(Canary.id(&unknown), "(not known yet)");
    let known = Canary.settings(&succeeded(), &configured).unwrap();
    assert_eq!(Canary.id(&known), "matbakh/auth-service-canary");
    assert_eq!(known.status, Some(Status::Succeeded));
}

#[test]
fn a_short_step_interval_is_warned_about_without_aws() {
    let (_fake, configured) = configured();
    let mut planned = succeeded();
    planned.set("step_interval", "1m".into());
    planned.set("microservice", Value::Unknown);
    let state = Canary.settings(&planned, &configured).unwrap();
    assert_eq!(Canary.settings_warnings(&state).len(), 1);
    let five = Canary.settings(&succeeded(), &configured).unwrap();
    assert!(Canary.settings_warnings(&five).is_empty());
}

#[test]
fn the_default_timeout_is_the_schema_s() {
    assert_eq!(
        <Canary as GraphResource>::DEFAULT_TIMEOUT,
        parse_duration(schema::DEFAULT_TIMEOUT).unwrap()
    );
}

#[test]
fn import_is_not_supported_and_says_why() {
    assert!(Canary
        .import_not_supported()
        .unwrap()
        .contains("create a new"));
}

#[test]
fn a_rollback_is_recorded_and_reported_naming_its_reason() {
    let (_fake, configured) = configured();
    let settings = Canary.settings(&succeeded(), &configured).unwrap();
    let settings = settings.settings.unwrap();
    let mut report = Report::new(
        [("alarm_error_rate".to_string(), "arn:alarm".to_string())]
            .into_iter()
            .collect(),
        Status::RolledBack,
        0,
    );
    report.rolled_back = Some("alarm X is in ALARM".into());
    let released = super::super::release::released(&settings, "creating", report);
    assert_eq!(released.outcome.recorded.len(), 1);
    assert!(released.outcome.errors.is_empty());
    assert_eq!(
        released.computed,
        vec![
            ("status", Value::str("rolled_back")),
            ("current_weight", Value::from(0i64))
        ]
    );
    assert_eq!(released.errors.len(), 1);
    assert_eq!(
        released.errors[0].0,
        "matbakh_canary auth-service: rolled back"
    );
    assert!(released.errors[0].1.contains("alarm X is in ALARM"));
}

fn configured() -> (crate::aws::fake_endpoint::FakeEndpoint, Configured) {
    let fake = crate::aws::fake_endpoint::FakeEndpoint::start(|op, _| panic!("no AWS call: {op}"));
    let configured = Configured {
        clients: fake.clients(),
        environment: crate::environment::Environment::Development,
        default_tags: Default::default(),
        service_mesh: ServiceMesh::ServiceConnect,
        platforms: Default::default(),
        confirm_platforms: true,
    };
    (fake, configured)
}
