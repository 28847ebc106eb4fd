//! Application Auto Scaling: a target-tracking policy. Its id is the
//! policy ARN; deletes go by name and resource id, from the spec.
//!
//! An `ALBRequestCountPerTarget` policy's resource label names the target
//! group that serves production traffic, which ECS changes in a release:
//! whenever the adapter writes or compares the label it reads which group
//! is live (the production rule's weights, the ECS service's load
//! balancer) and decides with [`live_target_group`], so the label follows
//! the release and is never pulled back.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalingPolicy,
    ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
};

use crate::aws::compare::gone_is_ok;
use crate::aws::ecs::services_gathered::listed_services;
use crate::aws::{Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved, FOLLOWS_AWS};
use crate::spec::autoscaling::{
    live_target_group, resource_label, RequestCountLabel, ScalingPolicySpec,
};

/// The resource labels `label` stands for now: the live target group's
/// and the other group's. `None` while a target group or the rule is not
/// recorded (an apply creates them before the policy, which depends on
/// them).
async fn live_label(
    aws: &Clients,
    spec: &ScalingPolicySpec,
    label: &RequestCountLabel,
    resolved: &Resolved,
) -> Result<Option<(String, String)>, AwsError> {
    let id = |r: &crate::spec::Ref| resolved.get(&r.0).map(String::as_str);
    let [blue, green] = &label.target_groups;
    let (Some(blue), Some(green), Some(rule)) = (id(blue), id(green), id(&label.production_rule))
    else {
        return Ok(None);
    };
    let groups = [blue, green];
    let weights = crate::aws::elbv2::rule::weights(aws, rule).await?;
    // `service/CLUSTER/NAME`.
    let cluster = spec.resource_id.split('/').nth(1).unwrap_or_default();
    let service = match resolved.get(&label.service.0) {
        Some(arn) => {
            crate::aws::ecs::services_gathered::gathered_service(aws, cluster, arn).await?
        }
        None => None,
    };
    let named = service
        .as_ref()
        .and_then(|s| s.load_balancers().first())
        .and_then(|l| l.target_group_arn());
    let live = live_target_group(groups, &weights, named);
    let other = if live == blue { green } else { blue };
    Ok(Some((
        resource_label(&label.load_balancer, live),
        resource_label(&label.load_balancer, other),
    )))
}

/// What a policy's resource label should be now.
enum WantedLabel {
    /// The metric takes none.
    None,
    /// This one (the live group's); the other group's label is the one a
    /// release left behind.
    Is { live: String, other: String },
    /// Not known: what it names is not recorded yet.
    Unknown,
}

impl ScalingPolicySpec {
    /// The resource label to write and compare.
    async fn wanted_label(
        &self,
        aws: &Clients,
        resolved: &Resolved,
    ) -> Result<WantedLabel, AwsError> {
        Ok(match &self.resource_label {
            Some(label) => match live_label(aws, self, label, resolved).await? {
                Some((live, other)) => WantedLabel::Is { live, other },
                None => WantedLabel::Unknown,
            },
            None => WantedLabel::None,
        })
    }
}

impl ScalingPolicySpec {
    /// This policy, described together with every other policy asked for
    /// at the same moment ([`describe_policy`]).
    async fn describe(&self, aws: &Clients) -> Result<Option<ScalingPolicy>, AwsError> {
        describe_policy(aws, &self.resource_id, &self.name).await
    }
}

impl ScalingPolicySpec {
    /// Read back the policy of this name on this resource. Its id is the
    /// policy ARN. A policy that is not target tracking reads with an empty
    /// metric and target 0.
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<ScalingPolicySpec>>, AwsError> {
        Ok(self.describe(aws).await?.map(found))
    }

    /// Read back many policies, all at once: their reads meet in the
    /// gatherer ([`describe_policy`]) and go as one DescribeScalingPolicies
    /// per 50 names, with the other microservices' read at the same moment.
    /// One answer per spec, in order.
    pub async fn read_back_many(
        aws: &Clients,
        specs: &[&ScalingPolicySpec],
    ) -> Result<Vec<Option<Found<ScalingPolicySpec>>>, AwsError> {
        futures::future::try_join_all(specs.iter().map(|spec| spec.read_back(aws))).await
    }
}

