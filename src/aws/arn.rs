//! ARNs the provider writes itself, in the forms AWS documents, where that
//! saves asking AWS for one it just made.

/// The AWS partition of `region`: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`
/// or `aws-iso-b`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// A Cloud Map namespace's ARN
/// (`arn:PARTITION:servicediscovery:REGION:ACCOUNT:namespace/ID`); `None`
/// when the account is not known.
pub fn namespace(region: &str, account: Option<&str>, id: &str) -> Option<String> {
    let account = account.filter(|a| !a.is_empty())?;
    Some(format!(
        "arn:{}:servicediscovery:{region}:{account}:namespace/{id}",
        partition(region)
    ))
}

/// A CloudWatch dashboard's ARN (`arn:PARTITION:cloudwatch::ACCOUNT:dashboard/NAME`:
/// dashboards belong to the account, not a region); `None` when the
/// account is not known.
pub fn dashboard(region: &str, account: Option<&str>, name: &str) -> Option<String> {
    let account = account.filter(|a| !a.is_empty())?;
    Some(format!(
        "arn:{}:cloudwatch::{account}:dashboard/{name}",
        partition(region)
    ))
}

/// A CloudWatch metric alarm's ARN
/// (`arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME`); `None` when the
/// account is not known.
pub fn alarm(region: &str, account: Option<&str>, name: &str) -> Option<String> {
    let account = account.filter(|a| !a.is_empty())?;
    Some(format!(
        "arn:{}:cloudwatch:{region}:{account}:alarm:{name}",
        partition(region)
    ))
}

/// A CloudWatch Logs log group's ARN in the form GetResources and
/// TagResource use (`arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME`,
/// without DescribeLogGroups' trailing `:*`); `None` when the account is
/// not known.
pub fn log_group(region: &str, account: Option<&str>, name: &str) -> Option<String> {
    let account = account.filter(|a| !a.is_empty())?;
    Some(format!(
        "arn:{}:logs:{region}:{account}:log-group:{name}",
        partition(region)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_by_partition() {
        assert_eq!(namespace("eu-central-1", None, "ns-1"), None);
        assert_eq!(
            namespace("eu-central-1", Some("123456789012"), "ns-1").as_deref(),
            Some("arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-1")
        );
        assert_eq!(
            namespace("cn-north-1", Some("1"), "ns-1").as_deref(),
            Some("arn:aws-cn:servicediscovery:cn-north-1:1:namespace/ns-1")
        );
        assert_eq!(
            dashboard("us-gov-west-1", Some("1"), "d").as_deref(),
            Some("arn:aws-us-gov:cloudwatch::1:dashboard/d")
        );
        assert_eq!(dashboard("eu-central-1", Some(""), "d"), None);
        assert_eq!(
            log_group("eu-central-1", Some("1"), "/matbakh/p/s").as_deref(),
            Some("arn:aws:logs:eu-central-1:1:log-group:/matbakh/p/s")
        );
        assert_eq!(log_group("eu-central-1", None, "g"), None);
        assert_eq!(
            alarm("eu-central-1", Some("1"), "p-s-cpu").as_deref(),
            Some("arn:aws:cloudwatch:eu-central-1:1:alarm:p-s-cpu")
        );
    }
}
