//! The platform's ECS cluster: Fargate capacity providers, Container Insights
//! and, on Service Connect, the namespace its services join by default
//! (`serviceConnectDefaults`, always by ARN).

use async_trait::async_trait;
use aws_sdk_ecs::types::{
    CapacityProviderStrategyItem, Cluster, ClusterField, ClusterServiceConnectDefaultsRequest,
    ClusterSetting, ClusterSettingName, Tag,
};

use crate::aws::{tags, Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::platform::ClusterSpec;
use crate::spec::Tags;

/// Both Fargate capacity providers are always attached: services choose
/// their own on-demand/spot split through their strategy.
const CAPACITY_PROVIDERS: [&str; 2] = ["FARGATE", "FARGATE_SPOT"];

fn ecs_tags(t: &Tags) -> Vec<Tag> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn found_tags(cluster: &Cluster) -> std::collections::BTreeMap<String, String> {
    cluster
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

fn insights_value(enabled: bool) -> &'static str {
    if enabled {
        "enabled"
    } else {
        "disabled"
    }
}

impl ClusterSpec {
    /// The namespace ARN `serviceConnectDefaults` should name, if any.
    fn namespace_arn<'a>(
        &self,
        call: &str,
        resolved: &'a Resolved,
    ) -> Result<Option<&'a str>, AwsError> {
        match &self.service_connect_namespace {
            None => Ok(None),
            Some(key) => resolved
                .get(&key.0)
                .map(|arn| Some(arn.as_str()))
                .ok_or_else(|| AwsError::new(call, format!("component {} has no id yet", key.0))),
        }
    }

    fn defaults(
        call: &str,
        namespace_arn: &str,
    ) -> Result<ClusterServiceConnectDefaultsRequest, AwsError> {
        ClusterServiceConnectDefaultsRequest::builder()
            .namespace(namespace_arn)
            .build()
            .map_err(|e| AwsError::build(call, e))
    }

    /// The key of this cluster among an apply's reads ahead.
    fn ahead_key(&self) -> String {
        format!("ecs:DescribeClusters {}", self.name)
    }

    async fn describe(
        &self,
        aws: &Clients,
        name_or_arn: &str,
    ) -> Result<Option<Cluster>, AwsError> {
        // By name or by ARN, it is the same cluster to a refresh's memo.
        let name = name_or_arn
            .rsplit(":cluster/")
            .next()
            .unwrap_or(name_or_arn);
        aws.remembered(format!("ecs:DescribeClusters {name}"), || async {
            let out = aws
                .ecs
                .describe_clusters()
                .clusters(name_or_arn)
                .include(ClusterField::Tags)
                .include(ClusterField::Settings)
                .send()
                .await
                .map_err(|e| AwsError::sdk("ecs:DescribeClusters", e))?;
            Ok(out
                .clusters()
                .iter()
                .find(|c| c.status() != Some("INACTIVE"))
                .cloned())
        })
        .await
    }

    fn differences(&self, cluster: &Cluster, namespace_arn: Option<&str>) -> Vec<String> {
        let mut diffs = Vec::new();
        if let Some(want) = namespace_arn {
            let found = cluster
                .service_connect_defaults()
                .and_then(|d| d.namespace());
            if found != Some(want) {
                diffs.push(format!(
                    "Service Connect default namespace is {}, want {want}",
                    found.unwrap_or("none")
                ));
            }
        }
        let insights = cluster
            .settings()
            .iter()
            .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
            .and_then(|s| s.value())
            .unwrap_or("disabled");
        let want = insights_value(self.container_insights);
        if insights != want {
            diffs.push(format!("container insights is {insights}, want {want}"));
        }
        for cp in CAPACITY_PROVIDERS {
            if !cluster.capacity_providers().iter().any(|c| c == cp) {
                diffs.push(format!("capacity provider {cp} missing"));
            }
        }
        diffs.extend(tags::differences(&self.tags, &found_tags(cluster)));
        diffs
    }
}