/// A policy as AWS reports it, in the spec's terms; its id is its ARN. A
/// policy that is not target tracking reads with an empty metric and
/// target 0.
fn found(p: ScalingPolicy) -> Found<ScalingPolicySpec> {
    {
        {
            let config = p.target_tracking_scaling_policy_configuration();
            let spec = ScalingPolicySpec {
                resource_id: p.resource_id.clone(),
                name: p.policy_name.clone(),
                metric: config
                    .and_then(|c| c.predefined_metric_specification())
                    .map(|m| m.predefined_metric_type().as_str().to_string())
                    .unwrap_or_default(),
                // Which group it names is ECS's to move: not an argument.
                resource_label: None,
                target_value: config.map(|c| c.target_value()).unwrap_or(0.0),
                scale_in_cooldown_seconds: config.and_then(|c| c.scale_in_cooldown()).unwrap_or(0),
                scale_out_cooldown_seconds: config
                    .and_then(|c| c.scale_out_cooldown())
                    .unwrap_or(0),
            };
            Found::new(spec, p.policy_arn)
        }
    }
}

impl ScalingPolicySpec {
    /// How the policy AWS described (`None`: it does not exist) differs
    /// from this spec, whose resource label is `label` now.
    fn observed(&self, policy: Option<&ScalingPolicy>, label: &WantedLabel) -> Observation {
        let Some(policy) = policy else {
            return Observation::Missing;
        };
        let mut diffs = Vec::new();
        match policy.target_tracking_scaling_policy_configuration() {
            None => diffs.push("not a target-tracking policy".to_string()),
            Some(c) => {
                let metric = c
                    .predefined_metric_specification()
                    .map(|m| m.predefined_metric_type().as_str().to_string())
                    .unwrap_or_default();
                if metric != self.metric {
                    diffs.push(format!("metric is {metric:?}, want {}", self.metric));
                }
                let found = c
                    .predefined_metric_specification()
                    .and_then(|m| m.resource_label());
                let (label, left_behind) = match label {
                    WantedLabel::None => (None, None),
                    WantedLabel::Is { live, other } => (Some(live.as_str()), Some(other.as_str())),
                    // Nothing to compare with until its objects exist.
                    WantedLabel::Unknown => (found, None),
                };
                if found != label {
                    // A release made the other target group the live one:
                    // follow it. Any other label is someone's change.
                    let follows = if found.is_some() && found == left_behind {
                        FOLLOWS_AWS
                    } else {
                        ""
                    };
                    diffs.push(
                        format!("{follows} resource label is {found:?}, want {label:?}")
                            .trim_start()
                            .to_string(),
                    );
                }
                if c.target_value() != self.target_value {
                    diffs.push(format!(
                        "target is {}, want {}",
                        c.target_value(),
                        self.target_value
                    ));
                }
                if c.scale_in_cooldown().unwrap_or(0) != self.scale_in_cooldown_seconds {
                    diffs.push(format!(
                        "scale-in cooldown is {:?}, want {}",
                        c.scale_in_cooldown(),
                        self.scale_in_cooldown_seconds
                    ));
                }
                if c.scale_out_cooldown().unwrap_or(0) != self.scale_out_cooldown_seconds {
                    diffs.push(format!(
                        "scale-out cooldown is {:?}, want {}",
                        c.scale_out_cooldown(),
                        self.scale_out_cooldown_seconds
                    ));
                }
            }
        }
        Observation::with_differences(diffs)
    }

    /// Observe many policies (`(spec, recorded id)`), all at once: their
    /// reads meet in the gatherer ([`describe_policy`]), each policy getting
    /// its own answer or the batch's error.
    pub async fn observe_many(
        aws: &Clients,
        items: &[(&ScalingPolicySpec, &str)],
        resolved: &Resolved,
    ) -> Vec<Result<Observation, AwsError>> {
        futures::future::join_all(
            items
                .iter()
                .map(|(spec, id)| spec.observe(aws, id, resolved)),
        )
        .await
    }
}

