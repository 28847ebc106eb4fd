//! IAM: the roles the provider makes. A role's id is its ARN.
//!
//! A role carries exactly one inline policy ([`INLINE_POLICY_NAME`]) and
//! the managed policies its spec lists; anything else found on it (a
//! statement, an inline policy or an attachment added out of band) is
//! drift, and an update removes it. A role whose owner tag names another
//! resource is never changed or deleted.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;

use crate::aws::compare::{gone_is_ok, json_differences};
use crate::aws::iam_role_listing::listed_roles;
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::iam::{RoleSpec, INLINE_POLICY_NAME};

/// What IAM holds for one role.
#[derive(Clone)]
struct Held {
    arn: String,
    trust_policy: Value,
    tags: BTreeMap<String, String>,
    /// Every inline policy, by name.
    inline: BTreeMap<String, Value>,
    attached: Vec<String>,
}

impl Held {
    /// A role as the account's listing has it (see
    /// [`crate::aws::iam_role_listing`]).
    fn listed(role: &aws_sdk_iam::types::RoleDetail) -> Held {
        let mut attached: Vec<String> = role
            .attached_managed_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect();
        attached.sort();
        Held {
            arn: role.arn().unwrap_or_default().to_string(),
            trust_policy: trust_policy(role.assume_role_policy_document()),
            tags: tag_map(role.tags()),
            inline: role
                .role_policy_list()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.policy_name()?.to_string(),
                        policy_document(p.policy_document()?),
                    ))
                })
                .collect(),
            attached,
        }
    }
}

/// A role's trust policy as JSON (GetRole and the account listing answer
/// it alike); none is `null`.
fn trust_policy(document: Option<&str>) -> Value {
    document.map(policy_document).unwrap_or(Value::Null)
}