#[async_trait]
impl Adapter for ClusterSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let namespace = self.namespace_arn("ecs:DescribeClusters", resolved)?;
        Ok(match self.describe(aws, id).await? {
            None => Observation::Missing,
            Some(cluster) => Observation::with_differences(self.differences(&cluster, namespace)),
        })
    }

    /// The owner check of `create` needs nothing the namespace's create
    /// makes: asked for beside it.
    async fn look_ahead(&self, aws: &Clients) {
        let _ = aws
            .ahead
            .remembered(self.ahead_key(), || self.describe(aws, &self.name))
            .await;
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        // Read ahead when the apply started (`look_ahead`), else now.
        let existing = aws
            .ahead
            .taken(self.ahead_key(), || self.describe(aws, &self.name))
            .await?;
        if let Some(existing) = existing {
            tags::claim(
                "ecs:CreateCluster",
                "ECS cluster",
                &self.name,
                &self.tags,
                &found_tags(&existing),
            )?;
            let arn = existing
                .cluster_arn()
                .map(str::to_string)
                .ok_or_else(|| AwsError::new("ecs:DescribeClusters", "cluster without ARN"))?;
            // Our own leftover: bring it in line (its settings may predate
            // the interruption).
            return self.update(aws, &arn, resolved).await;
        }
        const CALL: &str = "ecs:CreateCluster";
        let defaults = match self.namespace_arn(CALL, resolved)? {
            Some(arn) => Some(Self::defaults(CALL, arn)?),
            None => None,
        };
        let strategy = CapacityProviderStrategyItem::builder()
            .capacity_provider("FARGATE")
            .weight(1)
            .build()
            .map_err(|e| AwsError::build("ecs:CreateCluster", e))?;
        let out = aws
            .ecs
            .create_cluster()
            .cluster_name(&self.name)
            .set_capacity_providers(Some(CAPACITY_PROVIDERS.map(String::from).to_vec()))
            .default_capacity_provider_strategy(strategy)
            .settings(
                ClusterSetting::builder()
                    .name(ClusterSettingName::ContainerInsights)
                    .value(insights_value(self.container_insights))
                    .build(),
            )
            .set_service_connect_defaults(defaults)
            .set_tags(Some(ecs_tags(&self.tags)))
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:CreateCluster", e))?;
        out.cluster()
            .and_then(|c| c.cluster_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new("ecs:CreateCluster", "AWS returned no cluster ARN"))
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if let Some(arn) = self.namespace_arn("ecs:UpdateCluster", resolved)? {
            aws.ecs
                .update_cluster()
                .cluster(id)
                .service_connect_defaults(Self::defaults("ecs:UpdateCluster", arn)?)
                .send()
                .await
                .map_err(|e| AwsError::sdk("ecs:UpdateCluster", e))?;
        }
        aws.ecs
            .update_cluster_settings()
            .cluster(id)
            .settings(
                ClusterSetting::builder()
                    .name(ClusterSettingName::ContainerInsights)
                    .value(insights_value(self.container_insights))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:UpdateClusterSettings", e))?;
        let strategy = CapacityProviderStrategyItem::builder()
            .capacity_provider("FARGATE")
            .weight(1)
            .build()
            .map_err(|e| AwsError::build("ecs:PutClusterCapacityProviders", e))?;
        aws.ecs
            .put_cluster_capacity_providers()
            .cluster(id)
            .set_capacity_providers(Some(CAPACITY_PROVIDERS.map(String::from).to_vec()))
            .default_capacity_provider_strategy(strategy)
            .send()
            .await
            .map_err(|e| AwsError::sdk("ecs:PutClusterCapacityProviders", e))?;
        super::put_tags(aws, id, &self.tags, None).await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        use super::cluster_leftovers::{explain_refusal, CLUSTER_CONTAINS_SERVICES};
        match aws.ecs.delete_cluster().cluster(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = AwsError::sdk("ecs:DeleteCluster", e);
                if err.is_not_found() {
                    Ok(())
                } else if err.code.as_deref() == Some(CLUSTER_CONTAINS_SERVICES) {
                    // Services a killed apply left outside every state: name
                    // them and the command that recovers them, instead of
                    // ECS's bare refusal.
                    Err(explain_refusal(aws, id, err).await)
                } else {
                    Err(err)
                }
            }
        }
    }
}

