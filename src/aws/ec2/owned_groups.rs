//! The security groups the provider owns, listed once for every refresh of
//! a process, and the paged DescribeSecurityGroups every read of groups
//! goes through.
//!
//! Each microservice behind the load balancer has a group of its own
//! (`PLATFORM-NAME-alb`), which its refresh looks up by name (recovery)
//! and by id (observation): two calls per microservice. Terraform runs a
//! plan's (or an import's) refreshes in a process of their own that writes
//! nothing (see `elbv2::refresh_shared`), so there one listing of every
//! group carrying the provider's owner key (`tag-key` filter, 1,000 a page)
//! answers them all, as the owned alarms' listing does for CloudWatch. A
//! group the listing does not name (deleted, its owner tag removed, made a
//! moment ago by another process) is asked for on its own: gone reads as
//! gone, untagged reads as drift. Anything but a refresh (an apply, a
//! destroy, a plan step) asks AWS.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_ec2::types::{Filter, SecurityGroup};

use crate::aws::{AwsError, Clients};

const CALL: &str = "ec2:DescribeSecurityGroups";

/// DescribeSecurityGroups' largest page (botocore: `MaxResults` 5-1000).
pub const PAGE: i32 = 1000;

/// The owned groups of the region, by group id.
#[derive(Debug, Default)]
pub struct Listing {
    by_id: HashMap<String, SecurityGroup>,
}

impl Listing {
    /// The listed group of id `id`.
    pub fn by_id(&self, id: &str) -> Option<&SecurityGroup> {
        self.by_id.get(id)
    }

    /// The listed group named `name` in VPC `vpc` (names are unique per VPC).
    pub fn named(&self, name: &str, vpc: &str) -> Option<&SecurityGroup> {
        self.by_id
            .values()
            .find(|g| g.group_name() == Some(name) && g.vpc_id() == Some(vpc))
    }
}

const LISTING: &str = "ec2:DescribeSecurityGroups tag-key matbakh:owner (refresh)";

/// In a refresh (its clients remember reads), every security group of the
/// region that carries the provider's owner key, listed once for the whole
/// process (a listing that fails is not kept). `None` outside a refresh.
pub async fn refresh_listing(aws: &Clients) -> Result<Option<Arc<Listing>>, AwsError> {
    if aws.memo.is_none() {
        return Ok(None);
    }
    let listing = aws
        .gatherers
        .shared::<tokio::sync::OnceCell<Arc<Listing>>>(LISTING)
        .get_or_try_init(|| async {
            let owned = Filter::builder()
                .name("tag-key")
                .values(crate::spec::OWNER_TAG)
                .build();
            let groups = described(aws, vec![owned]).await?;
            let by_id = groups
                .into_iter()
                .filter_map(|g| Some((g.group_id()?.to_string(), g)))
                .collect();
            Ok::<_, AwsError>(Arc::new(Listing { by_id }))
        })
        .await?
        .clone();
    Ok(Some(listing))
}

/// Every group matching all of `filters`, page by page. Filters, not
/// `GroupIds`: EC2 refuses a whole call naming one group that does not
/// exist (`InvalidGroup.NotFound`), while a filter leaves it out.
pub async fn described(
    aws: &Clients,
    filters: Vec<Filter>,
) -> Result<Vec<SecurityGroup>, AwsError> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = aws
            .ec2
            .describe_security_groups()
            .set_filters(Some(filters.clone()))
            .max_results(PAGE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        found.extend(out.security_groups().iter().cloned());
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(found);
        }
    }
}