/// DescribeScalingPolicies takes at most 50 `PolicyNames` (botocore
/// application-autoscaling 2016-02-06: `ResourceIdsMaxLen1600`, max 50).
const DESCRIBE_POLICIES_MAX_NAMES: usize = 50;

/// ... and answers at most 10 policies a page (API reference,
/// DescribeScalingPolicies `MaxResults`: "between 1 and 10").
const DESCRIBE_POLICIES_PAGE: i32 = 10;

/// The gatherer's key of the policy `name` on the target `resource_id`. A
/// policy name is printable (`\p{Print}+`): it holds no newline, so the key
/// splits at its last one.
fn policy_key(resource_id: &str, name: &str) -> String {
    format!("{resource_id}\n{name}")
}

/// The policy `name` on the ECS service's scalable target `resource_id`.
/// Concurrent reads of any microservices' policies are gathered
/// ([`crate::aws::gatherer`]) and asked by name across targets, one
/// DescribeScalingPolicies per 50 names instead of one per target.
/// Remembered by policy: a refresh's recovery looks for every policy a
/// microservice could have and its observation for the recorded ones, and
/// both are one ask.
async fn describe_policy(
    aws: &Clients,
    resource_id: &str,
    name: &str,
) -> Result<Option<ScalingPolicy>, AwsError> {
    let key = policy_key(resource_id, name);
    aws.remembered(
        format!("application-autoscaling:DescribeScalingPolicies {key}"),
        || async {
            let gatherer = aws.gatherers.of::<ScalingPolicy>(
                "application-autoscaling:DescribeScalingPolicies",
                DESCRIBE_POLICIES_MAX_NAMES,
            );
            let client = aws.autoscaling.clone();
            let fetch = move |keys| describe_names(client, keys);
            if aws.memo.is_none() {
                return gatherer.ask(key.clone(), fetch).await;
            }
            gatherer
                .ask_ahead(
                    key.clone(),
                    likely_policies(aws, resource_id, name),
                    FILL_NAMES,
                    fetch,
                )
                .await
        },
    )
    .await
}

/// How many names a refresh's DescribeScalingPolicies is filled to: about
/// one page of policies (10). A microservice's refresh looks for three
/// names (CPU, memory and request count), and one without ingress has
/// two of those policies: 15 names, about 10 policies. More names cost as
/// many calls (10 policies a page), but one after another for the refresh
/// that waits; fewer leave some of the next refreshes' policies out.
const FILL_NAMES: usize = 15;

/// In a refresh, the keys to fill a DescribeScalingPolicies with: the
/// policies the cluster's other services ([`listed_services`]) would have
/// if named as the policies asked so far in this process are named after
/// their services (`auth` -> `auth-cpu-target-tracking`: the part after
/// the service's name), so that their refreshes then send nothing. Filled
/// to [`FILL_NAMES`], not to the 50 names a call takes. Not a listing of
/// the account's ECS policies: it names everyone's, 10 a page, whoever
/// made them. A name guessed wrong costs nothing but its place in the call.
fn likely_policies(aws: &Clients, resource_id: &str, name: &str) -> Vec<String> {
    type Suffixes = std::sync::Mutex<BTreeSet<String>>;
    // `service/CLUSTER/NAME`.
    let ["service", cluster, service] = resource_id.split('/').collect::<Vec<_>>()[..] else {
        return Vec::new();
    };
    let suffixes = aws
        .gatherers
        .shared::<Suffixes>("application-autoscaling:DescribeScalingPolicies names (refresh)");
    let suffixes: Vec<String> = {
        let mut known = suffixes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(suffix) = name.strip_prefix(service) {
            known.insert(suffix.to_string());
        }
        known.iter().cloned().collect()
    };
    listed_services(aws, cluster)
        .iter()
        .flat_map(|other| {
            suffixes.iter().map(move |suffix| {
                policy_key(
                    &format!("service/{cluster}/{other}"),
                    &format!("{other}{suffix}"),
                )
            })
        })
        .collect()
}

