//! A security group of the provider's own. Its id is its group id; it is
//! found by name in its VPC (names are unique per VPC).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup, Tag, TagSpecification,
    UserIdGroupPair,
};

use super::owned_groups;
use crate::aws::elbv2::refresh_shared::once_per_refresh_process;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::ec2::{IngressRule, SecurityGroupSpec, Source};

/// A group the load balancer used is "in use" until EC2 releases the load
/// balancer's network interfaces, which takes a few minutes after it is
/// deleted (terraform-provider-aws waits the same way).
const IN_USE_FOR: Duration = Duration::from_secs(600);

/// The group of id `id` (`None`: EC2 does not know it). In a refresh from
/// the process's listing of owned groups ([`owned_groups`]); one it does
/// not name, and every read outside a refresh, asked of EC2 together with
/// the other groups asked for at the same moment ([`gathered`]).
async fn describe(aws: &Clients, id: &str) -> Result<Option<SecurityGroup>, AwsError> {
    aws.remembered(format!("ec2:DescribeSecurityGroups {id}"), || async {
        if let Some(listing) = owned_groups::refresh_listing(aws).await? {
            if let Some(group) = listing.by_id(id) {
                return Ok(Some(group.clone()));
            }
        }
        gathered(aws, id.to_string()).await
    })
    .await
}

/// Groups asked for by id at one moment, by any resource of the process:
/// one DescribeSecurityGroups with a `group-id` filter of up to this many
/// ids (EC2 documents no maximum for a filter's values; 100, as the other
/// gathered describes).
const GATHERED_IDS: usize = 100;

/// The group of `id`, described with the others asked for at the same
/// moment ([`crate::aws::gatherer`]); a group that does not exist is left
/// out of the answer (`None`), not a refusal of the whole call.
async fn gathered(aws: &Clients, id: String) -> Result<Option<SecurityGroup>, AwsError> {
    let gatherer = aws
        .gatherers
        .of::<SecurityGroup>("ec2:DescribeSecurityGroups group-id", GATHERED_IDS);
    let aws = aws.clone();
    gatherer
        .ask(id, move |ids| async move {
            let by_id = Filter::builder()
                .name("group-id")
                .set_values(Some(ids))
                .build();
            Ok(owned_groups::described(&aws, vec![by_id])
                .await?
                .into_iter()
                .filter_map(|g| Some((g.group_id()?.to_string(), g)))
                .collect())
        })
        .await
}

/// The address ranges (IPv4, IPv6 CIDRs and prefix list ids) permission
/// `p` admits to TCP port `port`: all traffic (`-1`) or TCP with `port`
/// in its range. Other groups as sources are not addresses.
fn addresses_admitted(p: &IpPermission, port: u16) -> Vec<String> {
    let port = i32::from(port);
    let covers = match p.ip_protocol() {
        Some("-1") => true,
        Some("tcp") | Some("6") => {
            p.from_port().unwrap_or(-1) <= port && port <= p.to_port().unwrap_or(65535)
                || p.from_port() == Some(-1)
        }
        _ => false,
    };
    if !covers {
        return Vec::new();
    }
    p.ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip().map(str::to_string))
        .chain(
            p.ipv6_ranges()
                .iter()
                .filter_map(|r| r.cidr_ipv6().map(str::to_string)),
        )
        .chain(
            p.prefix_list_ids()
                .iter()
                .filter_map(|l| l.prefix_list_id().map(str::to_string)),
        )
        .collect()
}

/// Groups of `group_ids` (someone else's: read, never edited) that admit
/// TCP port `port` from addresses, as `(group id, address range)`. The
/// microservices of a platform usually share these groups: a plan step
/// (`in_plan`) in a process that refreshed reads each once for the whole
/// process ([`once_per_refresh_process`]: nothing was written since), any
/// other asks EC2.
pub async fn open_to_addresses(
    aws: &Clients,
    group_ids: &[String],
    port: u16,
    in_plan: bool,
) -> Result<Vec<(String, String)>, AwsError> {
    let groups = futures::future::try_join_all(group_ids.iter().map(|id| {
        once_per_refresh_process(
            aws,
            in_plan,
            "EC2 security groups of others a plan reads",
            id,
            || describe(aws, id),
        )
    }))
    .await?;
    let mut found = Vec::new();
    for (id, group) in group_ids.iter().zip(groups) {
        if let Some(group) = group {
            for p in group.ip_permissions() {
                found.extend(
                    addresses_admitted(p, port)
                        .into_iter()
                        .map(|a| (id.clone(), a)),
                );
            }
        }
    }
    Ok(found)
}

