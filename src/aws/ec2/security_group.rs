//! A security group of the provider's own. Its id is its group id; it is
//! found by name in its VPC (names are unique per VPC).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup, Tag, TagSpecification,
    UserIdGroupPair,
};

use crate::aws::compare::absent_if_not_found;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::ec2::{IngressRule, SecurityGroupSpec, Source};

/// A group the load balancer used is "in use" until EC2 releases the load
/// balancer's network interfaces, which takes a few minutes after it is
/// deleted (terraform-provider-aws waits the same way).
const IN_USE_FOR: Duration = Duration::from_secs(600);

async fn describe(aws: &Clients, id: &str) -> Result<Option<SecurityGroup>, AwsError> {
    aws.remembered(format!("ec2:DescribeSecurityGroups {id}"), || async {
        let out = absent_if_not_found(
            aws.ec2
                .describe_security_groups()
                .group_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::sdk("ec2:DescribeSecurityGroups", e)),
        )?;
        Ok(out.and_then(|o| o.security_groups().first().cloned()))
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
/// TCP port `port` from addresses, as `(group id, address range)`.
pub async fn open_to_addresses(
    aws: &Clients,
    group_ids: &[String],
    port: u16,
) -> Result<Vec<(String, String)>, AwsError> {
    let mut found = Vec::new();
    for id in group_ids {
        if let Some(group) = describe(aws, id).await? {
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
        const CALL: &str = "ec2:DescribeSubnets";
        let out = aws
            .ec2
            .describe_subnets()
            .subnet_ids(&self.subnet_id)
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        out.subnets()
            .first()
            .and_then(|s| s.vpc_id())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(CALL, format!("subnet {} not found", self.subnet_id)))
    }

    /// The group of this name in the subnet's VPC.
    async fn by_name(&self, aws: &Clients) -> Result<Option<SecurityGroup>, AwsError> {
        let vpc = self.vpc(aws).await?;
        let out = aws
            .ec2
            .describe_security_groups()
            .filters(
                Filter::builder()
                    .name("group-name")
                    .values(&self.name)
                    .build(),
            )
            .filters(Filter::builder().name("vpc-id").values(vpc).build())
            .send()
            .await
            .map_err(|e| AwsError::sdk("ec2:DescribeSecurityGroups", e))?;
        Ok(out.security_groups().first().cloned())
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
