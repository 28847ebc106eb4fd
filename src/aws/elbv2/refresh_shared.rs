//! Answers every refresh of one provider process shares: the platform's
//! load balancer and its listeners, and the rules of a listener.
//!
//! Each microservice behind the load balancer looks those up when it is
//! refreshed, and again when it is planned; under Elastic Load
//! Balancing's account-wide 10 requests per second, N microservices asking
//! for them again bound a plan. Terraform runs a plan's (or an import's)
//! refreshes, and the plan that follows them, in a process of their own
//! that writes nothing (see `cloudmap::service_connect_discovery`), so one
//! answer stands for all of them. A process that refreshed is such a
//! process (Terraform's apply never calls ReadResource): a plan step
//! (`in_plan`) shares the answers once a refresh ran in its process.
//! Anything else (an apply, a destroy, the plan of a first apply, which
//! refreshes nothing) asks AWS: it must see its own writes. An answer that
//! fails is not kept.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::aws::{AwsError, Clients};

/// Set once a refresh of this process asked for a shared answer.
#[derive(Default)]
struct Refreshed(AtomicBool);

const REFRESHED: &str = "elbv2: a refresh ran in this process";

/// The answer of `fetch` for `key`, asked once per process when `aws` is a
/// refresh's (it remembers reads), or a plan step's (`in_plan`) in a
/// process that refreshed; else asked now. `kind` names the kind of
/// answer (one value type per kind).
pub async fn once_per_refresh_process<V, F, Fut>(
    aws: &Clients,
    in_plan: bool,
    kind: &'static str,
    key: &str,
    fetch: F,
) -> Result<V, AwsError>
where
    V: Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<V, AwsError>>,
{
    let refreshed = aws.gatherers.shared::<Refreshed>(REFRESHED);
    if aws.memo.is_some() {
        refreshed.0.store(true, Ordering::SeqCst);
    } else if !(in_plan && refreshed.0.load(Ordering::SeqCst)) {
        return fetch().await;
    }
    type Answer<V> = tokio::sync::Mutex<Option<V>>;
    type Answers<V> = Mutex<HashMap<String, Arc<Answer<V>>>>;
    let answer = aws
        .gatherers
        .shared::<Answers<V>>(kind)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key.to_string())
        .or_default()
        .clone();
    // Held while asking: the refreshes that arrive meanwhile wait for this
    // answer instead of all asking.
    let mut answer = answer.lock().await;
    if let Some(found) = answer.as_ref() {
        return Ok(found.clone());
    }
    let found = fetch().await?;
    *answer = Some(found.clone());
    Ok(found)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::aws::elbv2::lookup::{platform_ingress, rules_on};
    use crate::aws::elbv2::rule;
    use crate::aws::fake_endpoint::{query_answer, FakeEndpoint};
    use crate::aws::Adapter;
    use crate::engine::{Observation, Resolved};
    use crate::spec::elbv2::TargetGroupSpec;
    use crate::spec::OWNER_TAG;

    const SERVICES: usize = 30;
    /// The fake's DescribeRules page, whatever `PageSize` asks: paging is
    /// exercised (moto pages at 50 unless told).
    const PAGE: usize = 25;
    const LB: &str = "arn:aws:elasticloadbalancing:eu-central-1:1:loadbalancer/app/matbakh/lb1";

    fn listener(which: &str) -> String {
        format!("arn:aws:elasticloadbalancing:eu-central-1:1:listener/app/matbakh/lb1/{which}")
    }

    fn rule_arn(which: &str, i: usize) -> String {
        format!("arn:aws:elasticloadbalancing:eu-central-1:1:listener-rule/app/matbakh/lb1/{which}/r{i}")
    }

    fn group_name(i: usize, color: char) -> String {
        format!("matbakh-svc-{i}-{color}")
    }

    fn group_arn(name: &str) -> String {
        format!("arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/{name}/abc")
    }

    fn members<'a>(request: &'a Value, list: &str) -> Vec<&'a str> {
        let prefix = format!("{list}.member.");
        request
            .as_object()
            .expect("a form")
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(_, v)| v.as_str())
            .collect()
    }

    fn not_found(code: &str) -> (u16, Value) {
        (
            400,
            Value::String(format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>not found</Message></Error></ErrorResponse>"
            )),
        )
    }

    /// The platform's load balancer with its production (`prod`, port 80)
    /// and test (`test`, 8443) listeners, a rule on each per service and
    /// two target groups per service, as ELB answers for them: whole
    /// calls refused (`TargetGroupNotFound`) when one group asked for is
    /// gone (named `gone`).
    fn elb() -> FakeEndpoint {
        FakeEndpoint::start(|op, request| {
            let xml = |inner: String| query_answer(op, inner);
            let group = |name: &str| {
                format!(
                    "<member><TargetGroupArn>{}</TargetGroupArn><TargetGroupName>{name}</TargetGroupName>\
                     <Port>8080</Port><HealthCheckPath>/health</HealthCheckPath></member>",
                    group_arn(name)
                )
            };
            match op {
                "DescribeLoadBalancers" => xml(format!(
                    "<LoadBalancers><member><LoadBalancerArn>{LB}</LoadBalancerArn><DNSName>lb.example</DNSName>\
                     <SecurityGroups><member>sg-1</member></SecurityGroups></member></LoadBalancers>"
                )),
                "DescribeListeners" => xml(format!(
                    "<Listeners><member><ListenerArn>{}</ListenerArn><Port>80</Port><Protocol>HTTP</Protocol></member>\
                     <member><ListenerArn>{}</ListenerArn><Port>8443</Port><Protocol>HTTP</Protocol></member></Listeners>",
                    listener("prod"),
                    listener("test")
                )),
                "DescribeRules" => {
                    let on = request["ListenerArn"].as_str().unwrap_or_default();
                    let which = on.rsplit('/').next().unwrap_or_default().to_string();
                    let rules: Vec<String> = (0..SERVICES)
                        .map(|i| {
                            format!(
                                "<member><RuleArn>{}</RuleArn><Priority>{}</Priority><Conditions><member>\
                                 <Field>path-pattern</Field><PathPatternConfig><Values><member>/s{i}</member>\
                                 </Values></PathPatternConfig></member></Conditions><Actions><member><Type>forward</Type>\
                                 <ForwardConfig><TargetGroups><member><TargetGroupArn>{}</TargetGroupArn><Weight>100</Weight>\
                                 </member><member><TargetGroupArn>{}</TargetGroupArn><Weight>0</Weight></member>\
                                 </TargetGroups></ForwardConfig></member></Actions><IsDefault>false</IsDefault></member>",
                                rule_arn(&which, i),
                                i + 1,
                                group_arn(&group_name(i, 'b')),
                                group_arn(&group_name(i, 'g'))
                            )
                        })
                        .chain(["<member><RuleArn>default</RuleArn><Priority>default</Priority><IsDefault>true</IsDefault></member>".to_string()])
                        .collect();
                    let start: usize = request["Marker"].as_str().and_then(|m| m.parse().ok()).unwrap_or(0);
                    let end = (start + PAGE).min(rules.len());
                    let next = if end < rules.len() {
                        format!("<NextMarker>{end}</NextMarker>")
                    } else {
                        String::new()
                    };
                    xml(format!("<Rules>{}</Rules>{next}", rules[start..end].concat()))
                }
                "DescribeTargetGroups" => {
                    let names = members(request, "Names");
                    let arns = members(request, "TargetGroupArns");
                    assert!(names.len() + arns.len() <= 20, "{request}");
                    let named: Vec<String> = names
                        .iter()
                        .map(|n| n.to_string())
                        .chain(arns.iter().map(|a| a.split('/').nth(1).unwrap_or_default().to_string()))
                        .collect();
                    if named.iter().any(|n| n.contains("gone")) {
                        return not_found("TargetGroupNotFound");
                    }
                    xml(format!(
                        "<TargetGroups>{}</TargetGroups>",
                        named.iter().map(|n| group(n)).collect::<String>()
                    ))
                }
                "DescribeTargetGroupAttributes" => xml(
                    "<Attributes><member><Key>deregistration_delay.timeout_seconds</Key><Value>30</Value></member></Attributes>"
                        .into(),
                ),
                "DescribeTags" => {
                    let described: String = members(request, "ResourceArns")
                        .iter()
                        .map(|a| {
                            let owner = if *a == LB { "matbakh" } else { "matbakh/svc" };
                            format!(
                                "<member><ResourceArn>{a}</ResourceArn><Tags><member><Key>{OWNER_TAG}</Key><Value>{owner}</Value></member></Tags></member>"
                            )
                        })
                        .collect();
                    xml(format!("<TagDescriptions>{described}</TagDescriptions>"))
                }
                _ => not_found("Unexpected"),
            }
        })
    }

    fn count(calls: &[String], op: &str) -> usize {
        calls.iter().filter(|c| *c == op).count()
    }

    fn probe(name: String) -> TargetGroupSpec {
        TargetGroupSpec {
            name,
            port: 0,
            subnet_id: String::new(),
            health_check_path: String::new(),
            deregistration_delay_seconds: 0,
            tags: Default::default(),
        }
    }

    /// One microservice's refresh of its ingress: the platform's load
    /// balancer, its two rules (recovered and observed), its two target
    /// groups (recovered by name, observed by ARN).
    async fn refresh(aws: &crate::aws::Clients, i: usize) -> Vec<Observation> {
        let found = platform_ingress(aws, "matbakh", true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.listener_arn, listener("prod"));
        let resolved = Resolved::default();
        let mut observed = Vec::new();
        for which in ["prod", "test"] {
            let arn = rule_arn(which, i);
            let spec = rule::read_back(aws, &arn).await.unwrap().expect("found");
            assert_eq!(spec.paths, [format!("/s{i}")]);
            assert_eq!(spec.listener_arn, listener(which));
            observed.push(spec.observe(aws, &arn, &resolved).await.unwrap());
        }
        for color in ['b', 'g'] {
            let found = probe(group_name(i, color))
                .read_back(aws)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(found.id, group_arn(&group_name(i, color)));
            observed.push(found.spec.observe(aws, &found.id, &resolved).await.unwrap());
        }
        observed
    }

    #[tokio::test]
    async fn a_plan_of_n_microservices_looks_the_ingress_up_once_and_gathers_target_groups() {
        let fake = elb();
        let base = fake.clients();
        // Each refresh has its own memory of reads, as Terraform's
        // ReadResource calls get; the plan steps after them (plain
        // clients, `in_plan`) take the same lookups.
        let refreshes = (0..SERVICES).map(|i| {
            let aws = base.remembering_reads();
            async move { refresh(&aws, i).await }
        });
        let observed = futures::future::join_all(refreshes).await;
        assert!(
            observed
                .iter()
                .flatten()
                .all(|o| *o == Observation::in_sync()),
            "{observed:?}"
        );
        let plans = (0..SERVICES).map(|_| {
            let aws = base.clone();
            async move {
                platform_ingress(&aws, "matbakh", true)
                    .await
                    .unwrap()
                    .unwrap();
                rules_on(&aws, &listener("prod"), true).await.unwrap()
            }
        });
        for rules in futures::future::join_all(plans).await {
            assert_eq!(rules.len(), SERVICES);
        }
        let calls = fake.calls();
        assert_eq!(count(&calls, "DescribeLoadBalancers"), 1, "{calls:?}");
        assert_eq!(count(&calls, "DescribeListeners"), 1, "{calls:?}");
        // Each listener's 31 rules in two pages, once: not a DescribeRules per rule.
        assert_eq!(count(&calls, "DescribeRules"), 4, "{calls:?}");
        // 60 groups by name (recovery and observation ask alike), 20 a
        // call (a batch may close early on the gatherer's window, never one
        // call per group).
        let groups = count(&calls, "DescribeTargetGroups");
        assert!((3..=6).contains(&groups), "{groups}: {calls:?}");
        // No batch form: one per group, shared by its recovery and observation.
        assert_eq!(count(&calls, "DescribeTargetGroupAttributes"), 2 * SERVICES);
        // The load balancer's, then, read ahead with each listing, the
        // production listener's 30 rules and the 60 groups they forward to
        // (five calls) and the test listener's 30 rules (two); the plan
        // steps' owner checks take them too.
        assert_eq!(count(&calls, "DescribeTags"), 1 + 5 + 2, "{calls:?}");

        // An apply (clients that remember nothing, not a plan) asks again.
        let before = fake.calls().len();
        let apply = base.clone();
        platform_ingress(&apply, "matbakh", false)
            .await
            .unwrap()
            .unwrap();
        rules_on(&apply, &listener("prod"), false).await.unwrap();
        let asked = fake.calls()[before..].to_vec();
        assert_eq!(count(&asked, "DescribeLoadBalancers"), 1, "{asked:?}");
        assert_eq!(count(&asked, "DescribeRules"), 2, "{asked:?}");
    }

    /// Refreshes one after another (none meets another in the gatherer's
    /// window): each fills its DescribeTargetGroups with groups the
    /// listener's listed rules forward to, so later ones send nothing.
    #[tokio::test]
    async fn refreshes_one_after_another_describe_the_listed_rules_groups_twenty_a_call() {
        let fake = elb();
        let base = fake.clients();
        for i in 0..SERVICES {
            let observed = refresh(&base.remembering_reads(), i).await;
            assert!(observed.iter().all(|o| *o == Observation::in_sync()));
        }
        let calls = fake.calls();
        // 60 groups, 20 a call: 3, not one per group and refresh (60).
        assert_eq!(count(&calls, "DescribeTargetGroups"), 3, "{calls:?}");
        // An apply (clients that remember nothing) asks for its own.
        let apply = base.clone();
        probe(group_name(0, 'b')).read_back(&apply).await.unwrap();
        assert_eq!(count(&fake.calls(), "DescribeTargetGroups"), 4);
    }

    #[tokio::test]
    async fn a_plan_in_a_process_that_refreshed_nothing_asks_aws() {
        let fake = elb();
        let aws = fake.clients();
        for _ in 0..2 {
            platform_ingress(&aws, "matbakh", true)
                .await
                .unwrap()
                .unwrap();
        }
        assert_eq!(count(&fake.calls(), "DescribeLoadBalancers"), 2);
    }

    #[tokio::test]
    async fn a_rule_gone_out_of_band_is_missing_from_the_shared_listing() {
        let fake = elb();
        let aws = fake.clients().remembering_reads();
        let gone = rule_arn("prod", SERVICES + 1);
        assert_eq!(rule::read_back(&aws, &gone).await.unwrap(), None);
        let spec = rule::read_back(&aws, &rule_arn("prod", 0))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            spec.observe(&aws, &gone, &Resolved::default())
                .await
                .unwrap(),
            Observation::Missing
        );
        assert_eq!(count(&fake.calls(), "DescribeRules"), 2);
    }

    #[tokio::test]
    async fn a_target_group_gone_fails_the_batch_and_only_its_own_read() {
        let fake = elb();
        let aws = fake.clients();
        let names: Vec<String> = (0..3)
            .map(|i| group_name(i, 'b'))
            .chain(["matbakh-gone-b".to_string()])
            .collect();
        let probes: Vec<TargetGroupSpec> = names.iter().cloned().map(probe).collect();
        let found = futures::future::join_all(probes.iter().map(|p| p.read_back(&aws))).await;
        assert!(
            found[..3].iter().all(|f| matches!(f, Ok(Some(_)))),
            "{found:?}"
        );
        assert!(matches!(found[3], Ok(None)), "{:?}", found[3]);
        // Observed by ARN: gone is Missing.
        let gone = probe("matbakh-gone-b".into())
            .observe(&aws, &group_arn("matbakh-gone-b"), &Resolved::default())
            .await
            .unwrap();
        assert_eq!(gone, Observation::Missing);
        // Another group of its name (made again out of band): the recorded
        // one is gone.
        let other = probe(group_name(0, 'b'))
            .observe(&aws, &group_arn("recorded"), &Resolved::default())
            .await
            .unwrap();
        assert_eq!(other, Observation::Missing);
        let calls = fake.calls();
        // The batch of four by name, each alone, then the two observed.
        assert_eq!(count(&calls, "DescribeTargetGroups"), 7, "{calls:?}");
    }
}
