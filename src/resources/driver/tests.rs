//! Tests of the driver's pure parts: planning `components`, merging what
//! AWS has into the state, sorting observations, checks before apply.

use std::collections::BTreeMap;

use super::plan::plan_components;
use super::*;
use crate::engine::Observation;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::expand::{self, keys};
use crate::resources::microservice::test_fixtures;

fn ids(graph: &DesiredGraph) -> Resolved {
    graph
        .components
        .iter()
        .map(|c| (c.key.clone(), format!("id-of-{}", c.key)))
        .collect()
}

fn entries(planned: &Value) -> BTreeMap<String, Value> {
    match planned {
        Value::Map(m) => m.clone(),
        other => panic!("not a map: {other:?}"),
    }
}

fn unknown_keys(planned: &Value) -> Vec<String> {
    entries(planned)
        .into_iter()
        .filter(|(_, v)| v.is_unknown())
        .map(|(k, _)| k)
        .collect()
}

fn graph_with(change: impl FnOnce(&mut Settings)) -> DesiredGraph {
    let (mut settings, platform) = test_fixtures::settings_and_platform();
    change(&mut settings);
    expand::expand(&settings, &platform)
}

#[test]
fn nothing_changed_keeps_every_id() {
    let graph = graph_with(|_| {});
    let recorded = ids(&graph);
    let planned = plan_components(
        &graph.components,
        &graph.components,
        &recorded,
        &Resolved::new(),
    );
    assert_eq!(planned, lifecycle::components_value(&recorded));
}

#[test]
fn a_route_change_keeps_the_service_and_everything_else_known() {
    let before = graph_with(|_| {});
    let after = graph_with(|s| s.retry.max_retries += 2);
    assert_ne!(before.get(keys::ROUTE), after.get(keys::ROUTE));
    let planned = plan_components(
        &before.components,
        &after.components,
        &ids(&before),
        &Resolved::new(),
    );
    assert!(unknown_keys(&planned).is_empty(), "{planned:?}");
    assert_eq!(
        entries(&planned)[keys::SERVICE],
        Value::str("id-of-service")
    );
}

#[test]
fn an_image_change_re_registers_only_the_task_definition() {
    let before = graph_with(|_| {});
    let after = graph_with(|s| s.image = "example.com/auth:2".into());
    let planned = plan_components(
        &before.components,
        &after.components,
        &ids(&before),
        &Resolved::new(),
    );
    assert_eq!(unknown_keys(&planned), [keys::TASK_DEFINITION]);
    assert_eq!(
        entries(&planned)[keys::SERVICE],
        Value::str("id-of-service")
    );
}

#[test]
fn a_new_component_is_unknown_and_a_removed_one_drops_out() {
    let before = graph_with(|s| s.dashboard = false);
    let after = graph_with(|s| s.autoscaling = None);
    let planned = plan_components(
        &before.components,
        &after.components,
        &ids(&before),
        &Resolved::new(),
    );
    assert_eq!(unknown_keys(&planned), [keys::DASHBOARD]);
    let entries = entries(&planned);
    for gone in [
        keys::SCALING_TARGET,
        keys::SCALING_POLICY_CPU,
        keys::SCALING_POLICY_MEMORY,
    ] {
        assert!(
            !entries.contains_key(gone),
            "{gone} is planned: {entries:?}"
        );
    }
}

#[test]
fn a_component_missing_from_state_is_planned_unknown() {
    let graph = graph_with(|_| {});
    let mut recorded = ids(&graph);
    recorded.remove(keys::ROUTE);
    let planned = plan_components(
        &graph.components,
        &graph.components,
        &recorded,
        &Resolved::new(),
    );
    assert_eq!(unknown_keys(&planned), [keys::ROUTE]);
}

