//! The platform's load balancer as its microservices see it: found by the
//! platform's name and owner tag, with the listeners their rules go on.

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, Listener, ProtocolEnum, Rule};

use super::refresh_shared::once_per_refresh_process;
use super::tags_of;
use crate::aws::compare::absent_if_not_found;
use crate::aws::{AwsError, Clients};
use crate::spec::OWNER_TAG;

/// What a microservice's rules and security group refer to.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundIngress {
    /// HTTPS on 443, else (internal, no certificate) HTTP on 80.
    pub listener_arn: String,
    pub https: bool,
    /// The listener on neither 80 nor 443: the test listener.
    pub test_listener_arn: String,
    pub security_group_id: String,
    pub dns_name: String,
}

fn redirects(l: &Listener) -> bool {
    l.default_actions()
        .iter()
        .any(|a| a.r#type() == Some(&ActionTypeEnum::Redirect))
}

/// The load balancer named `platform` whose owner tag names it, and its
/// listeners; `None` when there is none (the platform has no `ingress`) or
/// a listener is missing. Looked up once for every refresh of a process
/// and the plan steps after them (`in_plan`, see
/// [`super::refresh_shared`]), else asked now.
pub async fn platform_ingress(
    aws: &Clients,
    platform: &str,
    in_plan: bool,
) -> Result<Option<FoundIngress>, AwsError> {
    once_per_refresh_process(
        aws,
        in_plan,
        "elbv2: the platform's ingress",
        platform,
        || look_up_platform_ingress(aws, platform),
    )
    .await
}

async fn look_up_platform_ingress(
    aws: &Clients,
    platform: &str,
) -> Result<Option<FoundIngress>, AwsError> {
    let found = absent_if_not_found(
        aws.elbv2
            .describe_load_balancers()
            .names(platform)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeLoadBalancers", e)),
    )?;
    let Some(lb) = found.and_then(|o| o.load_balancers().first().cloned()) else {
        return Ok(None);
    };
    let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
    if tags_of(aws, &arn).await?.get(OWNER_TAG).map(String::as_str) != Some(platform) {
        return Ok(None);
    }
    let listeners = aws
        .elbv2
        .describe_listeners()
        .load_balancer_arn(&arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeListeners", e))?;
    let on = |port: i32| {
        listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(port) && !redirects(l))
    };
    let production = on(443).or_else(|| on(80));
    let test = listeners
        .listeners()
        .iter()
        .find(|l| !matches!(l.port(), Some(80) | Some(443)));
    let (Some(production), Some(test)) = (production, test) else {
        return Ok(None);
    };
    Ok(Some(FoundIngress {
        listener_arn: production.listener_arn().unwrap_or_default().to_string(),
        https: production.protocol() == Some(&ProtocolEnum::Https),
        test_listener_arn: test.listener_arn().unwrap_or_default().to_string(),
        security_group_id: lb.security_groups().first().cloned().unwrap_or_default(),
        dns_name: lb.dns_name().unwrap_or_default().to_string(),
    }))
}

/// A rule on a listener: its priority, path and host values and owner tag.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundRule {
    pub priority: u32,
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    /// `matbakh:owner`, empty when it has none.
    pub owner: String,
}

/// DescribeRules' largest page (`PageSize`, ELBv2 API reference): a
/// listener holds 100 rules by default, so one page.
const DESCRIBE_RULES_PAGE: i32 = 400;

/// Every rule on the listener `listener_arn` as AWS describes it, its
/// default rule included (`None` when the listener is gone): every page.
/// Listed once for every refresh of a process and the plan steps after
/// them (`in_plan`; a microservice's two rules are found in it by ARN, see
/// `rule.rs`), else asked now.
pub async fn listener_rules(
    aws: &Clients,
    listener_arn: &str,
    in_plan: bool,
) -> Result<Option<Vec<Rule>>, AwsError> {
    once_per_refresh_process(
        aws,
        in_plan,
        "elbv2: a listener's rules",
        listener_arn,
        || async {
            let rules = absent_if_not_found(list_rules(aws, listener_arn).await)?;
            if aws.memo.is_some() {
                // A refresh reads the tags of every rule and the groups they
                // forward to ahead (see `read_tags_ahead`), and describes
                // those groups with the ones it asks for
                // (`target_group::note_forwarded`).
                let named: std::collections::BTreeSet<String> = rules
                    .iter()
                    .flatten()
                    .filter(|r| r.is_default() != Some(true))
                    .flat_map(|r| {
                        let groups = r
                            .actions()
                            .iter()
                            .filter_map(|a| a.forward_config())
                            .flat_map(|f| f.target_groups())
                            .filter_map(|t| t.target_group_arn().map(str::to_string));
                        r.rule_arn().map(str::to_string).into_iter().chain(groups)
                    })
                    .collect();
                super::target_group::note_forwarded(aws, named.iter().map(String::as_str));
                super::read_tags_ahead(aws, named.into_iter().collect()).await;
            }
            Ok(rules)
        },
    )
    .await
}

