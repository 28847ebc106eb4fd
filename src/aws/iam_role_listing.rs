//! The account's IAM roles, listed once for every refresh of a provider
//! process: one paged `GetAccountAuthorizationDetails` with `Filter=Role`
//! answers every role read and every by-name role lookup of the process.
//!
//! Each role of its `RoleDetailList` carries what a refresh compares: its
//! ARN and path, tags, trust policy, every inline policy with its document
//! (URL-encoded, as GetRolePolicy's) and its attached managed policies.
//! Read role by role, a microservice's refresh costs six IAM calls (GetRole
//! of its task role and of the two roles a recovery looks for by name, the
//! task role's ListRolePolicies, ListAttachedRolePolicies and
//! GetRolePolicy); listed, a plan of any number of microservices costs one
//! call per page of the account's roles. A role absent from the complete
//! listing is absent.
//!
//! Only a refresh uses it (clients that remember a refresh's reads, see
//! [`super::read_memo`]): Terraform runs a plan's (or an import's)
//! refreshes in a process of its own that writes nothing, so one listing
//! stands for all of them, as the Cloud Map namespace's listing does
//! (`cloudmap::service_connect_discovery`). An apply or destroy reads role
//! by role: it must see its own writes.
//!
//! The listing is used however few roles the process reads. Terraform
//! hands the provider one resource at a time, so the first role read
//! cannot know whether others follow; and even a plan of a single
//! microservice reads three roles (six calls) while a page holds up to
//! 1,000 roles, the whole of an account at IAM's default quota of roles.
//! Only a plan of one microservice in an account of several thousand roles
//! pays a few calls more, in pages sent one after another.
//!
//! A principal whose policy does not grant the action (a deployer policy
//! older than it) is refused with `AccessDenied`: the process then reads
//! role by role, as before, with one warning in the log. Any other error
//! reaches the reader, and is not kept: the next reader asks again.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_iam::types::{EntityType, RoleDetail};

use super::{AwsError, Clients};

const CALL: &str = "iam:GetAccountAuthorizationDetails";

/// Roles a page: the most `MaxItems` takes (IAM API reference,
/// GetAccountAuthorizationDetails).
const PAGE: i32 = 1000;

/// The account's roles by name.
pub type Roles = Arc<HashMap<String, RoleDetail>>;

#[derive(Default)]
enum Listing {
    #[default]
    NotYet,
    Listed(Roles),
    /// The caller may not list: read role by role.
    Denied,
}

/// The account's roles by name, listed once for the refreshes of this
/// process; `None` where the caller reads role by role instead (not a
/// refresh, or the listing is not allowed).
pub async fn listed_roles(aws: &Clients) -> Result<Option<Roles>, AwsError> {
    if aws.memo.is_none() {
        return Ok(None);
    }
    let listing = aws
        .gatherers
        .shared::<tokio::sync::Mutex<Listing>>("iam:GetAccountAuthorizationDetails (refresh)");
    // Readers that come while the pages are asked wait for them.
    let mut listing = listing.lock().await;
    match &*listing {
        Listing::Listed(roles) => return Ok(Some(roles.clone())),
        Listing::Denied => return Ok(None),
        Listing::NotYet => {}
    }
    match list_roles(aws).await {
        Ok(roles) => {
            let roles = Arc::new(roles);
            *listing = Listing::Listed(roles.clone());
            Ok(Some(roles))
        }
        Err(e) if is_denied(&e) => {
            tracing::warn!(
                error = %e,
                "reading IAM roles one by one: the credentials may not call iam:GetAccountAuthorizationDetails, which reads them all at once (the deployer policy grants it)"
            );
            *listing = Listing::Denied;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn is_denied(e: &AwsError) -> bool {
    matches!(
        e.code.as_deref(),
        Some("AccessDenied" | "AccessDeniedException")
    )
}

/// Every role of the account, page by page.
async fn list_roles(aws: &Clients) -> Result<HashMap<String, RoleDetail>, AwsError> {
    let mut pages = aws
        .iam
        .get_account_authorization_details()
        .filter(EntityType::Role)
        .max_items(PAGE)
        .into_paginator()
        .send();
    let mut roles = HashMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk(CALL, e))?;
        for role in page.role_detail_list() {
            if let Some(name) = role.role_name() {
                roles.insert(name.to_string(), role.clone());
            }
        }
    }
    Ok(roles)
}
