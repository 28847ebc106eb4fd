//! The VPC of a subnet: where the provider's security groups and target
//! groups go (they are made in the VPC of the service's subnets).
//!
//! A subnet never moves to another VPC (EC2 has no call that would move
//! it), so the answer for a subnet id holds for the life of the process,
//! whatever it writes: the microservices of a platform share its subnets,
//! and N of them planned, refreshed or created ask EC2 once, not N times.
//! Concurrent asks for one subnet wait for the one in flight; an answer
//! that fails (the subnet gone, throttled) is not kept.

use crate::aws::read_memo::ReadMemo;
use crate::aws::{AwsError, Clients};

const CALL: &str = "ec2:DescribeSubnets";

/// The process's answers, by subnet id.
const VPCS: &str = "EC2 subnets: the VPC of each asked for";

/// The id of the VPC subnet `subnet_id` is in; an error when EC2 does not
/// know the subnet.
pub async fn vpc_of(aws: &Clients, subnet_id: &str) -> Result<String, AwsError> {
    aws.gatherers
        .shared::<ReadMemo>(VPCS)
        .remembered(subnet_id.to_string(), || async {
            let out = aws
                .ec2
                .describe_subnets()
                .subnet_ids(subnet_id)
                .send()
                .await
                .map_err(|e| AwsError::sdk(CALL, e))?;
            out.subnets()
                .first()
                .and_then(|s| s.vpc_id())
                .map(str::to_string)
                .ok_or_else(|| AwsError::new(CALL, format!("subnet {subnet_id} not found")))
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;

    /// EC2 knowing `subnet-1` (in `vpc-1`) and `subnet-2` (in `vpc-2`);
    /// the first DescribeSubnets of `subnet-2` fails once.
    fn ec2() -> FakeEndpoint {
        let failed = Arc::new(AtomicUsize::new(0));
        FakeEndpoint::start(move |op, request| {
            assert_eq!(op, "DescribeSubnets");
            let subnet = request["SubnetId.1"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if subnet == "subnet-2" && failed.fetch_add(1, Ordering::SeqCst) == 0 {
                return (
                    503,
                    Value::String(
                        "<Response><Errors><Error><Code>Unavailable</Code><Message>try again</Message></Error></Errors></Response>"
                            .into(),
                    ),
                );
            }
            let vpc = subnet.replace("subnet", "vpc");
            (
                200,
                Value::String(format!(
                    "<DescribeSubnetsResponse><subnetSet><item><subnetId>{subnet}</subnetId>\
                     <vpcId>{vpc}</vpcId></item></subnetSet></DescribeSubnetsResponse>"
                )),
            )
        })
    }

    #[tokio::test]
    async fn a_subnet_is_asked_for_once_per_process_a_failure_is_not_kept() {
        let fake = ec2();
        let aws = fake.clients();
        // Thirty microservices on one subnet, asked at once and later, by
        // refreshes (their own memo) and by plain clients alike.
        let asks = (0..30).map(|i| {
            let aws = if i % 2 == 0 {
                aws.remembering_reads()
            } else {
                aws.clone()
            };
            async move { vpc_of(&aws, "subnet-1").await }
        });
        for vpc in futures::future::join_all(asks).await {
            assert_eq!(vpc.unwrap(), "vpc-1");
        }
        assert_eq!(vpc_of(&aws, "subnet-1").await.unwrap(), "vpc-1");
        assert_eq!(fake.calls(), ["DescribeSubnets"]);
        // Another subnet is asked for; its failed answer is asked again.
        assert!(vpc_of(&aws, "subnet-2").await.is_err());
        assert_eq!(vpc_of(&aws, "subnet-2").await.unwrap(), "vpc-2");
        assert_eq!(vpc_of(&aws, "subnet-2").await.unwrap(), "vpc-2");
        assert_eq!(fake.calls().len(), 3, "{:?}", fake.calls());
    }
}
