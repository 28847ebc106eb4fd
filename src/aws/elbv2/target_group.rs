//! A microservice's target group. Its id is its ARN; it is found by its
//! name (unique per account and region).

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    ProtocolEnum, TargetGroup, TargetGroupAttribute, TargetTypeEnum,
};

use super::{put_tags, sdk_tags, tags_of};
use crate::aws::compare::{absent_if_not_found, gone_is_ok};
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::elbv2::TargetGroupSpec;

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

/// DescribeTargetGroups by `TargetGroupArns` or `Names`: the API reference
/// gives no maximum for either list (only `PageSize`, 400 results); 20, as
/// DescribeTags and DescribeLoadBalancers' `Names` take, keeps every batch
/// in one page.
const DESCRIBE_TARGET_GROUPS_MAX: usize = 20;

type Described = Result<Option<TargetGroup>, AwsError>;

/// The target group with this ARN, or with this name (`by_name`), asked in
/// one DescribeTargetGroups with the groups other resources ask for at the
/// same moment (every microservice behind the load balancer has two).
/// AWS refuses the whole call when one of them is gone
/// (`TargetGroupNotFound`): then each is asked alone, so every asker gets
/// its own answer.
async fn describe(
    aws: &Clients,
    key: &str,
    by_name: bool,
) -> Result<Option<TargetGroup>, AwsError> {
    aws.remembered(format!("elbv2:DescribeTargetGroups {key}"), || async {
        let gatherer = aws.gatherers.of::<Described>(
            if by_name {
                "elasticloadbalancing:DescribeTargetGroups Names"
            } else {
                "elasticloadbalancing:DescribeTargetGroups TargetGroupArns"
            },
            DESCRIBE_TARGET_GROUPS_MAX,
        );
        let client = aws.elbv2.clone();
        let fetch = move |keys| async move { Ok(describe_each(&client, keys, by_name).await) };
        // A refresh (a process that only reads) fills the call's free places
        // with the groups the listed rules forward to: Terraform's ten
        // refreshes at a time meet in the window only by twos.
        let answer = if by_name && aws.memo.is_some() {
            let candidates = forwarded(aws);
            gatherer
                .ask_ahead(
                    key.to_string(),
                    candidates,
                    DESCRIBE_TARGET_GROUPS_MAX,
                    fetch,
                )
                .await?
        } else {
            gatherer.ask(key.to_string(), fetch).await?
        };
        answer.unwrap_or(Ok(None))
    })
    .await
}

/// The names of the target groups the rules a refresh of this process
/// listed forward to ([`note_forwarded`]).
type Forwarded = std::sync::Mutex<Vec<String>>;

const FORWARDED: &str = "elbv2: target groups the listed rules forward to";

/// Note the target groups of `arns` (other ARNs are passed over) as ones
/// a refresh of this process will read: a listener's rules, listed once for
/// the process, forward to every microservice's two groups. A rule cannot
/// forward to a group that is gone (ELB refuses to delete a group in use),
/// so these rarely make AWS refuse a batch.
pub fn note_forwarded<'a>(aws: &Clients, arns: impl IntoIterator<Item = &'a str>) {
    let forwarded = aws.gatherers.shared::<Forwarded>(FORWARDED);
    let mut names = forwarded.lock().unwrap_or_else(|e| e.into_inner());
    for name in arns.into_iter().filter_map(name_in_arn) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
}

fn forwarded(aws: &Clients) -> Vec<String> {
    aws.gatherers
        .shared::<Forwarded>(FORWARDED)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// The name in a target group's ARN
/// (`arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`).
fn name_in_arn(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let mut parts = resource.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("targetgroup"), Some(name), Some(_)) if !name.is_empty() => Some(name.to_string()),
        _ => None,
    }
}

/// Each of `keys`' target group: one DescribeTargetGroups, or (when AWS
/// refuses it because one of them is gone) one per key.
async fn describe_each(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    keys: Vec<String>,
    by_name: bool,
) -> std::collections::HashMap<String, Described> {
    match describe_target_groups(client, keys.clone(), by_name).await {
        Ok(mut found) => keys
            .into_iter()
            .map(|k| {
                let group = found.remove(&k);
                (k, Ok(group))
            })
            .collect(),
        Err(e) if e.is_not_found() && keys.len() > 1 => {
            let alone = keys.iter().map(|key| async move {
                let found = absent_if_not_found(
                    describe_target_groups(client, vec![key.clone()], by_name).await,
                )
                .map(|found| found.and_then(|mut f| f.remove(key)));
                (key.clone(), found)
            });
            futures::future::join_all(alone).await.into_iter().collect()
        }
        Err(e) if e.is_not_found() => keys.into_iter().map(|k| (k, Ok(None))).collect(),
        Err(e) => keys.into_iter().map(|k| (k, Err(e.clone()))).collect(),
    }
}

