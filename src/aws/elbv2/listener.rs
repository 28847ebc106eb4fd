//! A listener of the platform's load balancer. Its id is its ARN; a
//! load balancer has at most one listener per port, which is how a
//! leftover is found.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, Listener, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum,
};

use super::{put_tags, sdk_tags, tags_of};
use crate::aws::compare::{absent_if_not_found, gone_is_ok};
use crate::aws::{tags, Adapter, AwsError, Clients};
use crate::engine::{Observation, Resolved};
use crate::spec::elbv2::{DefaultAction, ListenerSpec};

/// The SDK action for a default action.
fn action(default: &DefaultAction) -> Action {
    let builder = match default {
        DefaultAction::FixedResponse { status } => Action::builder()
            .r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(
                FixedResponseActionConfig::builder()
                    .status_code(status.to_string())
                    .content_type("text/plain")
                    .build(),
            ),
        DefaultAction::RedirectToHttps => Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            ),
    };
    builder.build()
}

/// The default action AWS reports, in the spec's terms (None: another kind).
fn found_action(listener: &Listener) -> Option<DefaultAction> {
    let [a] = listener.default_actions() else {
        return None;
    };
    match a.r#type()? {
        ActionTypeEnum::FixedResponse => Some(DefaultAction::FixedResponse {
            status: a.fixed_response_config()?.status_code()?.parse().ok()?,
        }),
        ActionTypeEnum::Redirect => {
            let r = a.redirect_config()?;
            (r.protocol() == Some("HTTPS")
                && r.port() == Some("443")
                && r.status_code() == Some(&RedirectActionStatusCodeEnum::Http301))
            .then_some(DefaultAction::RedirectToHttps)
        }
        _ => None,
    }
}

async fn describe(aws: &Clients, arn: &str) -> Result<Option<Listener>, AwsError> {
    aws.remembered(format!("elbv2:DescribeListeners {arn}"), || async {
        let out = absent_if_not_found(
            aws.elbv2
                .describe_listeners()
                .listener_arns(arn)
                .send()
                .await
                .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeListeners", e)),
        )?;
        Ok(out.and_then(|o| o.listeners().first().cloned()))
    })
    .await
}

/// Every listener of load balancer `lb_arn` as AWS describes it.
async fn listeners_of(
    aws: &Clients,
    lb_arn: &str,
) -> Result<Vec<aws_sdk_elasticloadbalancingv2::types::Listener>, AwsError> {
    let out = aws
        .elbv2
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .map_err(|e| AwsError::sdk("elasticloadbalancing:DescribeListeners", e))?;
    Ok(out.listeners().to_vec())
}

/// Every listener of load balancer `lb_arn` as a spec (the load balancer by
/// ARN, tags left empty), with its ARN: what an import recovers.
pub async fn on_load_balancer(
    aws: &Clients,
    lb_arn: &str,
) -> Result<Vec<crate::aws::Found<ListenerSpec>>, AwsError> {
    Ok(listeners_of(aws, lb_arn)
        .await?
        .iter()
        .filter_map(|l| {
            let spec = ListenerSpec {
                load_balancer: crate::spec::Ref(lb_arn.to_string()),
                port: u16::try_from(l.port()?).ok()?,
                protocol: l.protocol()?.as_str().to_string(),
                certificate_arn: l
                    .certificates()
                    .first()
                    .and_then(|c| c.certificate_arn())
                    .map(str::to_string),
                ssl_policy: l.ssl_policy().map(str::to_string),
                default_action: found_action(l)?,
                tags: Default::default(),
            };
            Some(crate::aws::Found::new(spec, l.listener_arn()?))
        })
        .collect())
}

impl ListenerSpec {
    fn protocol(&self) -> ProtocolEnum {
        ProtocolEnum::from(self.protocol.as_str())
    }

    fn certificates(&self) -> Option<Vec<Certificate>> {
        self.certificate_arn
            .as_ref()
            .map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
    }