/// A role's tags by key (GetRole and the account listing answer them alike).
fn tag_map(tags: &[aws_sdk_iam::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// IAM answers policy documents URL-encoded (RFC 3986); the emulator
/// sometimes plainly. Either way, the JSON they hold.
fn policy_document(text: &str) -> Value {
    let decoded = if text.trim_start().starts_with('{') {
        text.to_string()
    } else {
        percent_decode(text)
    };
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The role name in a role ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`).
fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

async fn delete_inline(aws: &Clients, role: &str, policy: &str) -> Result<(), AwsError> {
    aws.iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::sdk("iam:DeleteRolePolicy", e))
}

async fn detach(aws: &Clients, role: &str, arn: &str) -> Result<(), AwsError> {
    aws.iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(arn)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::sdk("iam:DetachRolePolicy", e))
}

/// What a role's policies are: every inline policy by name, the attached
/// managed policies (sorted).
#[derive(Clone)]
struct Policies {
    inline: BTreeMap<String, Value>,
    attached: Vec<String>,
}

/// The role `name` (its ARN, trust policy and tags: GetRole answers the
/// tags, so no ListRoleTags); `None` when IAM has no such role.
async fn read_role(
    aws: &Clients,
    name: &str,
) -> Result<Option<aws_sdk_iam::types::Role>, AwsError> {
    match aws.iam.get_role().role_name(name).send().await {
        Ok(out) => Ok(out.role),
        Err(e) => {
            let e = AwsError::sdk("iam:GetRole", e);
            if e.is_not_found() {
                return Ok(None);
            }
            Err(e)
        }
    }
}

/// The policies of role `name`, in one round: its inline policy names, its
/// attachments and, with `wants_inline`, the provider's inline policy
/// asked for beside the list. Only an inline policy added out of band
/// under another name costs a call more.
async fn read_policies(
    aws: &Clients,
    name: &str,
    wants_inline: bool,
) -> Result<Policies, AwsError> {
    let own_policy = async {
        if !wants_inline {
            return Ok(None);
        }
        match aws
            .iam
            .get_role_policy()
            .role_name(name)
            .policy_name(INLINE_POLICY_NAME)
            .send()
            .await
        {
            Ok(out) => Ok(Some(policy_document(out.policy_document()))),
            Err(e) => {
                let e = AwsError::sdk("iam:GetRolePolicy", e);
                if e.is_not_found() {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    };
    let (inline_names, attached, own_policy) = futures::join!(
        aws.iam.list_role_policies().role_name(name).send(),
        aws.iam.list_attached_role_policies().role_name(name).send(),
        own_policy,
    );
    let mut own_policy = own_policy?;
    let mut inline = BTreeMap::new();
    for policy in inline_names
        .map_err(|e| AwsError::sdk("iam:ListRolePolicies", e))?
        .policy_names()
    {
        let asked = if policy == INLINE_POLICY_NAME {
            own_policy.take()
        } else {
            None
        };
        let document = match asked {
            Some(document) => document,
            None => {
                let out = aws
                    .iam
                    .get_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| AwsError::sdk("iam:GetRolePolicy", e))?;
                policy_document(out.policy_document())
            }
        };
        inline.insert(policy.clone(), document);
    }
    let mut attached: Vec<String> = attached
        .map_err(|e| AwsError::sdk("iam:ListAttachedRolePolicies", e))?
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    attached.sort();
    Ok(Policies { inline, attached })
}

/// Whether a read of a role expects it to exist.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// Recorded in state: the role and its policies are asked at once, one
    /// round.
    Recorded,
    /// Looked for by name (a recovery, a create meeting its name): the role
    /// first, its policies only when it exists, so a role that is not there
    /// costs one call.
    LookedFor,
}

impl RoleSpec {
    /// What IAM holds for role `name` (see [`Expect`]). A refresh takes it
    /// from the account's roles listed once for the whole process
    /// ([`listed_roles`]: no call of its own). Otherwise (an apply, a
    /// destroy, or a refresh whose credentials may not list) it is asked
    /// role by role; in a refresh the recovery and the observation of a
    /// role share those reads (see [`Clients::remembered`]): one round of
    /// four calls.
    async fn held(
        &self,
        aws: &Clients,
        name: &str,
        expect: Expect,
    ) -> Result<Option<Held>, AwsError> {
        if let Some(roles) = listed_roles(aws).await? {
            return Ok(roles.get(name).map(Held::listed));
        }
        let wants_inline = self.policy.is_some();
        let role = {
            let (aws2, name) = (aws.clone(), name.to_string());
            aws.remembered(format!("iam:GetRole {name}"), move || async move {
                read_role(&aws2, &name).await
            })
        };
        let policies = || {
            let (aws2, name) = (aws.clone(), name.to_string());
            aws.remembered(
                format!("policies of IAM role {name} {wants_inline}"),
                move || async move { read_policies(&aws2, &name, wants_inline).await },
            )
        };
        let (role, policies) = match expect {
            Expect::Recorded => {
                let (role, policies) = futures::join!(role, policies());
                match role? {
                    // A role gone makes its policy reads fail: that is
                    // the role missing, not an error.
                    None => return Ok(None),
                    Some(role) => (role, policies?),
                }
            }
            Expect::LookedFor => match role.await? {
                None => return Ok(None),
                Some(role) => (role, policies().await?),
            },
        };
        Ok(Some(Held {
            arn: role.arn().to_string(),
            trust_policy: trust_policy(role.assume_role_policy_document()),
            tags: tag_map(role.tags()),
            inline: policies.inline,
            attached: policies.attached,
        }))
    }

    fn differences(&self, held: &Held) -> Vec<String> {
        let mut diffs = json_differences("trust policy", &held.trust_policy, &self.trust_policy);
        for (name, document) in &held.inline {
            match &self.policy {
                Some(want) if name == INLINE_POLICY_NAME => {
                    diffs.extend(json_differences("policy", document, want))
                }
                _ => diffs.push(format!("inline policy {name} was added out of band")),
            }
        }
        if self.policy.is_some() && !held.inline.contains_key(INLINE_POLICY_NAME) {
            diffs.push(format!("inline policy {INLINE_POLICY_NAME} missing"));
        }
        if held.attached != self.managed_policy_arns {
            diffs.push(format!(
                "attached policies are {:?}, want {:?}",
                held.attached, self.managed_policy_arns
            ));
        }
        diffs.extend(tags::differences(&self.tags, &held.tags));
        diffs
    }

    /// Read back the role of this name: its trust, its inline policy and
    /// attachments as found.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<RoleSpec>>, AwsError> {
        let Some(held) = self.held(aws, &self.name, Expect::LookedFor).await? else {
            return Ok(None);
        };
        let spec = RoleSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            trust_policy: held.trust_policy,
            policy: held.inline.get(INLINE_POLICY_NAME).cloned(),
            managed_policy_arns: held.attached,
            tags: held.tags,
        };
        Ok(Some(Found::new(spec, held.arn)))
    }

    /// Bring the role's policies and tags in line (the role exists, is ours).
    async fn put_policies(&self, aws: &Clients, held: Option<&Held>) -> Result<(), AwsError> {
        let name = &self.name;
        if let Some(held) = held {
            if held.trust_policy != self.trust_policy {
                aws.iam
                    .update_assume_role_policy()
                    .role_name(name)
                    .policy_document(self.trust_policy.to_string())
                    .send()
                    .await
                    .map_err(|e| AwsError::sdk("iam:UpdateAssumeRolePolicy", e))?;
            }
            for policy in held.inline.keys() {
                if policy != INLINE_POLICY_NAME || self.policy.is_none() {
                    delete_inline(aws, name, policy).await?;
                }
            }
            for arn in &held.attached {
                if !self.managed_policy_arns.contains(arn) {
                    detach(aws, name, arn).await?;
                }
            }
        }
        if let Some(policy) = &self.policy {
            if held.and_then(|h| h.inline.get(INLINE_POLICY_NAME)) != Some(policy) {
                aws.iam
                    .put_role_policy()
                    .role_name(name)
                    .policy_name(INLINE_POLICY_NAME)
                    .policy_document(policy.to_string())
                    .send()
                    .await
                    .map_err(|e| AwsError::sdk("iam:PutRolePolicy", e))?;
            }
        }
        for arn in &self.managed_policy_arns {
            if !held.is_some_and(|h| h.attached.contains(arn)) {
                aws.iam
                    .attach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(|e| AwsError::sdk("iam:AttachRolePolicy", e))?;
            }
        }
        Ok(())
    }

    /// An update that found no role of this name (renamed, or deleted out
    /// of band) makes it whole: the engine finishes only creates.
    async fn remade(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let arn = self.create(aws, resolved).await?;
        self.put_policies(aws, None).await?;
        Ok(arn)
    }

    fn tag_list(&self) -> Result<Vec<aws_sdk_iam::types::Tag>, AwsError> {
        self.tags
            .iter()
            .map(|(k, v)| {
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .map_err(|e| AwsError::build("iam:CreateRole", e))
            })
            .collect()
    }
}

#[async_trait]
impl Adapter for RoleSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let Some(held) = self.held(aws, name_of(id), Expect::Recorded).await? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = self.differences(&held);
        if name_of(id) != self.name {
            diffs.push(format!("role name is {}, want {}", name_of(id), self.name));
        }
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        let created = aws
            .iam
            .create_role()
            .role_name(&self.name)
            .description(&self.description)
            .assume_role_policy_document(self.trust_policy.to_string())
            .set_tags(Some(self.tag_list()?))
            .send()
            .await
            .map_err(|e| AwsError::sdk("iam:CreateRole", e));
        match created {
            // Its policies come in `finish_create`, once the ARN is
            // recorded: a task definition that only names the role is
            // registered beside them (the service that runs tasks with
            // the role waits for them).
            Ok(out) => Ok(out.role.map(|r| r.arn).unwrap_or_default()),
            Err(e) if e.code.as_deref() == Some("EntityAlreadyExists") => {
                let held = self
                    .held(aws, &self.name, Expect::LookedFor)
                    .await?
                    .ok_or(e)?;
                tags::claim(
                    "iam:CreateRole",
                    "IAM role",
                    &self.name,
                    &self.tags,
                    &held.tags,
                )?;
                self.update(aws, &held.arn, resolved).await
            }
            Err(e) => Err(e),
        }
    }

    async fn update(
        &self,
        aws: &Clients,
        id: &str,
        resolved: &Resolved,
    ) -> Result<String, AwsError> {
        if name_of(id) != self.name {
            return self.remade(aws, resolved).await;
        }
        let Some(held) = self.held(aws, &self.name, Expect::Recorded).await? else {
            return self.remade(aws, resolved).await;
        };
        tags::claim(
            "iam:TagRole",
            "IAM role",
            &self.name,
            &self.tags,
            &held.tags,
        )?;
        self.put_policies(aws, Some(&held)).await?;
        if !tags::differences(&self.tags, &held.tags).is_empty() {
            aws.iam
                .tag_role()
                .role_name(&self.name)
                .set_tags(Some(self.tag_list()?))
                .send()
                .await
                .map_err(|e| AwsError::sdk("iam:TagRole", e))?;
        }
        // Tags are authoritative: keys no longer wanted leave the role.
        let unwanted: Vec<String> = tags::unwanted(&self.tags, &held.tags).into_iter().collect();
        if !unwanted.is_empty() {
            aws.iam
                .untag_role()
                .role_name(&self.name)
                .set_tag_keys(Some(unwanted))
                .send()
                .await
                .map_err(|e| AwsError::sdk("iam:UntagRole", e))?;
        }
        Ok(held.arn)
    }

    /// A role whose create (CreateRole, or the adoption of our own
    /// leftover) returned: its policies. Put again after an adoption,
    /// which already put them (PutRolePolicy and AttachRolePolicy are
    /// idempotent; adoption is rare: a lost answer, an interrupted apply).
    async fn finish_create(&self, aws: &Clients, _: &str) -> Result<(), AwsError> {
        self.put_policies(aws, None).await
    }

    /// Its delete's reads (the owner check, the policies to remove) go
    /// out when the destroy starts, beside the ECS service's delete, not
    /// once the service is gone.
    async fn look_ahead_delete(&self, aws: &Clients, id: &str) {
        let name = name_of(id);
        let _ = aws
            .ahead
            .remembered(before_delete(name), || {
                self.held(aws, name, Expect::Recorded)
            })
            .await;
    }

    /// IAM deletes a role only without policies: detach and delete them
    /// first. A role another resource owns is left alone.
    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let name = name_of(id);
        let held = aws
            .ahead
            .taken(before_delete(name), || {
                self.held(aws, name, Expect::Recorded)
            })
            .await?;
        match self.emptied_and_deleted(aws, name, held).await {
            // A policy put since the read ahead: read again, once.
            Err(e) if e.code.as_deref() == Some("DeleteConflict") => {
                let held = self.held(aws, name, Expect::Recorded).await?;
                self.emptied_and_deleted(aws, name, held).await
            }
            done => done,
        }
    }
}

/// The key of a role's reads ahead of its delete in [`Clients::ahead`].
fn before_delete(name: &str) -> String {
    format!("iam role {name} before its delete")
}

impl RoleSpec {
    /// Delete role `name` as `held` found it: its policies, then the role.
    async fn emptied_and_deleted(
        &self,
        aws: &Clients,
        name: &str,
        held: Option<Held>,
    ) -> Result<(), AwsError> {
        let Some(held) = held else {
            return Ok(());
        };
        if tags::owner(&held.tags) != tags::owner(&self.tags) {
            tracing::warn!(role = name, "not deleted: the role is not this resource's");
            return Ok(());
        }
        for policy in held.inline.keys() {
            delete_inline(aws, name, policy).await?;
        }
        for arn in &held.attached {
            detach(aws, name, arn).await?;
        }
        gone_is_ok(
            aws.iam
                .delete_role()
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("iam:DeleteRole", e)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_read_url_encoded_or_plain() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(policy_document(plain), policy_document(encoded));
        assert_eq!(policy_document(plain)["Version"], "2012-10-17");
        assert_eq!(name_of("arn:aws:iam::123456789012:role/a/b-exec"), "b-exec");
    }

    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use crate::aws::fake_endpoint::FakeEndpoint;
    use crate::engine::Observation;

    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"xray:PutTraceSegments","Resource":"*"}]}"#;

    fn spec() -> RoleSpec {
        RoleSpec {
            name: "matbakh-svc-task".into(),
            description: "d".into(),
            trust_policy: json!({"Version": "2012-10-17", "Statement": []}),
            policy: Some(serde_json::from_str(POLICY).unwrap()),
            managed_policy_arns: vec![],
            tags: [("matbakh:owner".to_string(), "p/svc".to_string())]
                .into_iter()
                .collect(),
        }
    }

    fn xml(op: &str, inner: &str) -> (u16, Value) {
        (
            200,
            Value::String(format!(
                "<{op}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><{op}Result>{inner}</{op}Result></{op}Response>"
            )),
        )
    }

    /// A role as IAM holds it: `policy` its inline policy `matbakh`,
    /// `extra` another inline policy's name.
    fn iam(policy: Arc<Mutex<String>>, extra: Option<&'static str>) -> FakeEndpoint {
        FakeEndpoint::start(move |op, _| role_answer(op, &policy.lock().unwrap(), extra))
    }

    /// IAM's answer to `op` about the role of [`iam`].
    fn role_answer(op: &str, policy: &str, extra: Option<&str>) -> (u16, Value) {
        {
            match op {
            "GetRole" => xml(
                op,
                "<Role><Path>/</Path><RoleName>matbakh-svc-task</RoleName><RoleId>AROA1</RoleId>\
                 <Arn>arn:aws:iam::1:role/matbakh-svc-task</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>\
                 <AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D</AssumeRolePolicyDocument>\
                 <Tags><member><Key>matbakh:owner</Key><Value>p/svc</Value></member></Tags></Role>",
            ),
            "ListRolePolicies" => xml(
                op,
                &format!(
                    "<PolicyNames><member>matbakh</member>{}</PolicyNames><IsTruncated>false</IsTruncated>",
                    extra.map(|e| format!("<member>{e}</member>")).unwrap_or_default()
                ),
            ),
            "ListAttachedRolePolicies" => {
                xml(op, "<AttachedPolicies/><IsTruncated>false</IsTruncated>")
            }
            "GetRolePolicy" => xml(
                op,
                &format!(
                    "<RoleName>matbakh-svc-task</RoleName><PolicyName>matbakh</PolicyName><PolicyDocument>{}</PolicyDocument>",
                    policy.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")
                ),
            ),
            // Credentials whose policy does not grant the listing (a
            // deployer policy older than it).
            "GetAccountAuthorizationDetails" => denied(op),
            _ => (
                400,
                Value::String(format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>Unexpected</Code><Message>{op}</Message></Error></ErrorResponse>"
                )),
            ),
        }
        }
    }

    fn denied(op: &str) -> (u16, Value) {
        (
            403,
            Value::String(format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/ci is not authorized to perform: iam:{op} on resource: * because no identity-based policy allows the iam:{op} action</Message></Error></ErrorResponse>"
            )),
        )
    }

    #[tokio::test]
    async fn a_refresh_whose_credentials_may_not_list_reads_a_role_in_one_round_of_four_calls() {
        let fake = iam(Arc::new(Mutex::new(POLICY.to_string())), None);
        let base = fake.clients();
        let role = spec();
        let resolved = Resolved::default();
        for refresh in 0..2 {
            let aws = base.remembering_reads();
            let (found, observed) = futures::join!(
                role.read_back(&aws),
                role.observe(&aws, "arn:aws:iam::1:role/matbakh-svc-task", &resolved),
            );
            let found = found.unwrap().expect("found");
            assert_eq!(found.spec, role);
            assert_eq!(observed.unwrap(), Observation::in_sync());
            let mut calls = fake.calls();
            calls.sort();
            // The listing is refused once for the whole process, then
            // every refresh reads role by role: GetRole answers the tags
            // (no ListRoleTags); the inline policy is asked for beside its
            // list; recovery and observation share the four.
            let mut want = vec!["GetAccountAuthorizationDetails"];
            for _ in 0..=refresh {
                want.extend([
                    "GetRole",
                    "GetRolePolicy",
                    "ListAttachedRolePolicies",
                    "ListRolePolicies",
                ]);
            }
            want.sort();
            assert_eq!(calls, want, "refresh {refresh}");
        }
    }

    /// A `RoleDetailList` member: role `name` with `inline` policies
    /// (name, document, URL-encoded as IAM sends them) and `attached`
    /// managed policy ARNs, its owner tag `owner`.
    fn role_detail(name: &str, inline: &[(&str, &str)], attached: &[&str], owner: &str) -> String {
        let encode = |text: &str| {
            text.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        let inline: String = inline
            .iter()
            .map(|(n, d)| {
                format!(
                    "<member><PolicyName>{n}</PolicyName><PolicyDocument>{}</PolicyDocument></member>",
                    encode(d)
                )
            })
            .collect();
        let attached: String = attached
            .iter()
            .map(|a| {
                format!("<member><PolicyName>p</PolicyName><PolicyArn>{a}</PolicyArn></member>")
            })
            .collect();
        format!(
            "<member><Path>/</Path><RoleName>{name}</RoleName><RoleId>AROA{name}</RoleId>\
             <Arn>arn:aws:iam::1:role/{name}</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>\
             <AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument>\
             <InstanceProfileList/><RolePolicyList>{inline}</RolePolicyList>\
             <AttachedManagedPolicies>{attached}</AttachedManagedPolicies>\
             <Tags><member><Key>matbakh:owner</Key><Value>{owner}</Value></member></Tags><RoleLastUsed/></member>",
            encode(r#"{"Version":"2012-10-17","Statement":[]}"#)
        )
    }

    /// An account whose roles are listed in `pages` (each a list of
    /// `RoleDetailList` members); the request's fields are checked.
    fn listing(pages: Vec<Vec<String>>) -> FakeEndpoint {
        FakeEndpoint::start(move |op, request| {
            if op != "GetAccountAuthorizationDetails" {
                return (
                    400,
                    Value::String(format!(
                        "<ErrorResponse><Error><Type>Sender</Type><Code>Unexpected</Code><Message>{op}</Message></Error></ErrorResponse>"
                    )),
                );
            }
            assert_eq!(request["Filter.member.1"], "Role", "{request}");
            assert_eq!(request["MaxItems"], "1000", "{request}");
            let page: usize = request["Marker"]
                .as_str()
                .and_then(|m| m.strip_prefix("page-"))
                .map_or(0, |n| n.parse().unwrap());
            let more = page + 1 < pages.len();
            xml(
                op,
                &format!(
                    "<UserDetailList/><GroupDetailList/><RoleDetailList>{}</RoleDetailList><Policies/><IsTruncated>{more}</IsTruncated>{}",
                    pages[page].concat(),
                    if more { format!("<Marker>page-{}</Marker>", page + 1) } else { String::new() }
                ),
            )
        })
    }

    fn named(name: &str) -> RoleSpec {
        RoleSpec {
            name: name.into(),
            ..spec()
        }
    }

    #[tokio::test]
    async fn the_refreshes_of_a_process_read_every_role_from_one_paged_listing() {
        let other = POLICY.replace("xray:PutTraceSegments", "s3:GetObject");
        let fake = listing(vec![
            vec![
                role_detail("svc-0-task", &[("matbakh", POLICY)], &[], "p/svc"),
                role_detail("unrelated", &[], &[], "someone"),
            ],
            vec![role_detail(
                "svc-1-task",
                &[("matbakh", POLICY)],
                &[],
                "p/svc",
            )],
        ]);
        let base = fake.clients();
        let resolved = Resolved::default();
        // Two microservices refreshed at once, each with its own refresh
        // memory: its task role observed by ARN and read back by name, and
        // two roles it does not make looked for by name.
        let refreshes = (0..2).map(|i| {
            let aws = base.remembering_reads();
            let resolved = &resolved;
            async move {
                let role = named(&format!("svc-{i}-task"));
                let arn = format!("arn:aws:iam::1:role/svc-{i}-task");
                let (exec, tls) = (
                    named(&format!("svc-{i}-exec")),
                    named(&format!("svc-{i}-tls")),
                );
                let (found, observed, exec, tls) = futures::join!(
                    role.read_back(&aws),
                    role.observe(&aws, &arn, resolved),
                    exec.read_back(&aws),
                    tls.read_back(&aws),
                );
                let found = found.unwrap().expect("found");
                assert_eq!((found.spec, found.id), (role, arn));
                assert_eq!(observed.unwrap(), Observation::in_sync());
                assert!(exec.unwrap().is_none() && tls.unwrap().is_none());
            }
        });
        futures::future::join_all(refreshes).await;
        // One listing of two pages for the whole process.
        assert_eq!(
            fake.calls(),
            [
                "GetAccountAuthorizationDetails",
                "GetAccountAuthorizationDetails"
            ]
        );

        // Drift, as the listing shows it: a statement added to the inline
        // policy, another inline policy, a managed policy attached, a tag
        // changed; a role gone is missing.
        let drifted = listing(vec![vec![
            role_detail("a", &[("matbakh", &other)], &[], "p/svc"),
            role_detail("b", &[("matbakh", POLICY), ("extra", POLICY)], &[], "p/svc"),
            role_detail(
                "c",
                &[("matbakh", POLICY)],
                &["arn:aws:iam::aws:policy/AdministratorAccess"],
                "p/svc",
            ),
            role_detail("d", &[("matbakh", POLICY)], &[], "p/other"),
        ]]);
        let aws = drifted.clients().remembering_reads();
        for (name, says) in [
            ("a", "policy"),
            ("b", "inline policy extra"),
            ("c", "AdministratorAccess"),
            ("d", "matbakh:owner"),
        ] {
            let observed = named(name)
                .observe(&aws, &format!("arn:aws:iam::1:role/{name}"), &resolved)
                .await
                .unwrap();
            let Observation::Present { differences } = observed else {
                panic!("{name}: present")
            };
            assert!(
                differences.iter().any(|d| d.contains(says)),
                "{name}: {differences:?}"
            );
        }
        let gone = named("e")
            .observe(&aws, "arn:aws:iam::1:role/e", &resolved)
            .await
            .unwrap();
        assert_eq!(gone, Observation::Missing);
        assert_eq!(drifted.calls(), ["GetAccountAuthorizationDetails"]);

        // An apply reads role by role: it must see its own writes.
        let _ = named("svc-0-task")
            .observe(&base, "arn:aws:iam::1:role/svc-0-task", &resolved)
            .await;
        assert!(fake.calls().len() > 2 && fake.calls()[2] != "GetAccountAuthorizationDetails");
    }

    #[tokio::test]
    async fn a_statement_or_an_inline_policy_added_out_of_band_is_seen() {
        let edited = POLICY.replace(
            "]}",
            r#",{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        );
        let fake = iam(Arc::new(Mutex::new(edited)), None);
        let observed = spec()
            .observe(
                &fake.clients(),
                "arn:aws:iam::1:role/matbakh-svc-task",
                &Resolved::default(),
            )
            .await
            .unwrap();
        assert_ne!(observed, Observation::in_sync());

        let fake = iam(Arc::new(Mutex::new(POLICY.to_string())), Some("extra"));
        let Observation::Present { differences } = spec()
            .observe(
                &fake.clients(),
                "arn:aws:iam::1:role/matbakh-svc-task",
                &Resolved::default(),
            )
            .await
            .unwrap()
        else {
            panic!("present")
        };
        assert!(
            differences
                .iter()
                .any(|d| d.contains("inline policy extra")),
            "{differences:?}"
        );
        // The other inline policy's document is the one call more.
        assert_eq!(fake.calls().len(), 5, "{:?}", fake.calls());
    }

    #[tokio::test]
    async fn a_role_looked_for_that_is_not_there_costs_one_call() {
        let fake = FakeEndpoint::start(|op, _| {
            (
                404,
                Value::String(format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>{op}</Message></Error></ErrorResponse>"
                )),
            )
        });
        // Outside a refresh (an apply's create meeting its name).
        let aws = fake.clients();
        assert!(spec().read_back(&aws).await.unwrap().is_none());
        assert_eq!(fake.calls(), ["GetRole"]);
        // Recorded but deleted out of band: missing, not an error.
        let observed = spec()
            .observe(&aws, "arn:aws:iam::1:role/other", &Resolved::default())
            .await
            .unwrap();
        assert_eq!(observed, Observation::Missing);
    }

    #[tokio::test]
    async fn a_create_makes_the_role_alone_and_its_finish_puts_the_policy() {
        let fake = FakeEndpoint::start(|op, request| {
            match op {
            "CreateRole" => {
                assert_eq!(request["RoleName"], "matbakh-svc-task", "{request}");
                xml(
                    op,
                    "<Role><Path>/</Path><RoleName>matbakh-svc-task</RoleName><RoleId>AROA1</RoleId>\
                     <Arn>arn:aws:iam::1:role/matbakh-svc-task</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate></Role>",
                )
            }
            "PutRolePolicy" => {
                assert_eq!(request["PolicyName"], INLINE_POLICY_NAME, "{request}");
                xml(op, "")
            }
            _ => (
                400,
                Value::String(format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>Unexpected</Code><Message>{op}</Message></Error></ErrorResponse>"
                )),
            ),
        }
        });
        let aws = fake.clients();
        let role = spec();
        // The create's answer is the ARN the engine records, and what
        // only names the role (the task definition) may start then.
        let arn = role.create(&aws, &Resolved::default()).await.unwrap();
        assert_eq!(arn, "arn:aws:iam::1:role/matbakh-svc-task");
        assert_eq!(fake.calls(), ["CreateRole"]);
        role.finish_create(&aws, &arn).await.unwrap();
        assert_eq!(fake.calls(), ["CreateRole", "PutRolePolicy"]);
        // An update that finds the role renamed makes it whole itself: the
        // engine finishes creates only.
        role.update(&aws, "arn:aws:iam::1:role/old-name", &Resolved::default())
            .await
            .unwrap();
        assert_eq!(
            fake.calls(),
            ["CreateRole", "PutRolePolicy", "CreateRole", "PutRolePolicy"]
        );
    }

    #[tokio::test]
    async fn a_delete_takes_what_was_read_ahead_and_reads_again_on_a_conflict() {
        let conflicts = Arc::new(Mutex::new(1));
        let left = conflicts.clone();
        let fake = FakeEndpoint::start(move |op, _| match op {
            "DeleteRolePolicy" => xml(op, ""),
            "DeleteRole" => {
                let mut left = left.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    return (
                        409,
                        Value::String("<ErrorResponse><Error><Type>Sender</Type><Code>DeleteConflict</Code><Message>Cannot delete entity, must delete policies first.</Message></Error></ErrorResponse>".into()),
                    );
                }
                xml(op, "")
            }
            // Reads as the role's fake answers them.
            _ => role_answer(op, POLICY, None),
        });
        let aws = fake.clients();
        let arn = "arn:aws:iam::1:role/matbakh-svc-task";
        // Read when the destroy started; the delete reads nothing more.
        spec().look_ahead_delete(&aws, arn).await;
        let read = fake.calls().len();
        assert_eq!(read, 4, "{:?}", fake.calls());
        *conflicts.lock().unwrap() = 0;
        spec().delete(&aws, arn).await.unwrap();
        assert_eq!(fake.calls()[read..], ["DeleteRolePolicy", "DeleteRole"]);
        // A policy put since the read ahead: IAM refuses, the role is read
        // again and emptied once more.
        *conflicts.lock().unwrap() = 1;
        spec().look_ahead_delete(&aws, arn).await;
        let before = fake.calls().len();
        spec().delete(&aws, arn).await.unwrap();
        let mut after: Vec<String> = fake.calls()[before..].to_vec();
        after[2..6].sort();
        assert_eq!(
            after,
            [
                "DeleteRolePolicy",
                "DeleteRole",
                "GetRole",
                "GetRolePolicy",
                "ListAttachedRolePolicies",
                "ListRolePolicies",
                "DeleteRolePolicy",
                "DeleteRole"
            ]
        );
    }
}
