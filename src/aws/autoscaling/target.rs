//! Application Auto Scaling: the ECS service's desired count as a scalable
//! target. Its id is the resource id (`service/CLUSTER/NAME`). Its tags go
//! by its ARN (`ScalableTargetARN`): RegisterScalableTarget tags a target it
//! creates and ignores `Tags` for one that exists, so an update puts them
//! with TagResource (Application Auto Scaling API reference,
//! RegisterScalableTarget and TagResource).

use async_trait::async_trait;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ScalableTarget, ServiceNamespace};

use std::collections::{BTreeMap, HashMap};

use crate::aws::compare::gone_is_ok;
use crate::aws::ecs::services_gathered::listed_services;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::autoscaling::ScalableTargetSpec;

impl ScalableTargetSpec {
    /// The scalable target of `resource_id`, described together with the
    /// other targets asked for at the same moment ([`crate::aws::gatherer`]):
    /// one DescribeScalableTargets per 50 resource ids.
    ///
    /// In a refresh, each call is filled up to 50 ids with those of the
    /// cluster's other services ([`listed_services`], the listing the ECS
    /// services' reads share), whose refreshes then send nothing; a service
    /// without a target reads as without one, as when asked alone. Not a
    /// listing by `ServiceNamespace=ecs`: that names every ECS target of
    /// the account, every cluster and whoever made them (50 a page, paged
    /// one after another), and AWS offers no filter by cluster; the
    /// cluster's ECS services are ours to ask about, 50 in one call.
    async fn describe(
        &self,
        aws: &Clients,
        resource_id: &str,
    ) -> Result<Option<ScalableTarget>, AwsError> {
        let key = format!("application-autoscaling:DescribeScalableTargets {resource_id}");
        aws.remembered(key, || async {
            let gatherer = aws.gatherers.of::<ScalableTarget>(
                "application-autoscaling:DescribeScalableTargets",
                DESCRIBE_SCALABLE_TARGETS_MAX_IDS,
            );
            let client = aws.autoscaling.clone();
            let fetch = move |ids| describe_ids(client, ids);
            // `service/CLUSTER/NAME`.
            let cluster = match resource_id.split('/').collect::<Vec<_>>()[..] {
                ["service", cluster, _] if aws.memo.is_some() => cluster,
                _ => return gatherer.ask(resource_id.to_string(), fetch).await,
            };
            let candidates = listed_services(aws, cluster)
                .iter()
                .map(|name| format!("service/{cluster}/{name}"))
                .collect();
            gatherer
                .ask_ahead(
                    resource_id.to_string(),
                    candidates,
                    DESCRIBE_SCALABLE_TARGETS_MAX_IDS,
                    fetch,
                )
                .await
        })
        .await
    }

    /// The target's tags, for a read, from the Resource Groups Tagging API
    /// (it covers `application-autoscaling:scalable-target`): in a refresh
    /// from the process's one listing of the region's owned targets, else
    /// gathered with other objects' tags into one GetResources
    /// ([`crate::aws::tagging::listed_tags_of`]); ListTagsForResource when
    /// it does not name the target. Remembered, so a refresh's recovery and
    /// observation ask once. Writes use [`Self::tags_of`].
    async fn tags_read(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        aws.remembered(format!("tag:GetResources {arn}"), || {
            crate::aws::tagging::listed_tags_of(
                aws,
                "tag:GetResources application-autoscaling:scalable-target",
                "application-autoscaling:scalable-target",
                arn,
                || Self::tags_of(aws, arn),
            )
        })
        .await
    }

    async fn tags_of(aws: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
        aws.remembered(
            format!("application-autoscaling:ListTagsForResource {arn}"),
            || async {
                let out = aws
                    .autoscaling
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .send()
                    .await
                    .map_err(|e| AwsError::sdk("application-autoscaling:ListTagsForResource", e))?;
                Ok(out
                    .tags()
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default())
            },
        )
        .await
    }

    /// Exactly this spec's tags on the target `arn` (besides AWS's and the
    /// provider's own keys).
    async fn put_tags(&self, aws: &Clients, arn: &str) -> Result<(), AwsError> {
        aws.autoscaling
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(self.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("application-autoscaling:TagResource", e))?;
        tags::remove_unwanted(&self.tags, Self::tags_of(aws, arn), |keys| async move {
            crate::aws::tags::untag_resource!(
                aws.autoscaling,
                arn,
                keys,
                "application-autoscaling:UntagResource"
            )
        })
        .await
    }