#[test]
fn a_stale_component_comes_back_with_its_id_where_an_update_keeps_it() {
    let graph = graph_with(|_| {});
    let mut recorded = ids(&graph);
    let mut stale = Resolved::new();
    for key in [keys::DASHBOARD, keys::TASK_DEFINITION] {
        stale.insert(key.to_string(), recorded.remove(key).unwrap());
    }
    let planned = plan_components(&graph.components, &graph.components, &recorded, &stale);
    let entries = entries(&planned);
    assert_eq!(entries[keys::DASHBOARD], Value::str("id-of-dashboard"));
    assert!(entries[keys::TASK_DEFINITION].is_unknown());
}

#[test]
fn ids_no_graph_knows_stay_planned() {
    let graph = graph_with(|_| {});
    let mut recorded = ids(&graph);
    recorded.insert("leftover".into(), "x".into());
    let planned = plan_components(
        &graph.components,
        &graph.components,
        &recorded,
        &Resolved::new(),
    );
    assert_eq!(entries(&planned)["leftover"], Value::str("x"));
}

// merge_recovered

fn state(json: serde_json::Value) -> Value {
    Value::from_json(&json)
}

/// What a microservice state means: its expansion (in production).
fn means(candidate: &Value) -> Option<DesiredGraph> {
    let config = MicroserviceConfig::from_value(&candidate.to_json()).ok()?;
    let settings =
        Settings::resolve_unchecked(&config, crate::environment::Environment::Production);
    Some(expand::expand(
        &settings,
        &test_fixtures::platform(crate::environment::Environment::Production),
    ))
}

fn prior() -> Value {
    state(serde_json::json!({
        "platform": "matbakh",
        "name": "auth-service",
        "image": "example.com/auth:1",
        "port": 8080,
        "desired_count": 2,
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaaa"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "wait_for_steady_state": false,
        "health_check": [],
        "retry": [{"max_retries": 3, "per_try_timeout": null}],
    }))
}

#[test]
fn recovered_values_that_mean_something_else_replace_the_prior_ones() {
    let prior = prior();
    let mut recovered = prior.clone();
    recovered.set("desired_count", 6i64.into());
    recovered.set("image", "example.com/auth:2".into());
    recovered.set("wait_for_steady_state", true.into());
    recovered.set(
        "retry",
        Value::List(vec![state(
            serde_json::json!({"max_retries": 5, "per_try_timeout": "2s"}),
        )]),
    );
    let merged = merge_recovered(&prior, &recovered, |k| k != "wait_for_steady_state", means);
    assert_eq!(merged.get("desired_count"), &Value::from(6i64));
    assert_eq!(merged.get("image"), &Value::str("example.com/auth:2"));
    // Not held by AWS: the prior value stays.
    assert_eq!(merged.get("wait_for_steady_state"), &Value::from(false));
    // Block fields one by one: the changed one is taken, the default the
    // configuration left out (2s) stays null.
    assert_eq!(
        merged.get("retry"),
        &Value::List(vec![state(
            serde_json::json!({"max_retries": 5, "per_try_timeout": null})
        )])
    );
}

#[test]
fn recovered_defaults_keep_the_configuration_shape() {
    let prior = prior();
    let mut recovered = prior.clone();
    // The default health check written out: means the same as the absent block.
    recovered.set(
        "health_check",
        Value::List(vec![state(serde_json::json!({
            "path": "/health", "interval": "30s", "timeout": "5s",
            "unhealthy_threshold": 3, "healthy_threshold": 2
        }))]),
    );
    let merged = merge_recovered(&prior, &recovered, |_| true, means);
    assert_eq!(merged, prior);
}

// sort_observations