fn tags_of(group: &SecurityGroup) -> BTreeMap<String, String> {
    group
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

/// The group's TCP ingress as rules (one per port and source), sorted.
/// Anything else it admits (another protocol, a port range) is kept as a
/// rule on port 0 with a description, so a comparison sees it.
fn rules_of(group: &SecurityGroup) -> Vec<IngressRule> {
    let mut rules = Vec::new();
    for p in group.ip_permissions() {
        let single_tcp = p.ip_protocol() == Some("tcp") && p.from_port() == p.to_port();
        let port = if single_tcp {
            p.from_port()
                .and_then(|x| u16::try_from(x).ok())
                .unwrap_or(0)
        } else {
            0
        };
        let sources = p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(|c| Source::Cidr(c.to_string())))
            .chain(
                p.ipv6_ranges()
                    .iter()
                    .filter_map(|r| r.cidr_ipv6().map(|c| Source::Cidr(c.to_string()))),
            )
            .chain(
                p.user_id_group_pairs()
                    .iter()
                    .filter_map(|g| g.group_id().map(|g| Source::GroupId(g.to_string()))),
            );
        rules.extend(sources.map(|source| IngressRule { port, source }));
    }
    rules.sort();
    rules.dedup();
    rules
}

/// The permission that opens `rule` (its group reference resolved).
fn permission(rule: &IngressRule) -> IpPermission {
    let p = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(i32::from(rule.port))
        .to_port(i32::from(rule.port));
    match &rule.source {
        Source::Cidr(c) if c.contains(':') => {
            p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).build())
        }
        Source::Cidr(c) => p.ip_ranges(IpRange::builder().cidr_ip(c).build()),
        Source::GroupId(g) => p.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).build()),
        Source::Group(r) => {
            p.user_id_group_pairs(UserIdGroupPair::builder().group_id(&r.0).build())
        }
    }
    .build()
}

impl SecurityGroupSpec {
    /// The wanted rules with group references resolved to ids, sorted.
    fn wanted(&self, resolved: &Resolved) -> Result<Vec<IngressRule>, AwsError> {
        let mut rules = self
            .ingress
            .iter()
            .map(|r| {
                let source = match &r.source {
                    Source::Group(g) => {
                        Source::GroupId(resolved.get(&g.0).cloned().ok_or_else(|| {
                            AwsError::new("ec2", format!("component {} has no id yet", g.0))
                        })?)
                    }
                    other => other.clone(),
                };
                Ok(IngressRule {
                    port: r.port,
                    source,
                })
            })
            .collect::<Result<Vec<_>, AwsError>>()?;
        rules.sort();
        rules.dedup();
        Ok(rules)
    }

    async fn vpc(&self, aws: &Clients) -> Result<String, AwsError> {
        super::subnet::vpc_of(aws, &self.subnet_id).await
    }

    /// The group of this name in the subnet's VPC: in a refresh from the
    /// process's listing of owned groups when it names it, else asked.
    async fn by_name(&self, aws: &Clients) -> Result<Option<SecurityGroup>, AwsError> {
        let vpc = self.vpc(aws).await?;
        if let Some(listing) = owned_groups::refresh_listing(aws).await? {
            if let Some(group) = listing.named(&self.name, &vpc) {
                return Ok(Some(group.clone()));
            }
        }
        let found = owned_groups::described(
            aws,
            vec![
                Filter::builder()
                    .name("group-name")
                    .values(&self.name)
                    .build(),
                Filter::builder().name("vpc-id").values(vpc).build(),
            ],
        )
        .await?;
        Ok(found.into_iter().next())
    }

    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<Self>>, AwsError> {
        let Some(group) = self.by_name(aws).await? else {
            return Ok(None);
        };
        let id = group.group_id().unwrap_or("").to_string();
        let spec = SecurityGroupSpec {
            name: self.name.clone(),
            description: group.description().unwrap_or("").to_string(),
            subnet_id: self.subnet_id.clone(),
            ingress: rules_of(&group),
            tags: tags_of(&group),
        };
        Ok(Some(Found::new(spec, id)))
    }