    /// RegisterScalableTarget creates or updates; the target's ARN.
    async fn register(&self, aws: &Clients) -> Result<Option<String>, AwsError> {
        let out = aws
            .autoscaling
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&self.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(self.min_capacity)
            .max_capacity(self.max_capacity)
            .set_tags(Some(self.tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("application-autoscaling:RegisterScalableTarget", e))?;
        Ok(out.scalable_target_arn)
    }
}

/// DescribeScalableTargets takes at most 50 `ResourceIds` and answers 50
/// targets a page (botocore application-autoscaling 2016-02-06).
const DESCRIBE_SCALABLE_TARGETS_MAX_IDS: usize = 50;

/// The ECS desired-count targets of these resource ids (at most 50) that
/// exist, by resource id.
async fn describe_ids(
    client: aws_sdk_applicationautoscaling::Client,
    ids: Vec<String>,
) -> Result<HashMap<String, ScalableTarget>, AwsError> {
    let mut found = HashMap::new();
    let mut next_token = None;
    loop {
        let out = client
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .set_resource_ids(Some(ids.clone()))
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| AwsError::sdk("application-autoscaling:DescribeScalableTargets", e))?;
        for t in out.scalable_targets() {
            found.insert(t.resource_id.clone(), t.clone());
        }
        next_token = out.next_token().map(str::to_string);
        if next_token.is_none() {
            return Ok(found);
        }
    }
}

impl ScalableTargetSpec {
    /// Read back the scalable target of this resource id (its id).
    pub async fn read_back(
        &self,
        aws: &Clients,
    ) -> Result<Option<Found<ScalableTargetSpec>>, AwsError> {
        let Some(t) = self.describe(aws, &self.resource_id).await? else {
            return Ok(None);
        };
        let tags = match t.scalable_target_arn() {
            Some(arn) => Self::tags_read(aws, arn).await?,
            None => BTreeMap::new(),
        };
        let spec = ScalableTargetSpec {
            resource_id: t.resource_id.clone(),
            min_capacity: t.min_capacity,
            max_capacity: t.max_capacity,
            tags,
        };
        Ok(Some(Found::new(spec, t.resource_id)))
    }
}

#[async_trait]
impl Adapter for ScalableTargetSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(target) = self.describe(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if id != self.resource_id {
            diffs.push(format!(
                "scalable target is {id}, want {}",
                self.resource_id
            ));
        }
        if (target.min_capacity, target.max_capacity) != (self.min_capacity, self.max_capacity) {
            diffs.push(format!(
                "task count range is {}-{}, want {}-{}",
                target.min_capacity, target.max_capacity, self.min_capacity, self.max_capacity
            ));
        }
        if let Some(arn) = target.scalable_target_arn() {
            diffs.extend(tags::differences(
                &self.tags,
                &Self::tags_read(aws, arn).await?,
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    /// RegisterScalableTarget creates or updates: adopting is the same call
    /// (a target that existed keeps its tags until the next update).
    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        self.register(aws).await?;
        Ok(self.resource_id.clone())
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if id != self.resource_id {
            self.delete(aws, id).await?;
            return self.create(aws, resolved).await;
        }
        if let Some(arn) = self.register(aws).await? {
            self.put_tags(aws, &arn).await?;
        }
        Ok(self.resource_id.clone())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.autoscaling
                .deregister_scalable_target()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("application-autoscaling:DeregisterScalableTarget", e)),
        )
    }
}

#[cfg(test)]
mod gathered_tests {
    use serde_json::json;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    fn arn(resource_id: &str) -> String {
        let id = resource_id.replace('/', "-");
        format!("arn:aws:application-autoscaling:eu-central-1:1:scalable-target/{id}")
    }

