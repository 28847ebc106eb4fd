//! Application Auto Scaling objects of a microservice (ECS desired count).

use super::reference::Ref;

/// The ECS service as a scalable target. Its resource id
/// (`service/CLUSTER/NAME`) names the ECS service, which this resource owns,
/// so no owner tag is needed to adopt it (targets registered before they
/// carried tags are still this resource's); it carries the resource's tags
/// all the same, like every other object.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScalableTargetSpec {
    /// `service/CLUSTER/NAME`.
    pub resource_id: String,
    pub min_capacity: i32,
    pub max_capacity: i32,
    pub tags: super::tags::Tags,
}

/// A target-tracking policy on a predefined metric.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScalingPolicySpec {
    pub resource_id: String,
    pub name: String,
    /// `ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization`
    /// or `ALBRequestCountPerTarget` (with `resource_label`).
    pub metric: String,
    /// `ALBRequestCountPerTarget` only: which target group's requests.
    pub resource_label: Option<RequestCountLabel>,
    pub target_value: f64,
    pub scale_in_cooldown_seconds: i32,
    pub scale_out_cooldown_seconds: i32,
}

/// The `ResourceLabel` of an `ALBRequestCountPerTarget` policy, as the
/// graph knows it before the target groups exist: the label AWS takes is
/// `app/LB-NAME/LB-ID/targetgroup/TG-NAME/TG-ID`, for the one of the
/// service's two target groups that serves production traffic. Which one
/// that is, ECS decides in every release (it moves the production rule's
/// weights and swaps the service's target groups); the adapter reads it
/// from AWS whenever it writes or compares the label, so the policy follows
/// the live group and never pulls it back.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RequestCountLabel {
    /// `app/LB-NAME/LB-ID`: the final portion of the load balancer's ARN.
    pub load_balancer: String,
    /// The service's two target groups (blue, green).
    pub target_groups: [Ref; 2],
    /// The listener rule production traffic takes (its weights say which
    /// group serves it).
    pub production_rule: Ref,
    /// The ECS service (its ARN: its `loadBalancers` name the live group).
    pub service: Ref,
}

/// `app/NAME/ID` from a load balancer's or one of its listeners' ARNs
/// (`...:loadbalancer/app/NAME/ID`, `...:listener/app/NAME/ID/LISTENER`);
/// empty when the ARN is neither.
pub fn load_balancer_part(arn: &str) -> String {
    let Some((_, rest)) = arn
        .split_once(":loadbalancer/")
        .or_else(|| arn.split_once(":listener/"))
    else {
        return String::new();
    };
    rest.split('/').take(3).collect::<Vec<_>>().join("/")
}

/// The resource label for target group `target_group_arn`
/// (`...:targetgroup/NAME/ID`) behind load balancer `app/NAME/ID`.
pub fn resource_label(load_balancer: &str, target_group_arn: &str) -> String {
    let group = target_group_arn
        .split_once(":targetgroup/")
        .map(|(_, g)| g)
        .unwrap_or_default();
    format!("{load_balancer}/targetgroup/{group}")
}

/// Which of `groups` (blue, green ARNs) serves production traffic, from what
/// AWS says: the one the production rule gives the larger weight (`weights`,
/// by ARN, as read back); on a tie (both 0, or an even split mid-release)
/// the one the ECS service names as its `targetGroupArn`; else blue, where
/// the service starts.
pub fn live_target_group<'a>(
    groups: [&'a str; 2],
    weights: &[(String, u8)],
    service_target_group: Option<&str>,
) -> &'a str {
    let weight = |arn: &str| {
        weights
            .iter()
            .filter(|(a, _)| a == arn)
            .map(|(_, w)| u32::from(*w))
            .sum::<u32>()
    };
    let [blue, green] = groups;
    match weight(blue).cmp(&weight(green)) {
        std::cmp::Ordering::Greater => blue,
        std::cmp::Ordering::Less => green,
        std::cmp::Ordering::Equal if service_target_group == Some(green) => green,
        std::cmp::Ordering::Equal => blue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLUE: &str = "arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/matbakh-a-b/11";
    const GREEN: &str = "arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/matbakh-a-g/22";

    fn w(b: u8, g: u8) -> Vec<(String, u8)> {
        vec![(BLUE.to_string(), b), (GREEN.to_string(), g)]
    }

    #[test]
    fn the_live_group_is_the_one_the_production_rule_weighs_most() {
        // Before any release: blue.
        assert_eq!(
            live_target_group([BLUE, GREEN], &w(100, 0), Some(BLUE)),
            BLUE
        );
        // After a release ECS left green at 100: green, whatever the
        // service still names.
        assert_eq!(
            live_target_group([BLUE, GREEN], &w(0, 100), Some(BLUE)),
            GREEN
        );
        assert_eq!(
            live_target_group([BLUE, GREEN], &w(0, 100), Some(GREEN)),
            GREEN
        );
        // Mid-release the larger share.
        assert_eq!(
            live_target_group([BLUE, GREEN], &w(95, 5), Some(GREEN)),
            BLUE
        );
        assert_eq!(live_target_group([BLUE, GREEN], &w(10, 90), None), GREEN);
    }

    #[test]
    fn a_tie_goes_to_the_group_the_service_names_else_blue() {
        assert_eq!(
            live_target_group([BLUE, GREEN], &w(50, 50), Some(GREEN)),
            GREEN
        );
        assert_eq!(
            live_target_group([BLUE, GREEN], &w(50, 50), Some(BLUE)),
            BLUE
        );
        assert_eq!(live_target_group([BLUE, GREEN], &[], Some(GREEN)), GREEN);
        assert_eq!(live_target_group([BLUE, GREEN], &[], None), BLUE);
        assert_eq!(live_target_group([BLUE, GREEN], &[], Some("other")), BLUE);
    }

    #[test]
    fn labels_join_the_final_portions_of_the_two_arns() {
        let listener = "arn:aws:elasticloadbalancing:eu-central-1:1:listener/app/matbakh/50dc6c495c0c9188/f2f7dc8efc522ab2";
        let lb = load_balancer_part(listener);
        assert_eq!(lb, "app/matbakh/50dc6c495c0c9188");
        assert_eq!(
            load_balancer_part("arn:aws:elasticloadbalancing:eu-central-1:1:loadbalancer/app/matbakh/50dc6c495c0c9188"),
            lb
        );
        assert_eq!(load_balancer_part(""), "");
        assert_eq!(
            resource_label(&lb, GREEN),
            "app/matbakh/50dc6c495c0c9188/targetgroup/matbakh-a-g/22"
        );
    }
}
