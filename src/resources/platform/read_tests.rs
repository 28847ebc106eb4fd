//! The platform's read against a fake AWS endpoint: how many rounds it
//! takes (the plan's critical path goes through it before any microservice
//! is read).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::find;
use crate::aws::fake_endpoint::FakeEndpoint;
use crate::environment::Environment;
use crate::resources::context::Configured;
use crate::service_mesh::ServiceMesh;

const NAMESPACE: &str = "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-mine";

/// Records `op` as asked for and unanswered.
fn mark_asked(in_flight: &Mutex<Vec<String>>, asked: &Mutex<BTreeSet<String>>, op: &str) {
    in_flight.lock().unwrap().push(op.to_string());
    asked.lock().unwrap().insert(op.to_string());
}

/// A region holding platform `matbakh` (service_connect, no budget).
/// `DescribeClusters` and `DescribeBudget` each hold their answer until the
/// other has been asked for (or 10 s have passed); `overlapped` is set when
/// one of them saw the other arrive while it was still unanswered. The
/// test so does not depend on how fast a loaded machine schedules the
/// requests: a budget read that waits for the cluster's answer arrives only
/// after the cluster has given up waiting for it.
fn slow_region(overlapped: Arc<AtomicBool>) -> FakeEndpoint {
    let in_flight = Arc::new(Mutex::new(Vec::<String>::new()));
    let asked = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    FakeEndpoint::start(move |op, _| {
        let other = match op {
            "DescribeClusters" => Some("DescribeBudget"),
            "DescribeBudget" => Some("DescribeClusters"),
            _ => None,
        };
        // The second of the two to arrive overlaps when the first is still
        // unanswered; the first when the second arrives while it waits.
        if let Some(other) = other {
            if asked.lock().unwrap().contains(other) {
                if in_flight.lock().unwrap().iter().any(|o| o == other) {
                    overlapped.store(true, Ordering::SeqCst);
                }
                mark_asked(&in_flight, &asked, op);
            } else {
                mark_asked(&in_flight, &asked, op);
                let deadline = Instant::now() + Duration::from_secs(10);
                while !asked.lock().unwrap().contains(other) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if asked.lock().unwrap().contains(other) {
                    overlapped.store(true, Ordering::SeqCst);
                }
            }
        } else {
            mark_asked(&in_flight, &asked, op);
        }
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
    let overlapped = Arc::new(AtomicBool::new(false));
    let fake = slow_region(overlapped.clone());
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
    // The cluster and the budget were asked for at the same time: one round
    // for both (the budget's name needs only the platform's name).
    assert!(overlapped.load(Ordering::SeqCst), "{calls:?}");
}