    #[tokio::test]
    async fn concurrent_target_reads_share_describe_scalable_targets_and_get_resources() {
        let fake = FakeEndpoint::start(|op, body| match op {
            "DescribeScalableTargets" => {
                let ids = body["ResourceIds"].as_array().cloned().unwrap_or_default();
                assert!(ids.len() <= 50, "{}", ids.len());
                let targets: Vec<_> = ids
                    .iter()
                    .filter_map(|i| i.as_str())
                    .filter(|i| !i.ends_with("gone"))
                    .map(|i| {
                        json!({"ServiceNamespace": "ecs", "ResourceId": i,
                               "ScalableDimension": ScalableDimension::EcsServiceDesiredCount.as_str(),
                               "MinCapacity": 1, "MaxCapacity": 3,
                               "RoleARN": "arn:aws:iam::1:role/r", "CreationTime": 0,
                               "ScalableTargetARN": arn(i)})
                    })
                    .collect();
                (200, json!({"ScalableTargets": targets}))
            }
            // GetResources names the tagged targets; one it leaves out
            // (never tagged) is asked of Application Auto Scaling.
            "GetResources" => {
                let arns = body["ResourceARNList"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let found: Vec<_> = arns
                    .iter()
                    .filter_map(|a| a.as_str())
                    .filter(|a| !a.ends_with("untagged"))
                    .map(|a| json!({"ResourceARN": a, "Tags": [{"Key": "team", "Value": "identity"}]}))
                    .collect();
                (200, json!({"ResourceTagMappingList": found}))
            }
            "ListTagsForResource" => (200, json!({"Tags": {"team": "identity"}})),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let aws = fake.clients();
        let specs: Vec<ScalableTargetSpec> = (0..39)
            .map(|i| format!("service/p/s{i}"))
            .chain([
                "service/p/untagged".to_string(),
                "service/p/gone".to_string(),
            ])
            .map(|resource_id| ScalableTargetSpec {
                resource_id,
                min_capacity: 1,
                max_capacity: 3,
                tags: [("team".to_string(), "identity".to_string())].into(),
            })
            .collect();
        let resolved = Resolved::default();
        let observed = futures::future::join_all(
            specs
                .iter()
                .map(|s| s.observe(&aws, &s.resource_id, &resolved)),
        )
        .await;
        for o in &observed[..40] {
            assert!(
                matches!(o, Ok(Observation::Present { differences }) if differences.is_empty()),
                "{o:?}"
            );
        }
        assert!(matches!(observed[40], Ok(Observation::Missing)));
        // 41 targets: one DescribeScalableTargets (50 ids a call), not 41;
        // their 40 tag lists in one GetResources, and one
        // ListTagsForResource for the target it does not name.
        let mut calls = fake.calls();
        calls.sort();
        assert_eq!(
            calls,
            vec![
                "DescribeScalableTargets",
                "GetResources",
                "ListTagsForResource"
            ]
        );
    }

    #[tokio::test]
    async fn a_refresh_lists_the_owned_targets_tags_once_for_the_whole_process() {
        // 150 owned targets with tags, 100 a page; "service/p/bare" was
        // never tagged (GetResources does not name it).
        let fake = FakeEndpoint::start(|op, body| match op {
            "DescribeScalableTargets" => {
                let ids = body["ResourceIds"].as_array().cloned().unwrap_or_default();
                let targets: Vec<_> = ids
                    .iter()
                    .filter_map(|i| i.as_str())
                    .map(|i| {
                        json!({"ServiceNamespace": "ecs", "ResourceId": i,
                               "ScalableDimension": ScalableDimension::EcsServiceDesiredCount.as_str(),
                               "MinCapacity": 1, "MaxCapacity": 3,
                               "RoleARN": "arn:aws:iam::1:role/r", "CreationTime": 0,
                               "ScalableTargetARN": arn(i)})
                    })
                    .collect();
                (200, json!({"ScalableTargets": targets}))
            }
            "GetResources" => {
                assert!(body.get("ResourceARNList").is_none(), "{body}");
                assert_eq!(
                    body["ResourceTypeFilters"],
                    json!(["application-autoscaling:scalable-target"])
                );
                assert_eq!(body["TagFilters"], json!([{"Key": "matbakh:owner"}]));
                let start: usize = body["PaginationToken"]
                    .as_str()
                    .map_or(0, |t| t.parse().unwrap());
                let end = (start + 100).min(150);
                let page: Vec<_> = (start..end)
                    .map(|i| {
                        json!({"ResourceARN": arn(&format!("service/p/s{i}")),
                               "Tags": [{"Key": "matbakh:owner", "Value": "p/s"},
                                        {"Key": "team", "Value": "identity"}]})
                    })
                    .collect();
                let token = if end < 150 {
                    end.to_string()
                } else {
                    String::new()
                };
                (
                    200,
                    json!({"ResourceTagMappingList": page, "PaginationToken": token}),
                )
            }
            "ListTagsForResource" => (200, json!({"Tags": {"team": "identity"}})),
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let configured = fake.clients();
        let specs: Vec<ScalableTargetSpec> = (0..150)
            .map(|i| format!("service/p/s{i}"))
            .chain(["service/p/bare".to_string()])
            .map(|resource_id| ScalableTargetSpec {
                resource_id,
                min_capacity: 1,
                max_capacity: 3,
                tags: [("team".to_string(), "identity".to_string())].into(),
            })
            .collect();
        let resolved = Resolved::default();
        // Each resource's refresh has its own memo; the process shares the
        // listing.
        let observed = futures::future::join_all(specs.iter().map(|s| {
            let aws = configured.remembering_reads();
            let resolved = &resolved;
            async move { s.observe(&aws, &s.resource_id, resolved).await }
        }))
        .await;
        for o in &observed {
            assert!(
                matches!(o, Ok(Observation::Present { differences }) if differences.is_empty()),
                "{o:?}"
            );
        }
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        // 150 targets' tags: two pages of one listing, not a call per
        // target; the never-tagged one asked of its own service.
        assert_eq!(count("GetResources"), 2, "{calls:?}");
        assert_eq!(count("ListTagsForResource"), 1, "{calls:?}");
    }

    /// A plan's refreshes of 60 microservices one after another
    /// (Terraform's staggered refreshes, which never meet in the
    /// gatherer's window): after the first two, each
    /// DescribeScalableTargets is filled to 50 ids with the cluster's
    /// listed services, whose refreshes then send nothing; a service
    /// without a target reads as missing.
    #[tokio::test]
    async fn a_plan_fills_each_describe_with_the_clusters_listed_services() {
        let fake = FakeEndpoint::start(|op, body| match op {
            "ListServices" => {
                let arns: Vec<_> = (0..60)
                    .map(|i| format!("arn:aws:ecs:eu-central-1:1:service/p/s{i}"))
                    .collect();
                (200, json!({"serviceArns": arns}))
            }
            "DescribeScalableTargets" => {
                let ids = body["ResourceIds"].as_array().cloned().unwrap_or_default();
                assert!(ids.len() <= 50, "{}", ids.len());
                let targets: Vec<_> = ids
                    .iter()
                    .filter_map(|i| i.as_str())
                    .filter(|i| *i != "service/p/s59")
                    .map(|i| {
                        json!({"ServiceNamespace": "ecs", "ResourceId": i,
                               "ScalableDimension": ScalableDimension::EcsServiceDesiredCount.as_str(),
                               "MinCapacity": 1, "MaxCapacity": 3,
                               "RoleARN": "arn:aws:iam::1:role/r", "CreationTime": 0,
                               "ScalableTargetARN": arn(i)})
                    })
                    .collect();
                (200, json!({"ScalableTargets": targets}))
            }
            "GetResources" => {
                let page: Vec<_> = (0..59)
                    .map(|i| {
                        json!({"ResourceARN": arn(&format!("service/p/s{i}")),
                               "Tags": [{"Key": "matbakh:owner", "Value": "p/s"}]})
                    })
                    .collect();
                (200, json!({"ResourceTagMappingList": page}))
            }
            _ => (400, json!({"__type": "Unexpected", "message": op})),
        });
        let configured = fake.clients();
        let resolved = Resolved::default();
        let refresh = |i: usize| {
            let aws = configured.remembering_reads();
            let spec = ScalableTargetSpec {
                resource_id: format!("service/p/s{i}"),
                min_capacity: 1,
                max_capacity: 3,
                tags: Default::default(),
            };
            let resolved = &resolved;
            async move { spec.observe(&aws, &spec.resource_id, resolved).await }
        };
        let clean = |o: Result<Observation, AwsError>| matches!(o, Ok(Observation::Present { differences }) if differences.is_empty());
        assert!(clean(refresh(0).await));
        assert!(clean(refresh(1).await));
        // The listing the second refresh started, in the background.
        crate::aws::ecs::services_gathered::wait_for_listing(&configured, "p", 60).await;
        for i in 2..59 {
            assert!(clean(refresh(i).await), "s{i}");
        }
        assert!(matches!(refresh(59).await, Ok(Observation::Missing)));
        let calls = fake.calls();
        let count = |op: &str| calls.iter().filter(|c| *c == op).count();
        assert_eq!(count("ListServices"), 1, "{calls:?}");
        // s0, s1 alone; s2 with s3-s51; s52 with s53-s59: 4, not 60.
        assert_eq!(count("DescribeScalableTargets"), 4, "{calls:?}");
    }
}