async fn list_rules(aws: &Clients, listener_arn: &str) -> Result<Vec<Rule>, AwsError> {
    let mut rules = Vec::new();
    let mut marker = None;
    loop {
        let out = aws
            .elbv2
            .describe_rules()
            .listener_arn(listener_arn)
            .page_size(DESCRIBE_RULES_PAGE)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeRules", e))?;
        rules.extend(out.rules().iter().cloned());
        match out.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_string()),
            _ => return Ok(rules),
        }
    }
}

/// Every rule on the listener but its default one (none when the listener
/// is gone), with its owner. Found once for a refreshing process's plan
/// steps (`in_plan`: each microservice's plan checks its rule against
/// all of them), else asked now.
pub async fn rules_on(
    aws: &Clients,
    listener_arn: &str,
    in_plan: bool,
) -> Result<Vec<FoundRule>, AwsError> {
    once_per_refresh_process(
        aws,
        in_plan,
        "elbv2: a listener's rules and their owners",
        listener_arn,
        || find_rules_on(aws, listener_arn, in_plan),
    )
    .await
}

async fn find_rules_on(
    aws: &Clients,
    listener_arn: &str,
    in_plan: bool,
) -> Result<Vec<FoundRule>, AwsError> {
    let rules = listener_rules(aws, listener_arn, in_plan)
        .await?
        .unwrap_or_default();
    let mut found = Vec::new();
    for rule in &rules {
        let Some(priority) = rule.priority().and_then(|p| p.parse().ok()) else {
            continue; // "default"
        };
        let values = |field: &str| -> Vec<String> {
            let mut v: Vec<String> = rule
                .conditions()
                .iter()
                .filter(|c| c.field() == Some(field))
                .flat_map(|c| {
                    let own = match field {
                        "path-pattern" => c.path_pattern_config().map(|p| p.values().to_vec()),
                        _ => c.host_header_config().map(|h| h.values().to_vec()),
                    };
                    own.unwrap_or_else(|| c.values().to_vec())
                })
                .collect();
            v.sort();
            v
        };
        let arn = rule.rule_arn().unwrap_or_default();
        found.push((
            arn,
            FoundRule {
                priority,
                paths: values("path-pattern"),
                hosts: values("host-header"),
                owner: String::new(),
            },
        ));
    }
    // The owner tags of all rules at once: DescribeTags gathers them, 20 a
    // call (one a rule, one after the other, was a call per rule of the
    // listener for each microservice planned: N² against ELB's 10 a second).
    let owners =
        futures::future::try_join_all(found.iter().map(|(arn, _)| owner_of(aws, arn))).await?;
    Ok(found
        .into_iter()
        .zip(owners)
        .map(|((_, rule), owner)| FoundRule { owner, ..rule })
        .collect())
}

/// Rule ARN to its owner tag, as read once in this process.
type Owners = std::sync::Mutex<std::collections::HashMap<String, String>>;