/// The target groups of `keys` (ARNs, or names when `by_name`), by key.
async fn describe_target_groups(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    keys: Vec<String>,
    by_name: bool,
) -> Result<std::collections::HashMap<String, TargetGroup>, AwsError> {
    let call = client.describe_target_groups();
    let call = if by_name {
        call.set_names(Some(keys))
    } else {
        call.set_target_group_arns(Some(keys))
    };
    let out = call
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeTargetGroups", e))?;
    Ok(out
        .target_groups()
        .iter()
        .filter_map(|tg| {
            let key = if by_name {
                tg.target_group_name()
            } else {
                tg.target_group_arn()
            };
            Some((key?.to_string(), tg.clone()))
        })
        .collect())
}

/// A refresh asks for it twice (recovery and observation): remembered.
async fn deregistration_delay(aws: &Clients, arn: &str) -> Result<Option<u32>, AwsError> {
    aws.remembered(
        format!("elbv2:DescribeTargetGroupAttributes {arn}"),
        || async {
            let out = aws
                .elbv2
                .describe_target_group_attributes()
                .target_group_arn(arn)
                .send()
                .await
                .map_err(|e| {
                    AwsError::sdk("elasticloadbalancing:DescribeTargetGroupAttributes", e)
                })?;
            Ok(out
                .attributes()
                .iter()
                .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
                .and_then(|a| a.value()?.parse().ok()))
        },
    )
    .await
}

impl TargetGroupSpec {
    async fn vpc(&self, aws: &Clients) -> Result<String, AwsError> {
        crate::aws::ec2::subnet::vpc_of(aws, &self.subnet_id).await
    }

    /// The target group of this name, as a spec.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<Self>>, AwsError> {
        let Some(tg) = describe(aws, &self.name, true).await? else {
            return Ok(None);
        };
        let arn = tg.target_group_arn().unwrap_or("").to_string();
        let (delay, found_tags) =
            futures::try_join!(deregistration_delay(aws, &arn), tags_of(aws, &arn))?;
        let spec = TargetGroupSpec {
            name: self.name.clone(),
            port: tg.port().unwrap_or(0) as u16,
            subnet_id: self.subnet_id.clone(),
            health_check_path: tg.health_check_path().unwrap_or("/").to_string(),
            deregistration_delay_seconds: delay.unwrap_or(300),
            tags: found_tags,
        };
        Ok(Some(Found::new(spec, arn)))
    }

    async fn set_attributes(&self, aws: &Clients, arn: &str) -> Result<(), AwsError> {
        aws.elbv2
            .modify_target_group_attributes()
            .target_group_arn(arn)
            .attributes(
                TargetGroupAttribute::builder()
                    .key(DEREGISTRATION_DELAY)
                    .value(self.deregistration_delay_seconds.to_string())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:ModifyTargetGroupAttributes", e))?;
        Ok(())
    }
}