/// The cluster `name`, as ECS describes it (tags and settings included).
async fn describe_cluster(aws: &Clients, name: &str) -> Result<Option<Cluster>, AwsError> {
    let probe = ClusterSpec {
        name: name.to_string(),
        container_insights: false,
        service_connect_namespace: None,
        tags: Tags::new(),
    };
    probe.describe(aws, name).await
}

/// The Service Connect default namespace (its ARN) of cluster `name` when
/// the cluster's `matbakh:owner` tag is `owner`; `None` for no such cluster
/// or one without a default.
pub async fn find_owned_cluster_namespace(
    aws: &Clients,
    name: &str,
    owner: &str,
) -> Result<Option<String>, AwsError> {
    Ok(describe_cluster(aws, name).await?.and_then(|c| {
        if found_tags(&c)
            .get(crate::spec::OWNER_TAG)
            .map(String::as_str)
            != Some(owner)
        {
            return None;
        }
        c.service_connect_defaults()
            .and_then(|d| d.namespace())
            .map(str::to_string)
    }))
}

/// What `terraform import` learns about a cluster: its ARN and whether
/// Container Insights is on.
pub async fn find_cluster(aws: &Clients, name: &str) -> Result<Option<(String, bool)>, AwsError> {
    Ok(describe_cluster(aws, name).await?.map(|c| {
        let insights = c.settings().iter().any(|s| {
            s.name() == Some(&ClusterSettingName::ContainerInsights) && s.value() == Some("enabled")
        });
        (c.cluster_arn().unwrap_or_default().to_string(), insights)
    }))
}

#[cfg(test)]
mod delete_calls {
    //! How many ECS calls a cluster delete makes, against a fake endpoint
    //! (issue #12: DeleteCluster first, the services listed only when ECS
    //! refuses it).
    use serde_json::json;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    const CLUSTER: &str = "arn:aws:ecs:eu-central-1:123456789012:cluster/matbakh";
    const LEFTOVER: &str = "arn:aws:ecs:eu-central-1:123456789012:service/matbakh/auth-service";

    fn spec() -> ClusterSpec {
        ClusterSpec {
            name: "matbakh".into(),
            container_insights: false,
            service_connect_namespace: None,
            tags: Tags::new(),
        }
    }

    fn ecs(refuse: bool) -> FakeEndpoint {
        FakeEndpoint::start(move |op, _| match op {
            "DeleteCluster" if refuse => (
                400,
                json!({"__type": "ClusterContainsServicesException",
                       "message": "The Cluster cannot be deleted while Services are active."}),
            ),
            "DeleteCluster" => (200, json!({"cluster": {"clusterArn": CLUSTER}})),
            "ListServices" => (200, json!({"serviceArns": [LEFTOVER]})),
            "DescribeServices" => (
                200,
                json!({"services": [{"serviceArn": LEFTOVER, "serviceName": "auth-service",
                                     "status": "ACTIVE",
                                     "tags": [{"key": crate::spec::OWNER_TAG,
                                               "value": "matbakh/auth-service"}]}],
                       "failures": []}),
            ),
            _ => (
                400,
                json!({"__type": "ClientException", "message": "not expected"}),
            ),
        })
    }

    #[tokio::test]
    async fn an_empty_cluster_is_one_delete_cluster() {
        let fake = ecs(false);
        spec()
            .delete(&fake.clients(), CLUSTER)
            .await
            .expect("deleted");
        assert_eq!(fake.calls(), ["DeleteCluster"]);
    }

    #[tokio::test]
    async fn a_refusal_names_each_leftover_and_its_import_command() {
        let fake = ecs(true);
        let err = spec()
            .delete(&fake.clients(), CLUSTER)
            .await
            .expect_err("refused");
        assert_eq!(
            fake.calls(),
            ["DeleteCluster", "ListServices", "DescribeServices"]
        );
        let text = err.to_string();
        assert!(
            text.contains("terraform import matbakh_microservice.<ADDRESS> matbakh/auth-service"),
            "{text}"
        );
    }
}
