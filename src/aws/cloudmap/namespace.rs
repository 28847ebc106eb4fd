//! The platform's Cloud Map namespace (`svc.local`): an HTTP namespace for
//! Service Connect, a private DNS namespace in the platform's VPC for App
//! Mesh.
//!
//! Creating and deleting a namespace is asynchronous in Cloud Map: the call
//! returns an operation id, and the namespace exists (or is gone) only once
//! that operation reports SUCCESS. The recorded id is the namespace's ARN.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_servicediscovery::types::{
    FilterCondition, Namespace, NamespaceFilter, NamespaceFilterName, NamespaceSummary,
    NamespaceType, OperationStatus, OperationTargetType,
};

use crate::aws::{tags, Adapter, AwsError, Clients};
use crate::engine::{remaining, Observation, Resolved};
use crate::spec::platform::{NamespaceKind, NamespaceSpec};

pub use crate::spec::platform::VPC_TAG;

/// How long a delete waits for ECS to remove the Cloud Map services it
/// created in the namespace (it does so as the ECS services go).
const SERVICES_GONE_WITHIN: Duration = Duration::from_secs(300);

/// The `ns-…` id at the end of a namespace ARN.
pub fn namespace_id_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Wait for a Cloud Map operation to finish; returns its target ids.
pub(crate) async fn wait_for_operation(
    aws: &Clients,
    call: &str,
    operation_id: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let mut delay = Duration::from_millis(250);
    loop {
        let out = aws
            .cloudmap
            .get_operation()
            .operation_id(operation_id)
            .send()
            .await
            .map_err(|e| AwsError::sdk("servicediscovery:GetOperation", e))?;
        let op = out.operation();
        match op.and_then(|o| o.status()) {
            Some(OperationStatus::Success) => {
                let targets = op
                    .and_then(|o| o.targets())
                    .map(|t| {
                        t.iter()
                            .map(|(k, v): (&OperationTargetType, &String)| {
                                (k.as_str().to_string(), v.clone())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                return Ok(targets);
            }
            Some(OperationStatus::Fail) => {
                let reason = op
                    .and_then(|o| o.error_message())
                    .unwrap_or("no reason given")
                    .to_string();
                return Err(AwsError::new(
                    call,
                    format!("operation {operation_id} failed: {reason}"),
                ));
            }
            _ => {}
        }
        let left = remaining().map_err(|_| {
            AwsError::new(
                call,
                format!("timed out waiting for operation {operation_id}"),
            )
        })?;
        tracing::debug!(operation_id, "waiting for Cloud Map operation");
        // Ends at once on Terraform's stop request.
        let _ = crate::engine::pause(delay.min(left)).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

impl NamespaceSpec {
    fn namespace_type(&self) -> NamespaceType {
        match self.kind {
            NamespaceKind::Http => NamespaceType::Http,
            NamespaceKind::PrivateDns => NamespaceType::DnsPrivate,
        }
    }

    /// The namespace this spec would create, if one exists: same name and
    /// type and, for a private DNS namespace (unique per name *and VPC*),
    /// the same VPC. Cloud Map does not report a namespace's VPC, so that is
    /// read from the VPC tag; an untagged namespace of the name is not
    /// taken for ours (if it is in our VPC, the create says so).
    async fn find_by_name(&self, aws: &Clients) -> Result<Option<NamespaceSummary>, AwsError> {
        let by_type = NamespaceFilter::builder()
            .name(NamespaceFilterName::Type)
            .values(self.namespace_type().as_str())
            .condition(FilterCondition::Eq)
            .build()
            .map_err(|e| AwsError::build("servicediscovery:ListNamespaces", e))?;
        let mut pages = aws
            .cloudmap
            .list_namespaces()
            .filters(by_type)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::sdk("servicediscovery:ListNamespaces", e))?;
            for ns in page.namespaces() {
                if ns.name() != Some(self.name.as_str()) {
                    continue;
                }
                // Emulators may ignore the filter.
                if ns.r#type().is_some_and(|t| t != &self.namespace_type()) {
                    continue;
                }
                if self.kind == NamespaceKind::PrivateDns {
                    let tags = super::tags_of(aws, ns.arn().unwrap_or_default()).await?;
                    if tags.get(VPC_TAG) != Some(&self.vpc_id) {
                        continue;
                    }
                }
                return Ok(Some(ns.clone()));
            }
        }
        Ok(None)
    }

    /// Wait until the namespace holds no Cloud Map service: ECS removes the
    /// ones Service Connect created as their ECS services are deleted, and
    /// Cloud Map refuses to delete a namespace that still has services.
    async fn wait_for_no_services(&self, aws: &Clients, ns_id: &str) -> Result<(), AwsError> {
        const CALL: &str = "servicediscovery:ListServices";
        let started = tokio::time::Instant::now();
        loop {
            let filter = aws_sdk_servicediscovery::types::ServiceFilter::builder()
                .name(aws_sdk_servicediscovery::types::ServiceFilterName::NamespaceId)
                .values(ns_id)
                .condition(FilterCondition::Eq)
                .build()
                .map_err(|e| AwsError::build(CALL, e))?;
            let out = aws
                .cloudmap
                .list_services()
                .filters(filter)
                .send()
                .await
                .map_err(|e| AwsError::sdk(CALL, e))?;
            let left: Vec<&str> = out.services().iter().filter_map(|s| s.name()).collect();
            if left.is_empty() {
                return Ok(());
            }
            let time_left = remaining().unwrap_or_default();
            if started.elapsed() >= SERVICES_GONE_WITHIN || time_left < Duration::from_secs(5) {
                // Let DeleteNamespace say what is in the way.
                tracing::warn!(namespace = ns_id, services = ?left, "namespace still has services");
                return Ok(());
            }
            tracing::info!(namespace = ns_id, services = ?left, "waiting for ECS to remove the namespace's Cloud Map services");
            let _ = crate::engine::pause(Duration::from_secs(5).min(time_left)).await;
        }
    }

    /// Create the namespace and wait for Cloud Map's operation; its ARN.
    async fn send_create(&self, aws: &Clients) -> Result<String, AwsError> {
        let call = match self.kind {
            NamespaceKind::Http => "servicediscovery:CreateHttpNamespace",
            NamespaceKind::PrivateDns => "servicediscovery:CreatePrivateDnsNamespace",
        };
        let token = tags::request_token(&self.tags, "namespace");
        let op = match self.kind {
            NamespaceKind::Http => {
                aws.cloudmap
                    .create_http_namespace()
                    .name(&self.name)
                    .description(&self.description)
                    .creator_request_id(token)
                    .set_tags(Some(super::cloudmap_tags(&self.tags)?))
                    .send()
                    .await
                    .map_err(|e| AwsError::sdk(call, e))?
                    .operation_id
            }
            NamespaceKind::PrivateDns => {
                aws.cloudmap
                    .create_private_dns_namespace()
                    .name(&self.name)
                    .vpc(&self.vpc_id)
                    .description(&self.description)
                    .creator_request_id(token)
                    .set_tags(Some(super::cloudmap_tags(&self.tags)?))
                    .send()
                    .await
                    .map_err(|e| AwsError::sdk(call, e))?
                    .operation_id
            }
        };
        let op = op.unwrap_or_default();
        let targets = wait_for_operation(aws, call, &op).await?;
        let ns_id = targets.get("NAMESPACE").cloned().ok_or_else(|| {
            AwsError::new(
                "servicediscovery:GetOperation",
                "operation named no namespace",
            )
        })?;
        // Its ARN is Cloud Map's documented form, when the credentials'
        // account is known (checked at configure); else Cloud Map is asked.
        if let Some(arn) =
            crate::aws::arn::namespace(&aws.region, aws.account_id.as_deref(), &ns_id)
        {
            return Ok(arn);
        }
        let ns = aws
            .cloudmap
            .get_namespace()
            .id(&ns_id)
            .send()
            .await
            .map_err(|e| AwsError::sdk("servicediscovery:GetNamespace", e))?;
        ns.namespace()
            .and_then(|n| n.arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new("servicediscovery:GetNamespace", "namespace without ARN"))
    }
}

/// The namespace `arn` (GetNamespace by its id); `None` when it does not
/// exist.
async fn get_namespace(aws: &Clients, arn: &str) -> Result<Option<Namespace>, AwsError> {
    match aws
        .cloudmap
        .get_namespace()
        .id(namespace_id_from_arn(arn))
        .send()
        .await
    {
        Ok(out) => Ok(out.namespace),
        Err(e) => {
            let err = AwsError::sdk("servicediscovery:GetNamespace", e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

#[async_trait]
impl Adapter for NamespaceSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        // The recorded id is the ARN the tags go by: both at once.
        let (ns, found_tags) = futures::join!(get_namespace(aws, id), super::tags_of(aws, id));
        let Some(ns) = ns? else {
            return Ok(Observation::Missing);
        };
        let mut diffs = Vec::new();
        if let Some(t) = ns.r#type() {
            if t != &self.namespace_type() {
                diffs.push(format!(
                    "namespace type is {}, want {}",
                    t.as_str(),
                    self.namespace_type().as_str()
                ));
            }
        }
        if ns.name() != Some(self.name.as_str()) {
            diffs.push(format!(
                "name is {:?}, want {:?}",
                ns.name().unwrap_or_default(),
                self.name
            ));
        }
        diffs.extend(tags::differences(&self.tags, &found_tags?));
        Ok(Observation::with_differences(diffs))
    }

    /// Straight to the create: a retry of ours (same creator request id)
    /// gets the first one's operation back. Only when Cloud Map refuses the
    /// name is the namespace of that name looked at, to adopt our own
    /// leftover or refuse someone else's.
    async fn create(&self, aws: &Clients, _: &Resolved) -> Result<String, AwsError> {
        let refused = match self.send_create(aws).await {
            Ok(arn) => return Ok(arn),
            Err(e) if e.code.as_deref() == Some("NamespaceAlreadyExists") => e,
            Err(e) => return Err(e),
        };
        let Some(existing) = self.find_by_name(aws).await? else {
            // Of the name but not ours to look at (another VPC's): Cloud
            // Map's own words.
            return Err(refused);
        };
        let arn = existing.arn().unwrap_or_default().to_string();
        tags::claim(
            "servicediscovery:CreateNamespace",
            "Cloud Map namespace",
            &self.name,
            &self.tags,
            &super::tags_of(aws, &arn).await?,
        )?;
        Ok(arn)
    }

    async fn update(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<String, AwsError> {
        // Name and VPC cannot change in place (the resource is replaced);
        // tags can.
        super::put_tags(aws, id, &self.tags).await?;
        Ok(id.to_string())
    }

    /// Straight to DeleteNamespace; only when Cloud Map refuses it because
    /// services remain (ECS removes the Service Connect ones after their
    /// ECS services are gone) is there a wait for them, then one retry.
    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        match self.send_delete(aws, id).await {
            Err(e) if e.code.as_deref() == Some("ResourceInUse") => {
                self.wait_for_no_services(aws, namespace_id_from_arn(id))
                    .await?;
                self.send_delete(aws, id).await
            }
            done => done,
        }
    }
}

impl NamespaceSpec {
    async fn send_delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let call = "servicediscovery:DeleteNamespace";
        match aws
            .cloudmap
            .delete_namespace()
            .id(namespace_id_from_arn(id))
            .send()
            .await
        {
            Ok(out) => {
                if let Some(op) = out.operation_id() {
                    wait_for_operation(aws, call, op).await?;
                }
                Ok(())
            }
            Err(e) => {
                let err = AwsError::sdk(call, e);
                if err.is_not_found() {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}

/// Every namespace of the region: its name by ARN (ListNamespaces, no
/// tags). A platform's cluster names its namespace as its Service Connect
/// default; this gives that namespace's name in the same round.
pub async fn namespace_names(aws: &Clients) -> Result<BTreeMap<String, String>, AwsError> {
    let mut names = BTreeMap::new();
    let mut pages = aws.cloudmap.list_namespaces().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("servicediscovery:ListNamespaces", e))?;
        for ns in page.namespaces() {
            if let (Some(arn), Some(name)) = (ns.arn(), ns.name()) {
                names.insert(arn.to_string(), name.to_string());
            }
        }
    }
    Ok(names)
}

/// Whether the namespace `arn` still exists (GetNamespace by its id): what
/// confirms a platform found earlier in this process was not deleted or
/// recreated since (a recreated namespace has a new id).
pub async fn namespace_exists(aws: &Clients, arn: &str) -> Result<bool, AwsError> {
    Ok(get_namespace(aws, arn).await?.is_some())
}

/// The namespace whose owner tag names `owner`: (ARN, name, tags). Cloud
/// Map cannot filter namespaces by tag: the tags of a page's namespaces are
/// read all at once (one round, not one per namespace in the region).
pub async fn find_owned_namespace(
    aws: &Clients,
    owner: &str,
) -> Result<Option<(String, String, BTreeMap<String, String>)>, AwsError> {
    let mut pages = aws.cloudmap.list_namespaces().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("servicediscovery:ListNamespaces", e))?;
        let tagged = futures::future::join_all(page.namespaces().iter().map(|ns| async move {
            let arn = ns.arn().unwrap_or_default();
            super::tags_of(aws, arn).await.map(|tags| (ns, tags))
        }))
        .await;
        for result in tagged {
            let (ns, found) = result?;
            if found.get(crate::spec::OWNER_TAG).map(String::as_str) == Some(owner) {
                return Ok(Some((
                    ns.arn().unwrap_or_default().to_string(),
                    ns.name().unwrap_or_default().to_string(),
                    found,
                )));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod namespace_calls {
    //! How many Cloud Map calls a namespace create and delete make, against a fake
    //! endpoint (issue #12: straight to the create and the delete).
    use serde_json::json;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;
    use crate::spec::platform::{NamespaceKind, NamespaceSpec};
    use crate::spec::OWNER_TAG;

    const ARN: &str = "arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-1";

    fn spec() -> NamespaceSpec {
        NamespaceSpec {
            kind: NamespaceKind::Http,
            name: "internal".into(),
            vpc_id: String::new(),
            description: "matbakh".into(),
            tags: [(OWNER_TAG.to_string(), "matbakh".to_string())]
                .into_iter()
                .collect(),
        }
    }

    fn answer(op: &str, owner: &'static str) -> (u16, serde_json::Value) {
        match op {
            "CreateHttpNamespace" if owner.is_empty() => (200, json!({"OperationId": "op-1"})),
            "CreateHttpNamespace" => (
                400,
                json!({"__type": "NamespaceAlreadyExists", "message": "Namespace internal already exists.",
                       "NamespaceId": "ns-1"}),
            ),
            "GetOperation" => (
                200,
                json!({"Operation": {"Id": "op-1", "Status": "SUCCESS",
                                     "Targets": {"NAMESPACE": "ns-1"}}}),
            ),
            "GetNamespace" => (
                200,
                json!({"Namespace": {"Id": "ns-1", "Arn": ARN, "Name": "internal", "Type": "HTTP"}}),
            ),
            "ListNamespaces" => (
                200,
                json!({"Namespaces": [{"Id": "ns-1", "Arn": ARN, "Name": "internal", "Type": "HTTP"}]}),
            ),
            "ListTagsForResource" => (200, json!({"Tags": [{"Key": OWNER_TAG, "Value": owner}]})),
            _ => (
                400,
                json!({"__type": "InvalidInput", "message": "not expected"}),
            ),
        }
    }

    #[tokio::test]
    async fn a_create_sends_the_create_first() {
        let fake = FakeEndpoint::start(|op, _| answer(op, ""));
        let arn = spec()
            .create(&fake.clients(), &Resolved::new())
            .await
            .expect("created");
        assert_eq!(arn, ARN);
        assert_eq!(
            fake.calls(),
            ["CreateHttpNamespace", "GetOperation", "GetNamespace"]
        );
    }

    #[tokio::test]
    async fn a_refused_name_is_looked_at_and_someone_elses_namespace_is_left_alone() {
        let fake = FakeEndpoint::start(|op, _| answer(op, "someone-else"));
        let err = spec()
            .create(&fake.clients(), &Resolved::new())
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(
            fake.calls(),
            [
                "CreateHttpNamespace",
                "ListNamespaces",
                "ListTagsForResource"
            ]
        );
    }

    #[tokio::test]
    async fn with_the_account_known_the_arn_needs_no_get_namespace() {
        let fake = FakeEndpoint::start(|op, _| answer(op, ""));
        let mut clients = fake.clients();
        clients.account_id = Some("123456789012".into());
        let arn = spec()
            .create(&clients, &Resolved::new())
            .await
            .expect("created");
        assert_eq!(arn, ARN);
        assert_eq!(fake.calls(), ["CreateHttpNamespace", "GetOperation"]);
    }

    /// A fake Cloud Map whose DeleteNamespace is refused `refusals` times
    /// (services remain) before it succeeds.
    fn deleting_after(refusals: usize) -> FakeEndpoint {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let deletes = AtomicUsize::new(0);
        FakeEndpoint::start(move |op, _| match op {
            "DeleteNamespace" if deletes.fetch_add(1, Ordering::SeqCst) < refusals => (
                400,
                json!({"__type": "ResourceInUse", "message": "namespace has services"}),
            ),
            "DeleteNamespace" => (200, json!({"OperationId": "op-2"})),
            "ListServices" => (200, json!({"Services": []})),
            "GetOperation" => (
                200,
                json!({"Operation": {"Id": "op-2", "Status": "SUCCESS", "Targets": {}}}),
            ),
            _ => (
                400,
                json!({"__type": "InvalidInput", "message": "not expected"}),
            ),
        })
    }

    #[tokio::test]
    async fn a_delete_is_sent_first_and_waits_for_services_only_when_refused() {
        // Nothing in the way: the delete and its operation only.
        let fake = deleting_after(0);
        spec().delete(&fake.clients(), ARN).await.expect("deleted");
        assert_eq!(fake.calls(), ["DeleteNamespace", "GetOperation"]);
        // Refused once: ECS has not removed its Service Connect service yet.
        let fake = deleting_after(1);
        spec().delete(&fake.clients(), ARN).await.expect("deleted");
        assert_eq!(
            fake.calls(),
            [
                "DeleteNamespace",
                "ListServices",
                "DeleteNamespace",
                "GetOperation"
            ]
        );
    }
}