/// The owner tag of the rule `arn` (empty when it has none), read once per
/// process: an apply checks each microservice's rule priority against every
/// rule on the listener, and asking the owners of all of them again for
/// each microservice was DescribeTags N² / 20 over an apply of N. The
/// provider writes a rule's owner tag with the rule and never changes it;
/// a rule made again has a new ARN, so the rules this process creates are
/// asked for. Priorities and conditions still come from each listing.
async fn owner_of(aws: &Clients, arn: &str) -> Result<String, AwsError> {
    let owners = aws
        .gatherers
        .shared::<Owners>("elbv2: rule owners read in this process");
    if let Some(owner) = owners.lock().unwrap_or_else(|e| e.into_inner()).get(arn) {
        return Ok(owner.clone());
    }
    // Read ahead by a refresh of this process (a plan), else asked.
    let tags = match super::read_ahead(aws, arn) {
        Some(tags) => tags,
        None => tags_of(aws, arn).await?,
    };
    let owner = tags.get(OWNER_TAG).cloned().unwrap_or_default();
    owners
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(arn.to_string(), owner.clone());
    Ok(owner)
}

/// The owner tags of every rule on the listeners of load balancer `arn`
/// (none when it is gone).
pub async fn services_with_rules(aws: &Clients, arn: &str) -> Result<Vec<String>, AwsError> {
    let listeners = absent_if_not_found(
        aws.elbv2
            .describe_listeners()
            .load_balancer_arn(arn)
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeListeners", e)),
    )?;
    let mut owners = Vec::new();
    for l in listeners.iter().flat_map(|o| o.listeners()) {
        let Some(listener) = l.listener_arn() else {
            continue;
        };
        owners.extend(
            rules_on(aws, listener, false)
                .await?
                .into_iter()
                .map(|r| r.owner)
                .filter(|o| !o.is_empty()),
        );
    }
    Ok(owners)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::aws::fake_endpoint::{query_answer, FakeEndpoint};

    fn rule_arn(i: usize) -> String {
        format!("arn:aws:elasticloadbalancing:eu-central-1:1:listener-rule/app/lb/1/2/{i}")
    }

    /// A listener with 45 rules, each owned by `svc-I`.
    fn listener() -> FakeEndpoint {
        FakeEndpoint::start(|op, request| {
            let xml = |inner: String| query_answer(op, inner);
            match op {
                "DescribeRules" => xml(format!(
                    "<Rules>{}</Rules>",
                    (0..45)
                        .map(|i| format!(
                            "<member><RuleArn>{}</RuleArn><Priority>{}</Priority><Conditions><member>\
                             <Field>path-pattern</Field><PathPatternConfig><Values><member>/s{i}</member>\
                             </Values></PathPatternConfig></member></Conditions><IsDefault>false</IsDefault></member>",
                            rule_arn(i),
                            i + 1
                        ))
                        .collect::<String>()
                )),
                "DescribeTags" => {
                    let fields = request.as_object().expect("a form");
                    let described: String = fields
                        .iter()
                        .filter(|(k, _)| k.starts_with("ResourceArns.member."))
                        .filter_map(|(_, v)| v.as_str())
                        .map(|a| {
                            let i = a.rsplit('/').next().unwrap_or_default();
                            format!(
                                "<member><ResourceArn>{a}</ResourceArn><Tags><member><Key>{OWNER_TAG}</Key><Value>svc-{i}</Value></member></Tags></member>"
                            )
                        })
                        .collect();
                    xml(format!("<TagDescriptions>{described}</TagDescriptions>"))
                }
                _ => (400, Value::String("<ErrorResponse><Error><Code>Unexpected</Code></Error></ErrorResponse>".into())),
            }
        })
    }

    #[tokio::test]
    async fn the_rules_of_a_listener_have_their_owners_read_twenty_at_a_time() {
        let fake = listener();
        let aws = fake.clients();
        let rules = rules_on(&aws, "arn:listener", false).await.unwrap();
        assert_eq!(rules.len(), 45);
        assert_eq!(rules[7].owner, "svc-7");
        assert_eq!(rules[7].paths, ["/s7"]);
        let calls = fake.calls();
        // One DescribeRules, then 45 owner tags in three DescribeTags (not 45).
        assert_eq!(
            calls.iter().filter(|c| *c == "DescribeTags").count(),
            3,
            "{calls:?}"
        );
        assert_eq!(calls.len(), 4, "{calls:?}");
        // Another microservice's check in this process (an apply: the
        // listing asked again) reads no owner again.
        let again = rules_on(&aws, "arn:listener", false).await.unwrap();
        assert_eq!(again, rules);
        assert_eq!(fake.calls().len(), 5, "{:?}", fake.calls());
    }
}