    async fn put_tags(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        aws.ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(self.sdk_tags()))
            .send()
            .await
            .map_err(|e| AwsError::sdk("ec2:CreateTags", e))?;
        Ok(())
    }

    fn sdk_tags(&self) -> Vec<Tag> {
        self.tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    /// Make the group's ingress exactly the wanted rules.
    async fn converge(
        &self,
        aws: &Clients,
        id: &str,
        found: &[IngressRule],
        resolved: &Resolved,
    ) -> Result<(), AwsError> {
        let wanted = self.wanted(resolved)?;
        let extra: Vec<IpPermission> = found
            .iter()
            .filter(|r| !wanted.contains(r))
            .map(permission)
            .collect();
        let missing: Vec<IpPermission> = wanted
            .iter()
            .filter(|r| !found.contains(r))
            .map(permission)
            .collect();
        if !extra.is_empty() {
            aws.ec2
                .revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(extra))
                .send()
                .await
                .map_err(|e| AwsError::sdk("ec2:RevokeSecurityGroupIngress", e))?;
        }
        if !missing.is_empty() {
            aws.ec2
                .authorize_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(Some(missing))
                .send()
                .await
                .map_err(|e| AwsError::sdk("ec2:AuthorizeSecurityGroupIngress", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Adapter for SecurityGroupSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(group) = describe(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        let (found, wanted) = (rules_of(&group), self.wanted(resolved)?);
        for r in found.iter().filter(|r| !wanted.contains(r)) {
            diffs.push(format!(
                "admits {:?} on port {} that it should not",
                r.source, r.port
            ));
        }
        for r in wanted.iter().filter(|r| !found.contains(r)) {
            diffs.push(format!("does not admit {:?} on port {}", r.source, r.port));
        }
        diffs.extend(tags::differences(&self.tags, &tags_of(&group)));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "ec2:CreateSecurityGroup";
        if let Some(found) = self.by_name(aws).await? {
            tags::claim(
                CALL,
                "security group",
                &self.name,
                &self.tags,
                &tags_of(&found),
            )?;
            let id = found.group_id().unwrap_or("").to_string();
            return self.update(aws, &id, resolved).await;
        }
        let vpc = self.vpc(aws).await?;
        let out = aws
            .ec2
            .create_security_group()
            .group_name(&self.name)
            .description(&self.description)
            .vpc_id(vpc)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::SecurityGroup)
                    .set_tags(Some(self.sdk_tags()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        let id = out
            .group_id()
            .ok_or_else(|| AwsError::new(CALL, "the answer named no group"))?
            .to_string();
        self.converge(aws, &id, &[], resolved).await?;
        Ok(id)
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        let Some(group) = describe(aws, id).await? else {
            return self.create(aws, resolved).await;
        };
        self.converge(aws, id, &rules_of(&group), resolved).await?;
        self.put_tags(aws, id).await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        const CALL: &str = "ec2:DeleteSecurityGroup";
        let started = tokio::time::Instant::now();
        loop {
            let sent = aws
                .ec2
                .delete_security_group()
                .group_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk(CALL, e));
            match sent {
                Ok(()) => return Ok(()),
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e)
                    if e.code.as_deref() == Some("DependencyViolation")
                        && started.elapsed() < IN_USE_FOR =>
                {
                    tracing::info!(group = id, "security group still in use; waiting");
                    crate::engine::pause(Duration::from_secs(5))
                        .await
                        .map_err(|_| e)?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod exposure_tests {
    use super::*;
    use aws_sdk_ec2::types::PrefixListId;

    fn tcp(from: i32, to: i32) -> aws_sdk_ec2::types::builders::IpPermissionBuilder {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(from)
            .to_port(to)
    }

    #[test]
    fn addresses_that_reach_the_port_are_found_groups_are_not() {
        let open = tcp(8000, 9000)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
            .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-1").build())
            .build();
        assert_eq!(
            addresses_admitted(&open, 8080),
            ["0.0.0.0/0", "::/0", "pl-1"]
        );
        assert!(addresses_admitted(&open, 9443).is_empty());
        let all = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
            .build();
        assert_eq!(addresses_admitted(&all, 8080), ["10.0.0.0/8"]);
        let from_a_group = tcp(8080, 8080)
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-1").build())
            .build();
        assert!(addresses_admitted(&from_a_group, 8080).is_empty());
        let udp = IpPermission::builder()
            .ip_protocol("udp")
            .from_port(8080)
            .to_port(8080)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build();
        assert!(addresses_admitted(&udp, 8080).is_empty());
    }
}

#[cfg(test)]
mod shared_reads_tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;
    use crate::spec::OWNER_TAG;

    const SERVICES: usize = 30;
    /// The fake's page, whatever `MaxResults` asks: paging is exercised.
    const PAGE: usize = 10;

    /// A group as EC2 has it: `(id, name, owner tag)`.
    type Group = (String, String, Option<String>);

    /// The groups of EC2 (all in `vpc-1`): each service's own group
    /// `p-s{i}-alb` tagged for it, `p-untagged-alb` whose owner tag was
    /// removed, and the user's `sg-team`; `p-gone-alb` (`sg-gone`) was
    /// deleted.
    fn groups() -> Vec<Group> {
        (0..SERVICES)
            .map(|i| {
                (
                    format!("sg-s{i:02}"),
                    format!("p-s{i}-alb"),
                    Some(format!("p/s{i}")),
                )
            })
            .chain([
                ("sg-untagged".into(), "p-untagged-alb".into(), None),
                ("sg-team".into(), "team".into(), None),
            ])
            .collect()
    }

    fn values(request: &Value, filter: &str) -> Option<Vec<String>> {
        let form = request.as_object()?;
        let n = form
            .iter()
            .find(|(k, v)| k.starts_with("Filter.") && k.ends_with(".Name") && *v == filter)?
            .0
            .trim_end_matches(".Name")
            .to_string();
        Some(
            form.iter()
                .filter(|(k, _)| k.starts_with(&format!("{n}.Value.")))
                .filter_map(|(_, v)| v.as_str().map(str::to_string))
                .collect(),
        )
    }

    fn item((id, name, owner): &Group) -> String {
        let tags = owner
            .as_ref()
            .map(|o| format!("<item><key>{OWNER_TAG}</key><value>{o}</value></item>"))
            .unwrap_or_default();
        let rule = if name == "team" {
            "<item><ipProtocol>tcp</ipProtocol><fromPort>8000</fromPort><toPort>9000</toPort>\
             <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item>"
        } else {
            "<item><ipProtocol>tcp</ipProtocol><fromPort>8080</fromPort><toPort>8080</toPort>\
             <groups><item><groupId>sg-lb</groupId></item></groups></item>"
        };
        format!(
            "<item><groupId>{id}</groupId><groupName>{name}</groupName><vpcId>vpc-1</vpcId>\
             <groupDescription>d</groupDescription><ipPermissions>{rule}</ipPermissions>\
             <tagSet>{tags}</tagSet></item>"
        )
    }

    /// EC2 answering DescribeSubnets (`subnet-1` in `vpc-1`) and
    /// DescribeSecurityGroups by the filters the provider sends, `PAGE`
    /// groups a page when `MaxResults` is given.
    fn ec2() -> FakeEndpoint {
        FakeEndpoint::start(|op, request| {
            let xml = |body: String| (200, Value::String(body));
            match op {
                "DescribeSubnets" => xml(
                    "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-1</subnetId>\
                     <vpcId>vpc-1</vpcId></item></subnetSet></DescribeSubnetsResponse>"
                        .into(),
                ),
                "DescribeSecurityGroups" => {
                    assert!(request.get("GroupId.1").is_none(), "{request}");
                    let matching: Vec<Group> = groups()
                        .into_iter()
                        .filter(|(id, name, owner)| {
                            values(request, "tag-key").is_none_or(|_| owner.is_some())
                                && values(request, "group-id").is_none_or(|v| v.contains(id))
                                && values(request, "group-name").is_none_or(|v| v.contains(name))
                                && values(request, "vpc-id")
                                    .is_none_or(|v| v.contains(&"vpc-1".to_string()))
                        })
                        .collect();
                    let start: usize = request["NextToken"]
                        .as_str()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    let end = if request.get("MaxResults").is_some() {
                        (start + PAGE).min(matching.len())
                    } else {
                        matching.len()
                    };
                    let next = if end < matching.len() {
                        format!("<nextToken>{end}</nextToken>")
                    } else {
                        String::new()
                    };
                    xml(format!(
                        "<DescribeSecurityGroupsResponse><securityGroupInfo>{}</securityGroupInfo>{next}\
                         </DescribeSecurityGroupsResponse>",
                        matching[start..end].iter().map(item).collect::<String>()
                    ))
                }
                _ => (400, Value::String(format!("<Response><Errors><Error><Code>Unexpected</Code><Message>{op}</Message></Error></Errors></Response>"))),
            }
        })
    }

    fn own_group(name: &str, owner: Option<&str>) -> SecurityGroupSpec {
        SecurityGroupSpec {
            name: name.into(),
            description: "d".into(),
            subnet_id: "subnet-1".into(),
            ingress: vec![IngressRule {
                port: 8080,
                source: Source::GroupId("sg-lb".into()),
            }],
            tags: owner
                .map(|o| BTreeMap::from([(OWNER_TAG.to_string(), o.to_string())]))
                .unwrap_or_default(),
        }
    }

    fn count(calls: &[String], op: &str) -> usize {
        calls.iter().filter(|c| *c == op).count()
    }

    /// Refreshes one after another (no two meet in a gatherer's window):
    /// each recovers its group by name and observes it by id.
    #[tokio::test]
    async fn refreshes_take_their_own_groups_from_one_listing_and_ask_only_for_the_unlisted() {
        let fake = ec2();
        let aws = fake.clients();
        let resolved = Resolved::default();
        for i in 0..SERVICES {
            let refresh = aws.remembering_reads();
            let spec = own_group(&format!("p-s{i}-alb"), Some(&format!("p/s{i}")));
            let found = spec.read_back(&refresh).await.unwrap().unwrap();
            assert_eq!(found.id, format!("sg-s{i:02}"));
            assert_eq!(found.spec.ingress, spec.ingress);
            let seen = spec.observe(&refresh, &found.id, &resolved).await.unwrap();
            assert_eq!(seen, Observation::in_sync());
        }
        // 30 owned groups at 10 a page: 3 pages, once (not 60 calls); one
        // subnet lookup (not 30).
        assert_eq!(count(&fake.calls(), "DescribeSecurityGroups"), 3);
        assert_eq!(count(&fake.calls(), "DescribeSubnets"), 1);

        // The group whose owner tag was removed: found by name and by id,
        // each asked on its own; the missing tag is drift.
        let refresh = aws.remembering_reads();
        let untagged = own_group("p-untagged-alb", Some("p/untagged"));
        let found = untagged.read_back(&refresh).await.unwrap().unwrap();
        assert_eq!(found.id, "sg-untagged");
        let seen = untagged
            .observe(&refresh, "sg-untagged", &resolved)
            .await
            .unwrap();
        assert_ne!(seen, Observation::in_sync());
        // The deleted group: not found by name, missing by id.
        let gone = own_group("p-gone-alb", Some("p/gone"));
        assert!(gone.read_back(&refresh).await.unwrap().is_none());
        assert_eq!(
            gone.observe(&refresh, "sg-gone", &resolved).await.unwrap(),
            Observation::Missing
        );
        let calls = fake.calls();
        assert_eq!(count(&calls, "DescribeSecurityGroups"), 3 + 4, "{calls:?}");
        assert_eq!(count(&calls, "DescribeSubnets"), 1, "{calls:?}");
    }

    #[tokio::test]
    async fn an_apply_asks_for_its_group_by_name_and_by_id() {
        let fake = ec2();
        let aws = fake.clients();
        let spec = own_group("p-s1-alb", Some("p/s1"));
        let found = spec.read_back(&aws).await.unwrap().unwrap();
        assert!(describe(&aws, &found.id).await.unwrap().is_some());
        // By name, then by a `group-id` filter: no listing outside a refresh.
        assert_eq!(
            fake.calls(),
            [
                "DescribeSubnets",
                "DescribeSecurityGroups",
                "DescribeSecurityGroups"
            ]
        );
    }

    #[tokio::test]
    async fn a_plan_reads_the_shared_user_groups_once_per_process_that_refreshed() {
        let fake = ec2();
        let aws = fake.clients();
        let team = vec!["sg-team".to_string(), "sg-gone".to_string()];
        // A plan step before any refresh (a first apply's plan) asks EC2.
        let open = open_to_addresses(&aws, &team, 8080, true).await.unwrap();
        assert_eq!(open, [("sg-team".to_string(), "0.0.0.0/0".to_string())]);
        let asked = count(&fake.calls(), "DescribeSecurityGroups");
        assert!((1..=2).contains(&asked), "{:?}", fake.calls());
        // A refresh ran in this process (its clients remember reads): from
        // then on every plan step takes the groups it read.
        let refreshed = open_to_addresses(&aws.remembering_reads(), &team, 8080, false)
            .await
            .unwrap();
        assert_eq!(refreshed, open);
        let after_refresh = count(&fake.calls(), "DescribeSecurityGroups");
        for _ in 0..SERVICES {
            assert_eq!(
                open_to_addresses(&aws, &team, 8080, true).await.unwrap(),
                open
            );
        }
        assert_eq!(
            count(&fake.calls(), "DescribeSecurityGroups"),
            after_refresh
        );
        // An apply's step asks again.
        open_to_addresses(&aws, &team, 8080, false).await.unwrap();
        assert!(count(&fake.calls(), "DescribeSecurityGroups") > after_refresh);
    }
}