/// The ECS desired-count policies of these keys ([`policy_key`], at most
/// 50), by key: one DescribeScalingPolicies by `PolicyNames`, without
/// `ResourceId` (AWS takes one target or none; and `ScalableDimension` only
/// with a `ResourceId`), paged. A name may be taken on other targets too
/// (another platform's microservice of the same name, or anyone's policy):
/// each answer goes to the asker of its own target and dimension only.
async fn describe_names(
    client: aws_sdk_applicationautoscaling::Client,
    keys: Vec<String>,
) -> Result<HashMap<String, ScalingPolicy>, AwsError> {
    let wanted: HashSet<&str> = keys.iter().map(String::as_str).collect();
    let names: BTreeSet<String> = keys
        .iter()
        .filter_map(|k| k.rsplit_once('\n').map(|(_, name)| name.to_string()))
        .collect();
    let mut found = HashMap::new();
    let mut next_token = None;
    loop {
        let out = client
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .set_policy_names(Some(names.iter().cloned().collect()))
            .max_results(DESCRIBE_POLICIES_PAGE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| AwsError::sdk("application-autoscaling:DescribeScalingPolicies", e))?;
        for p in out.scaling_policies() {
            let key = policy_key(&p.resource_id, &p.policy_name);
            if p.scalable_dimension == ScalableDimension::EcsServiceDesiredCount
                && wanted.contains(key.as_str())
            {
                found.insert(key, p.clone());
            }
        }
        next_token = out.next_token().map(str::to_string);
        if next_token.is_none() {
            return Ok(found);
        }
    }
}

#[async_trait]
impl Adapter for ScalingPolicySpec {
    async fn observe(
        &self,
        aws: &Clients,
        _: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let label = self.wanted_label(aws, resolved).await?;
        Ok(self.observed(self.describe(aws).await?.as_ref(), &label))
    }

    /// PutScalingPolicy creates or replaces by name: adopting is the same
    /// call; it re-points a request-count policy at the live target group.
    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "application-autoscaling:PutScalingPolicy";
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from(self.metric.as_str()))
            .set_resource_label(match self.wanted_label(aws, resolved).await? {
                WantedLabel::None => None,
                WantedLabel::Is { live, .. } => Some(live),
                WantedLabel::Unknown => {
                    return Err(AwsError::new(
                        CALL,
                        "the resource label names the service's target groups and production rule, which are not recorded yet",
                    ))
                }
            })
            .build()
            .map_err(|e| AwsError::build(CALL, e))?;
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(self.target_value)
            .predefined_metric_specification(metric)
            .scale_in_cooldown(self.scale_in_cooldown_seconds)
            .scale_out_cooldown(self.scale_out_cooldown_seconds)
            .build()
            .map_err(|e| AwsError::build(CALL, e))?;
        let out = aws
            .autoscaling
            .put_scaling_policy()
            .policy_name(&self.name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config)
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        Ok(out.policy_arn().to_string())
    }

    async fn update(
        &self,
        aws: &Clients,
        _: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        self.create(aws, resolved).await
    }

    async fn delete(&self, aws: &Clients, _: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.autoscaling
                .delete_scaling_policy()
                .policy_name(&self.name)
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(&self.resource_id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("application-autoscaling:DeleteScalingPolicy", e)),
        )
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;
    use crate::spec::Ref;

    const LIVE: &str = "app/matbakh/1/targetgroup/matbakh-a-g/22";
    const OTHER: &str = "app/matbakh/1/targetgroup/matbakh-a-b/11";

    fn spec() -> ScalingPolicySpec {
        ScalingPolicySpec {
            resource_id: "service/matbakh/a".into(),
            name: "a-requests-target-tracking".into(),
            metric: "ALBRequestCountPerTarget".into(),
            resource_label: Some(RequestCountLabel {
                load_balancer: "app/matbakh/1".into(),
                target_groups: [Ref::to("b"), Ref::to("g")],
                production_rule: Ref::to("rule"),
                service: Ref::to("service"),
            }),
            target_value: 100.0,
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
        }
    }

    fn policy(label: &str) -> ScalingPolicy {
        let metric = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::AlbRequestCountPerTarget)
            .resource_label(label)
            .build()
            .unwrap();
        ScalingPolicy::builder()
            .policy_arn("arn")
            .policy_name("a-requests-target-tracking")
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id("service/matbakh/a")
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .target_tracking_scaling_policy_configuration(
                TargetTrackingScalingPolicyConfiguration::builder()
                    .target_value(100.0)
                    .predefined_metric_specification(metric)
                    .scale_in_cooldown(300)
                    .scale_out_cooldown(60)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn wanted() -> WantedLabel {
        WantedLabel::Is {
            live: LIVE.into(),
            other: OTHER.into(),
        }
    }

    fn differences(o: Observation) -> Vec<String> {
        match o {
            Observation::Present { differences } => differences,
            Observation::Missing => panic!("missing"),
        }
    }

    #[test]
    fn the_label_a_release_left_behind_is_followed_not_drift() {
        assert!(differences(spec().observed(Some(&policy(LIVE)), &wanted())).is_empty());
        let d = differences(spec().observed(Some(&policy(OTHER)), &wanted()));
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with(FOLLOWS_AWS), "{d:?}");
        // Any other label is someone's change: plain drift.
        let d = differences(
            spec().observed(Some(&policy("app/matbakh/1/targetgroup/x/33")), &wanted()),
        );
        assert!(!d[0].starts_with(FOLLOWS_AWS), "{d:?}");
        // Unknown until its objects exist: not compared.
        assert!(
            differences(spec().observed(Some(&policy(OTHER)), &WantedLabel::Unknown)).is_empty()
        );
    }
}