#[test]
fn deleted_and_changed_components_drop_out_with_one_short_sentence_each() {
    let graph = graph_with(|_| {});
    let recorded = ids(&graph);
    let mut observations: BTreeMap<String, Observation> = graph
        .components
        .iter()
        .map(|c| (c.key.clone(), Observation::in_sync()))
        .collect();
    observations.insert(keys::ROUTE.into(), Observation::Missing);
    let huge = format!(
        "dashboard body: {} vs {}",
        "x".repeat(5000),
        "y".repeat(5000)
    );
    observations.insert(
        keys::DASHBOARD.into(),
        Observation::with_differences(vec![huge]),
    );
    let sorted = sort_observations(&graph, &recorded, observations);
    assert!(!sorted.existing.contains_key(keys::ROUTE));
    assert!(!sorted.existing.contains_key(keys::DASHBOARD));
    assert_eq!(sorted.stale.keys().collect::<Vec<_>>(), [keys::DASHBOARD]);
    assert_eq!(sorted.existing.len(), graph.components.len() - 2);
    assert_eq!(
        sorted.drift[keys::ROUTE],
        "it was deleted outside Terraform"
    );
    let why = &sorted.drift[keys::DASHBOARD];
    assert!(why.len() < 120, "{why}");
    assert!(why.contains("dashboard body"), "{why}");
}

#[test]
fn what_aws_moved_itself_is_updated_but_not_called_drift() {
    let graph = graph_with(|_| {});
    let recorded = ids(&graph);
    let observations = [
        (
            keys::SCALING_POLICY_CPU.to_string(),
            Observation::with_differences(vec![format!(
                "{} resource label is \"a\", want \"b\"",
                crate::engine::FOLLOWS_AWS
            )]),
        ),
        (
            keys::SCALING_POLICY_MEMORY.to_string(),
            Observation::with_differences(vec![
                format!("{} resource label moved", crate::engine::FOLLOWS_AWS),
                "target is 50, want 80".into(),
            ]),
        ),
    ]
    .into_iter()
    .collect();
    let sorted = sort_observations(&graph, &recorded, observations);
    // Both are updated by the next apply...
    assert!(sorted.stale.contains_key(keys::SCALING_POLICY_CPU));
    assert!(sorted.stale.contains_key(keys::SCALING_POLICY_MEMORY));
    // ...but only the one a person changed is reported as drift.
    assert_eq!(
        sorted.drift.keys().collect::<Vec<_>>(),
        [keys::SCALING_POLICY_MEMORY]
    );
}

#[test]
fn objects_changed_out_of_band_are_not_gone() {
    let graph = graph_with(|_| {});
    let mut recorded = ids(&graph);
    recorded.retain(|k, _| k == keys::LOG_GROUP);
    let changed = |obs: Observation| {
        let observations = [(keys::LOG_GROUP.to_string(), obs)].into_iter().collect();
        sort_observations(&graph, &recorded, observations)
    };
    let stale = changed(Observation::with_differences(vec![
        "retention is unlimited, want 7 days".into(),
    ]));
    assert!(stale.existing.is_empty());
    assert!(!stale.all_gone(&recorded), "{stale:?}");
    assert!(changed(Observation::Missing).all_gone(&recorded));
    assert!(!changed(Observation::in_sync()).all_gone(&recorded));
}

// checks before apply

#[test]
fn a_required_value_null_at_apply_is_reported_by_name() {
    let schema = crate::resources::microservice::schema::schema();
    let mut planned = prior();
    planned.set("name", Value::Null);
    planned.set("subnet_ids", Value::Null);
    planned.set(
        "tls",
        Value::List(vec![state(
            serde_json::json!({"certificate_authority_arns": null}),
        )]),
    );
    let problems: Vec<String> = required_but_null(&schema.block, &planned, "")
        .iter()
        .map(Problem::dotted)
        .collect();
    assert!(problems.contains(&"name".to_string()), "{problems:?}");
    assert!(problems.contains(&"subnet_ids".to_string()), "{problems:?}");
    assert!(
        problems.contains(&"tls.0.certificate_authority_arns".to_string()),
        "{problems:?}"
    );
    assert!(!problems.contains(&"image".to_string()), "{problems:?}");
}

// Hooks: what a resource may bring besides the expansion. A resource that
// brings none behaves as the driver always did.

mod hooks {
    use std::time::Duration;

    use async_trait::async_trait;
    use tf_provider::schema::Schema;

