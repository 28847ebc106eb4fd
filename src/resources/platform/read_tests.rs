//! The platform's read against a fake AWS endpoint: how many rounds it
//! takes (the plan's critical path goes through it before any microservice
//! is read).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::find;
use crate::aws::fake_endpoint::FakeEndpoint;
use crate::environment::Environment;
use crate::resources::context::Configured;
use crate::service_mesh::ServiceMesh;

const NAMESPACE: &str = "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-mine";

/// A region holding platform `matbakh` (service_connect, no budget) whose
/// every answer takes a while; `in_flight_at_budget` gets the operations
/// still unanswered when the budget was asked for.
fn slow_region(in_flight_at_budget: Arc<Mutex<BTreeSet<String>>>) -> FakeEndpoint {
    let in_flight = Arc::new(Mutex::new(Vec::<String>::new()));
    FakeEndpoint::start(move |op, _| {
        if op == "DescribeBudget" {
            let now: BTreeSet<String> = in_flight.lock().unwrap().iter().cloned().collect();
            *in_flight_at_budget.lock().unwrap() = now;
        }
        in_flight.lock().unwrap().push(op.to_string());
        std::thread::sleep(Duration::from_millis(300));
        let mut flying = in_flight.lock().unwrap();
        if let Some(i) = flying.iter().position(|o| o == op) {
            flying.remove(i);
        }
        drop(flying);
        let owner = json!([{"Key": crate::spec::OWNER_TAG, "Value": "matbakh"}]);
        match op {
            "DescribeClusters" => (
                200,
                json!({"clusters": [{
                    "clusterArn": "arn:aws:ecs:eu-central-1:123456789012:cluster/matbakh",
                    "clusterName": "matbakh", "status": "ACTIVE",
                    "serviceConnectDefaults": {"namespace": NAMESPACE},
                    "tags": [{"key": crate::spec::OWNER_TAG, "value": "matbakh"}]}],
                    "failures": []}),
            ),
            "ListNamespaces" => (
                200,
                json!({"Namespaces": [{"Id": "ns-mine", "Arn": NAMESPACE, "Name": "matbakh.local"}]}),
            ),
            "GetNamespace" => (
                200,
                json!({"Namespace": {"Id": "ns-mine", "Arn": NAMESPACE, "Name": "matbakh.local"}}),
            ),
            "ListTagsForResource" => (200, json!({ "Tags": owner })),
            "DescribeBudget" => (
                400,
                json!({"__type": "NotFoundException", "message": "no such budget"}),
            ),
            _ => (
                400,
                json!({"__type": "ClientException", "message": "not expected"}),
            ),
        }
    })
}

#[tokio::test]
async fn the_platforms_budget_is_read_beside_its_lookup_not_after_it() {
    let at_budget = Arc::new(Mutex::new(BTreeSet::new()));
    let fake = slow_region(at_budget.clone());
    let mut clients = fake.clients();
    clients.account_id = Some("123456789012".into());
    let configured = Configured {
        clients,
        environment: Environment::Development,
        default_tags: Default::default(),
        service_mesh: ServiceMesh::ServiceConnect,
        platforms: Default::default(),
        confirm_platforms: false,
    };
    let (recovered, _) = find(&configured, "matbakh", ServiceMesh::ServiceConnect)
        .await
        .expect("read")
        .expect("found");
    assert!(recovered.components.contains_key("cluster"));
    let calls = fake.calls();
    assert!(calls.iter().any(|c| c == "DescribeBudget"), "{calls:?}");
    // The cluster was still being read when the budget was asked for: one
    // round for both (the budget's name needs only the platform's name).
    let at_budget = at_budget.lock().unwrap().clone();
    assert!(at_budget.contains("DescribeClusters"), "{at_budget:?}");
}
