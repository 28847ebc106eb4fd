//! The shapes of AWS identifiers a configuration names: resource ids
//! (`subnet-…`, `sg-…`) and ARNs of the kinds it takes.

pub(super) fn is_aws_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        (8..=17).contains(&hex.len())
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` with a known partition.
fn arn_parts(arn: &str) -> Option<[&str; 5]> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    let partition_ok = partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|p| {
            !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        });
    if !partition_ok || service.is_empty() || resource.is_empty() {
        return None;
    }
    Some([partition, service, region, account, resource])
}

fn is_account(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

pub(super) fn is_arn(arn: &str) -> bool {
    arn_parts(arn).is_some()
}

pub(super) fn is_iam_role_arn(arn: &str) -> bool {
    matches!(arn_parts(arn), Some([_, "iam", "", account, resource])
        if is_account(account) && resource.strip_prefix("role/").is_some_and(|r| !r.is_empty() && !r.ends_with('/')))
}

pub(super) fn is_secret_arn(arn: &str) -> bool {
    match arn_parts(arn) {
        Some([_, "secretsmanager", region, account, resource]) => {
            !region.is_empty()
                && is_account(account)
                && resource
                    .strip_prefix("secret:")
                    .is_some_and(|r| !r.is_empty())
        }
        Some([_, "ssm", region, account, resource]) => {
            !region.is_empty()
                && is_account(account)
                && resource
                    .strip_prefix("parameter/")
                    .is_some_and(|r| !r.is_empty())
        }
        _ => false,
    }
}

pub(super) fn is_acm_pca_arn(arn: &str) -> bool {
    matches!(arn_parts(arn), Some([_, "acm-pca", region, account, resource])
        if !region.is_empty() && is_account(account) && resource.starts_with("certificate-authority/") && resource.len() > 22)
}