    use super::super::graph_resource::{Beyond, ReleaseRun};
    use super::super::observations::{private_with_stale, repair_asked, with_repair};
    use super::super::{destroy_without_context, set_computed, Driver, GraphResource};
    use crate::aws::fake_endpoint::FakeEndpoint;
    use crate::engine::{Resolved, StepError};
    use crate::resources::canary::resource::Canary;
    use crate::resources::context::{Configured, ProviderContext};
    use crate::resources::driver::Recovered;
    use crate::resources::lifecycle::{self, Operation};
    use crate::spec::ownership::OwnerToken;
    use crate::spec::DesiredGraph;
    use crate::tf::schema::{block, string_map, Type};
    use crate::tf::value::Value;
    use crate::validation::Problem;

    /// A resource that brings only what it must.
    struct Plain;

    #[async_trait]
    impl GraphResource for Plain {
        const TYPE: &'static str = "matbakh_plain";
        const REPLACE_ON: &'static [&'static str] = &[];
        type Settings = ();
        type Context = ();
        fn schema(&self) -> Schema {
            block("A resource for tests.")
                .computed("components", string_map(), "ids")
                .computed("drift", string_map(), "none")
                .computed("status", Type::String, "where it stands")
                .schema(0)
        }
        fn validate(&self, _: &Value) -> Result<Vec<Problem>, String> {
            Ok(Vec::new())
        }
        fn settings(&self, _: &Value, _: &Configured) -> Result<(), String> {
            Ok(())
        }
        fn id(&self, _: &()) -> String {
            "test".into()
        }
        fn expand(&self, _: &(), _: &()) -> DesiredGraph {
            DesiredGraph::default()
        }
        fn plan_known(&self, _: &mut Value, _: &(), _: &Configured) {}
        fn context_computed(&self, _: &mut Value, _: &(), _: Option<&()>) {}
        fn component_computed(&self, _: &mut Value, _: &Value) {}
        fn held_by_aws(&self, _: &str, _: &Value) -> bool {
            true
        }
        fn check_import_id(&self, _: &str) -> Result<(), String> {
            Ok(())
        }
        async fn context(&self, _: &Configured, _: &()) -> Result<(), String> {
            Ok(())
        }
        async fn recover(
            &self,
            _: &Configured,
            _: &(),
            _: &(),
        ) -> Result<Option<Recovered>, String> {
            Ok(None)
        }
        async fn import(
            &self,
            _: &Configured,
            _: &str,
        ) -> Result<(Value, Option<OwnerToken>), String> {
            Err("no".into())
        }
    }

    /// A configuration whose every AWS call fails the test: the default
    /// hooks call nothing.
    fn no_aws() -> (FakeEndpoint, Configured) {
        let fake = FakeEndpoint::start(|op, _| panic!("a default hook called {op}"));
        let configured = Configured {
            clients: fake.clients(),
            environment: crate::environment::Environment::Development,
            default_tags: Default::default(),
            service_mesh: crate::service_mesh::ServiceMesh::ServiceConnect,
            platforms: Default::default(),
            confirm_platforms: true,
        };
        (fake, configured)
    }

    fn recorded() -> Resolved {
        [("service".to_string(), "arn:svc".to_string())]
            .into_iter()
            .collect()
    }

    #[tokio::test]
    async fn by_default_the_context_is_never_gone() {
        let (fake, configured) = no_aws();
        assert_eq!(
            Plain.context_if_exists(&configured, &()).await,
            Ok(Some(()))
        );
        assert!(fake.calls().is_empty());
    }

    #[test]
    fn a_destroy_without_its_context_succeeds_only_with_nothing_recorded() {
        assert_eq!(
            destroy_without_context("matbakh_plain", "test", &Resolved::new()),
            Ok(())
        );
        let (summary, detail) =
            destroy_without_context("matbakh_plain", "test", &recorded()).unwrap_err();
        assert_eq!(
            summary,
            "destroying matbakh_plain test: what it is built on is gone"
        );
        assert!(detail.ends_with("Delete them by hand: arn:svc"), "{detail}");
    }

    #[test]
    fn by_default_no_component_is_external() {
        assert!(Plain.external(&()).is_empty());
    }

    #[tokio::test]
    async fn by_default_the_engine_applies_the_graph() {
        let (_fake, configured) = no_aws();
        let token = OwnerToken::generate();
        let run = ReleaseRun {
            recorded: recorded(),
            prior: None,
            planned: &Value::Null,
            token: &token,
        };
        assert!(Plain.release(&configured, &(), &(), run).await.is_none());
    }

    #[tokio::test]
    async fn by_default_nothing_comes_before_a_destroy() {
        let (fake, configured) = no_aws();
        let left: Result<Resolved, StepError> = Plain
            .before_destroy(&configured, &(), &(), recorded())
            .await;
        assert_eq!(left.map_err(|e| e.message), Ok(recorded()));
        assert!(fake.calls().is_empty());
    }

    #[tokio::test]
    async fn by_default_a_read_finds_nothing_beyond_the_graph() {
        let (fake, configured) = no_aws();
        let beyond = Plain
            .read_beyond_graph(&configured, &(), &(), &recorded(), &Value::Null)
            .await;
        assert_eq!(beyond, Ok(Beyond::default()));
        assert!(fake.calls().is_empty());
    }

    #[test]
    fn what_a_read_finds_beyond_the_graph_is_set_and_its_drift_repaired() {
        let mut state = Value::Null;
        set_computed(
            &mut state,
            &[
                ("status", "rolled_back".into()),
                ("current_weight", 0i64.into()),
            ],
        );
        assert_eq!(state.get("status"), &Value::str("rolled_back"));
        assert_eq!(state.get("current_weight"), &Value::from(0i64));
        assert!(!repair_asked(&private_with_stale(&Resolved::new())));
        let private = with_repair(private_with_stale(&recorded()));
        assert!(repair_asked(&private));
        assert_eq!(super::super::observations::stale_ids(&private), recorded());
    }

    /// The canary is the resource with these hooks: what it says a plan
    /// leaves unknown, and its hour.
    fn timed() -> Driver<Canary> {
        Driver::of(Canary, ProviderContext::default())
    }

    #[test]
    fn a_plan_leaves_unknown_what_the_resource_says_an_apply_sets() {
        let driver = timed();
        let mut planned = Value::Null;
        planned.set("status", "succeeded".into());
        planned.set("components", Value::Map(Default::default()));
        let prior = planned.clone();
        driver.leave_unknown(&mut planned, Some(&prior), false);
        assert_eq!(planned.get("status"), &Value::str("succeeded"));
        driver.leave_unknown(&mut planned, Some(&prior), true);
        assert!(planned.get("status").is_unknown());
        assert!(planned.get("components").is_unknown());
        // `components` goes through the driver: what follows from it too.
        assert_eq!(planned.get("drift"), &lifecycle::no_drift());
        let plain = Driver::of(Plain, ProviderContext::default());
        let mut untouched = Value::Null;
        untouched.set("status", "succeeded".into());
        plain.leave_unknown(&mut untouched, None, true);
        assert_eq!(untouched.get("status"), &Value::str("succeeded"));
    }

    #[test]
    fn by_default_every_plan_warns_and_nothing_about_settings_alone() {
        assert!(Plain.warns_on_update(&Value::Null, &Value::Null));
        assert!(Plain.settings_warnings(&()).is_empty());
    }

    #[test]
    fn the_timeout_is_the_block_s_else_the_resource_s_default() {
        let timed = timed();
        let plain = Driver::of(Plain, ProviderContext::default());
        assert_eq!(
            timed.timeout(&Value::Null, Operation::Create),
            Duration::from_secs(3600)
        );
        assert_eq!(
            plain.timeout(&Value::Null, Operation::Create),
            lifecycle::DEFAULT_TIMEOUT
        );
        let mut state = Value::Null;
        let mut timeouts = Value::Null;
        timeouts.set("create", "2m".into());
        state.set("timeouts", Value::List(vec![timeouts]));
        assert_eq!(
            timed.timeout(&state, Operation::Create),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn by_default_import_is_supported() {
        assert_eq!(Plain.import_not_supported(), None);
    }
}