#[cfg(test)]
mod gathered_tests {
    use std::sync::{Arc, Mutex};

    use serde_json::{json, Value};

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    /// `(resource id, policy name, target value)` of every policy in the
    /// account.
    type Policies = Vec<(String, String, f64)>;

    /// DescribeScalingPolicies as AWS answers it: by `PolicyNames` (at most
    /// 50), across targets when no `ResourceId` is given, `MaxResults`
    /// (1-10, default 10) a page. Each request's body is kept in `bodies`.
    fn aws_like(policies: Policies, bodies: Arc<Mutex<Vec<Value>>>) -> FakeEndpoint {
        FakeEndpoint::start(move |op, body| {
            if op == "ListServices" {
                // The cluster's services: those of the policies' targets.
                let arns: BTreeSet<String> = policies
                    .iter()
                    .map(|(rid, _, _)| {
                        let name = rid.rsplit('/').next().unwrap_or_default();
                        format!("arn:aws:ecs:eu-central-1:1:service/p/{name}")
                    })
                    .collect();
                return (200, json!({"serviceArns": arns}));
            }
            if op != "DescribeScalingPolicies" {
                return (400, json!({"__type": "Unexpected", "message": op}));
            }
            bodies.lock().unwrap().push(body.clone());
            let names: Option<Vec<&str>> = body["PolicyNames"]
                .as_array()
                .map(|n| n.iter().filter_map(Value::as_str).collect());
            let page = body["MaxResults"].as_u64().unwrap_or(10) as usize;
            if names.as_ref().is_some_and(|n| n.len() > 50) || !(1..=10).contains(&page) {
                return (
                    400,
                    json!({"__type": "ValidationException", "message": "limits"}),
                );
            }
            let matching: Vec<Value> = policies
                .iter()
                .filter(|(rid, name, _)| {
                    names.as_ref().is_none_or(|n| n.contains(&name.as_str()))
                        && body["ResourceId"].as_str().is_none_or(|r| r == rid)
                })
                .map(|(rid, name, target)| {
                    json!({"PolicyARN": format!("arn:{rid}:{name}"), "PolicyName": name,
                           "ServiceNamespace": "ecs", "ResourceId": rid,
                           "ScalableDimension": ScalableDimension::EcsServiceDesiredCount.as_str(),
                           "PolicyType": "TargetTrackingScaling", "CreationTime": 0,
                           "TargetTrackingScalingPolicyConfiguration": {
                               "TargetValue": target, "ScaleInCooldown": 300,
                               "ScaleOutCooldown": 60,
                               "PredefinedMetricSpecification": {
                                   "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}})
                })
                .collect();
            let start: usize = body["NextToken"].as_str().map_or(0, |t| t.parse().unwrap());
            let end = (start + page).min(matching.len());
            let mut answer = json!({"ScalingPolicies": matching[start..end]});
            if end < matching.len() {
                answer["NextToken"] = json!(end.to_string());
            }
            (200, answer)
        })
    }

    fn spec(resource_id: &str, name: &str, target_value: f64) -> ScalingPolicySpec {
        ScalingPolicySpec {
            resource_id: resource_id.into(),
            name: name.into(),
            metric: "ECSServiceAverageCPUUtilization".into(),
            resource_label: None,
            target_value,
            scale_in_cooldown_seconds: 300,
            scale_out_cooldown_seconds: 60,
        }
    }

    async fn observe_all(
        aws: &Clients,
        specs: &[ScalingPolicySpec],
    ) -> Vec<Result<Observation, AwsError>> {
        let items: Vec<(&ScalingPolicySpec, &str)> =
            specs.iter().map(|s| (s, s.name.as_str())).collect();
        ScalingPolicySpec::observe_many(aws, &items, &Resolved::default()).await
    }

    fn clean(o: &Result<Observation, AwsError>) -> bool {
        matches!(o, Ok(Observation::Present { differences }) if differences.is_empty())
    }

    #[tokio::test]
    async fn many_targets_policies_come_with_one_call_by_name() {
        let policies: Policies = (0..5)
            .flat_map(|i| {
                ["cpu", "memory"].map(|m| (format!("service/p/s{i}"), format!("s{i}-{m}"), 70.0))
            })
            .collect();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let fake = aws_like(policies.clone(), bodies.clone());
        let aws = fake.clients();
        let specs: Vec<_> = policies
            .iter()
            .map(|(rid, name, t)| spec(rid, name, *t))
            .chain([spec("service/p/gone", "gone-cpu", 70.0)])
            .collect();
        let observed = observe_all(&aws, &specs).await;
        assert!(observed[..10].iter().all(clean), "{observed:?}");
        assert!(matches!(observed[10], Ok(Observation::Missing)));
        // Five targets' ten policies (and one that is gone): one call, not
        // one per target.
        assert_eq!(fake.calls(), vec!["DescribeScalingPolicies"]);
        let body = &bodies.lock().unwrap()[0];
        assert_eq!(body["PolicyNames"].as_array().unwrap().len(), 11, "{body}");
        assert!(body.get("ResourceId").is_none(), "{body}");
        assert!(body.get("ScalableDimension").is_none(), "{body}");
    }

    #[tokio::test]
    async fn past_fifty_names_and_ten_a_page_the_calls_stay_few() {
        // 30 targets, 60 policies: two batches (50 names, then 10), pages of
        // 10 policies: 5 + 1 calls instead of 30.
        let policies: Policies = (0..30)
            .flat_map(|i| {
                ["cpu", "memory"].map(|m| (format!("service/p/s{i}"), format!("s{i}-{m}"), 70.0))
            })
            .collect();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let fake = aws_like(policies.clone(), bodies.clone());
        let aws = fake.clients();
        let specs: Vec<_> = policies
            .iter()
            .map(|(rid, name, t)| spec(rid, name, *t))
            .collect();
        let observed = observe_all(&aws, &specs).await;
        assert!(observed.iter().all(clean), "{observed:?}");
        assert_eq!(fake.calls().len(), 6, "{:?}", fake.calls());
    }

    #[tokio::test]
    async fn a_name_taken_on_several_targets_goes_to_its_own_target_only() {
        // Two platforms' microservices of one name, and someone else's
        // policy of that name on a third target.
        let policies: Policies = vec![
            ("service/blue/auth".into(), "auth-cpu".into(), 70.0),
            ("service/green/auth".into(), "auth-cpu".into(), 50.0),
            ("service/other/x".into(), "auth-cpu".into(), 10.0),
        ];
        let fake = aws_like(policies, Default::default());
        let aws = fake.clients();
        let specs = [
            spec("service/blue/auth", "auth-cpu", 70.0),
            spec("service/green/auth", "auth-cpu", 50.0),
            spec("service/gone/auth", "auth-cpu", 70.0),
        ];
        let observed = observe_all(&aws, &specs).await;
        assert!(clean(&observed[0]) && clean(&observed[1]), "{observed:?}");
        assert!(
            matches!(observed[2], Ok(Observation::Missing)),
            "{observed:?}"
        );
        assert_eq!(fake.calls(), vec!["DescribeScalingPolicies"]);
        // Read back, each finds its own.
        let refs: Vec<&ScalingPolicySpec> = specs.iter().collect();
        let found = ScalingPolicySpec::read_back_many(&aws, &refs)
            .await
            .unwrap();
        let targets: Vec<Option<f64>> = found
            .iter()
            .map(|f| f.as_ref().map(|f| f.spec.target_value))
            .collect();
        assert_eq!(targets, vec![Some(70.0), Some(50.0), None]);
    }

    #[tokio::test]
    async fn the_batch_error_reaches_every_asker() {
        let fake = FakeEndpoint::start(|_, _| {
            (
                400,
                json!({"__type": "ConcurrentUpdateException", "message": "busy"}),
            )
        });
        let aws = fake.clients();
        let specs = [
            spec("service/p/a", "a-cpu", 70.0),
            spec("service/p/b", "b-cpu", 70.0),
        ];
        let observed = observe_all(&aws, &specs).await;
        for o in &observed {
            let e = o.as_ref().unwrap_err();
            assert!(e.to_string().contains("DescribeScalingPolicies"), "{e}");
        }
        assert_eq!(fake.calls(), vec!["DescribeScalingPolicies"]);
    }

    /// A plan's refreshes of 30 microservices one after another
    /// (Terraform's staggered refreshes, which never meet in the
    /// gatherer's window), two policies each: after the first two, each
    /// DescribeScalingPolicies is filled to about one page with the
    /// policies of the cluster's listed services, named as the asked ones
    /// are, whose refreshes then send nothing. A policy deleted out of band
    /// still reads as missing.
    #[tokio::test]
    async fn a_plan_fills_each_call_with_the_listed_services_policies() {
        let mut policies: Policies = (0..30)
            .flat_map(|i| {
                ["cpu", "memory"].map(|m| {
                    (
                        format!("service/p/s{i}"),
                        format!("s{i}-{m}-target-tracking"),
                        70.0,
                    )
                })
            })
            .collect();
        // s20's memory policy was deleted out of band.
        policies.retain(|(_, name, _)| name != "s20-memory-target-tracking");
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let fake = aws_like(policies, bodies.clone());
        let configured = fake.clients();
        let refresh = |i: usize| {
            let aws = configured.remembering_reads();
            async move {
                // A refresh looks for all three a microservice can have;
                // without ingress it has two.
                let specs = ["cpu", "memory", "requests"].map(|m| {
                    spec(
                        &format!("service/p/s{i}"),
                        &format!("s{i}-{m}-target-tracking"),
                        70.0,
                    )
                });
                let refs: Vec<&ScalingPolicySpec> = specs.iter().collect();
                ScalingPolicySpec::read_back_many(&aws, &refs)
                    .await
                    .unwrap()
                    .iter()
                    .map(Option::is_some)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(refresh(0).await, vec![true, true, false]);
        assert_eq!(refresh(1).await, vec![true, true, false]);
        // The listing the second refresh started, in the background.
        crate::aws::ecs::services_gathered::wait_for_listing(&configured, "p", 30).await;
        for i in 2..30 {
            assert_eq!(refresh(i).await, vec![true, i != 20, false], "s{i}");
        }
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        assert_eq!(count("ListServices"), 1, "{calls:?}");
        // s0, s1 alone; then s2, s7, s12, s17, s22, s27, each with the
        // next four services' three names (15 names, 10 policies): 8
        // calls, not 30, each one page.
        assert_eq!(count("DescribeScalingPolicies"), 8, "{calls:?}");
        for body in bodies.lock().unwrap().iter() {
            assert!(
                body["PolicyNames"].as_array().unwrap().len() <= FILL_NAMES,
                "{body}"
            );
            assert!(body.get("NextToken").is_none(), "{body}");
        }
    }
}