    fn load_balancer<'a>(&self, resolved: &'a Resolved) -> Result<&'a str, AwsError> {
        resolved
            .get(&self.load_balancer.0)
            .map(String::as_str)
            .ok_or_else(|| {
                AwsError::new(
                    "elasticloadbalancing:CreateListener",
                    "the load balancer has no ARN yet",
                )
            })
    }

    /// The listener on this port of the load balancer, if any.
    async fn on_port(&self, aws: &Clients, lb_arn: &str) -> Result<Option<String>, AwsError> {
        Ok(listeners_of(aws, lb_arn)
            .await?
            .iter()
            .find(|l| l.port() == Some(i32::from(self.port)))
            .and_then(|l| l.listener_arn().map(str::to_string)))
    }
}

#[async_trait]
impl Adapter for ListenerSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(l) = describe(aws, id).await? else {
            return Ok(Observation::Missing);
        };
        if l.load_balancer_arn() != Some(self.load_balancer(resolved)?) {
            // The load balancer was made again (a new scheme): this one
            // went with the old.
            return Ok(Observation::Missing);
        }
        let mut diffs = Vec::new();
        if l.port() != Some(i32::from(self.port)) {
            diffs.push(format!("port is {:?}, want {}", l.port(), self.port));
        }
        if l.protocol() != Some(&self.protocol()) {
            diffs.push(format!(
                "protocol is {:?}, want {}",
                l.protocol().map(|p| p.as_str()),
                self.protocol
            ));
        }
        let certificate = l.certificates().first().and_then(|c| c.certificate_arn());
        if certificate != self.certificate_arn.as_deref() {
            diffs.push(format!(
                "certificate is {certificate:?}, want {:?}",
                self.certificate_arn
            ));
        }
        if self.ssl_policy.is_some() && l.ssl_policy() != self.ssl_policy.as_deref() {
            diffs.push(format!(
                "SSL policy is {:?}, want {:?}",
                l.ssl_policy(),
                self.ssl_policy
            ));
        }
        let default = found_action(&l);
        if default.as_ref() != Some(&self.default_action) {
            diffs.push(format!(
                "default action is {default:?}, want {:?}",
                self.default_action
            ));
        }
        diffs.extend(tags::differences(&self.tags, &tags_of(aws, id).await?));
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "elasticloadbalancing:CreateListener";
        let lb = self.load_balancer(resolved)?;
        // The load balancer is this resource's own (its component claimed
        // it), so a listener on the port is a leftover of ours.
        if let Some(arn) = self.on_port(aws, lb).await? {
            return self.update(aws, &arn, resolved).await;
        }
        let out = aws
            .elbv2
            .create_listener()
            .load_balancer_arn(lb)
            .protocol(self.protocol())
            .port(i32::from(self.port))
            .set_certificates(self.certificates())
            .set_ssl_policy(self.ssl_policy.clone())
            .default_actions(action(&self.default_action))
            .set_tags(Some(sdk_tags(&self.tags)))
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        out.listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(CALL, "the answer named no listener"))
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        match describe(aws, id).await? {
            Some(l) if l.load_balancer_arn() == Some(self.load_balancer(resolved)?) => {}
            _ => return self.create(aws, resolved).await,
        }
        aws.elbv2
            .modify_listener()
            .listener_arn(id)
            .protocol(self.protocol())
            .port(i32::from(self.port))
            .set_certificates(self.certificates())
            .set_ssl_policy(self.ssl_policy.clone())
            .default_actions(action(&self.default_action))
            .send()
            .await
            .map_err(|e| AwsError::sdk("elasticloadbalancing:ModifyListener", e))?;
        put_tags(aws, id, &self.tags).await?;
        Ok(id.to_string())
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        gone_is_ok(
            aws.elbv2
                .delete_listener()
                .listener_arn(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("elasticloadbalancing:DeleteListener", e)),
        )
    }
}