#[async_trait]
impl Adapter for TargetGroupSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        // By its name, as the refresh's recovery asks for it (one request
        // for both); names are unique per account and region, so a group of
        // the name with another ARN means the recorded one is gone.
        let found = if self.name.is_empty() {
            describe(aws, id, false).await?
        } else {
            describe(aws, &self.name, true).await?
        };
        let Some(tg) = found.filter(|tg| tg.target_group_arn() == Some(id)) else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if tg.port() != Some(i32::from(self.port)) {
            // AWS cannot change a target group's port: a new group.
            return Ok(Observation::Missing);
        }
        if tg.health_check_path() != Some(self.health_check_path.as_str()) {
            diffs.push(format!(
                "health check path is {:?}, want {:?}",
                tg.health_check_path(),
                self.health_check_path
            ));
        }
        let (delay, found_tags) =
            futures::try_join!(deregistration_delay(aws, id), tags_of(aws, id))?;
        if delay != Some(self.deregistration_delay_seconds) {
            diffs.push(format!(
                "deregistration delay is {delay:?}s, want {}s",
                self.deregistration_delay_seconds
            ));
        }
        diffs.extend(tags::differences(&self.tags, &found_tags));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "elasticloadbalancing:CreateTargetGroup";
        // Asked alone, not gathered: the names an apply creates are mostly
        // not there yet, and a batch AWS refuses for one missing name costs
        // a call per name on top.
        let leftover = absent_if_not_found(
            describe_target_groups(&aws.elbv2, vec![self.name.clone()], true).await,
        )?
        .and_then(|mut found| found.remove(&self.name));
        if let Some(found) = leftover {
            let arn = found.target_group_arn().unwrap_or("").to_string();
            let found_tags = tags_of(aws, &arn).await?;
            tags::claim(CALL, "target group", &self.name, &self.tags, &found_tags)?;
            if found.port() == Some(i32::from(self.port)) {
                return self.update(aws, &arn, resolved).await;
            }
            // Our own leftover on another port: AWS cannot change a port.
            self.delete(aws, &arn).await?;
        }
        let vpc = self.vpc(aws).await?;
        let out = aws
            .elbv2
            .create_target_group()
            .name(&self.name)
            .protocol(ProtocolEnum::Http)
            .port(i32::from(self.port))
            .vpc_id(vpc)
            .target_type(TargetTypeEnum::Ip)
            .health_check_path(&self.health_check_path)
            .set_tags(Some(sdk_tags(&self.tags)))
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(CALL, "the answer named no target group"))?;
        self.set_attributes(aws, &arn).await?;
        Ok(arn)
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        match describe(aws, id, false).await? {
            Some(tg) if tg.port() == Some(i32::from(self.port)) => {}
            Some(_) => {
                // A new port is a new group; the old one goes when nothing
                // uses it any more (the engine deletes the old id).
                return self.create(aws, resolved).await;
            }
            None => return self.create(aws, resolved).await,
        }
        aws.elbv2
            .modify_target_group()
            .target_group_arn(id)
            .health_check_path(&self.health_check_path)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:ModifyTargetGroup", e))?;
        self.set_attributes(aws, id).await?;
        put_tags(aws, id, &self.tags).await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.elbv2
                .delete_target_group()
                .target_group_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("elasticloadbalancing:DeleteTargetGroup", e)),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::aws::fake_endpoint::{query_answer, FakeEndpoint};

    /// ELB with no target group yet (every name asked for is refused, as
    /// AWS refuses a call naming one missing group), and EC2's subnet.
    fn empty_account() -> FakeEndpoint {
        FakeEndpoint::start(|op, request| {
            let xml = |inner: String| query_answer(op, inner);
            match op {
                "DescribeTargetGroups" => (
                    400,
                    Value::String(
                        "<ErrorResponse><Error><Type>Sender</Type><Code>TargetGroupNotFound</Code>\
                         <Message>One or more target groups not found</Message></Error></ErrorResponse>"
                            .into(),
                    ),
                ),
                "DescribeSubnets" => (
                    200,
                    Value::String(
                        "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-1</subnetId>\
                         <vpcId>vpc-1</vpcId></item></subnetSet></DescribeSubnetsResponse>"
                            .into(),
                    ),
                ),
                "CreateTargetGroup" => xml(format!(
                    "<TargetGroups><member><TargetGroupArn>arn:tg/{}</TargetGroupArn></member></TargetGroups>",
                    request["Name"].as_str().unwrap_or_default()
                )),
                "ModifyTargetGroupAttributes" => xml(String::new()),
                _ => (400, Value::String("<ErrorResponse><Error><Code>Unexpected</Code></Error></ErrorResponse>".into())),
            }
        })
    }

    fn spec(name: &str) -> TargetGroupSpec {
        TargetGroupSpec {
            name: name.into(),
            port: 8080,
            subnet_id: "subnet-1".into(),
            health_check_path: "/health".into(),
            deregistration_delay_seconds: 30,
            tags: Default::default(),
        }
    }

    #[tokio::test]
    async fn creates_look_for_leftovers_one_name_a_call_not_in_a_refused_batch() {
        let fake = empty_account();
        let aws = fake.clients();
        let specs: Vec<TargetGroupSpec> = (0..3).map(|i| spec(&format!("g{i}"))).collect();
        let resolved = Resolved::default();
        let created =
            futures::future::join_all(specs.iter().map(|s| s.create(&aws, &resolved))).await;
        for (i, arn) in created.into_iter().enumerate() {
            assert_eq!(arn.unwrap(), format!("arn:tg/g{i}"));
        }
        let calls = fake.calls();
        // One lookup per group; a gathered batch of the three would be
        // refused and asked again name by name: four.
        assert_eq!(
            calls
                .iter()
                .filter(|c| *c == "DescribeTargetGroups")
                .count(),
            3,
            "{calls:?}"
        );
    }
}
