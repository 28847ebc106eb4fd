//! The monthly cost estimate of a microservice (`estimated_monthly_cost`).
//!
//! What is counted, per month of 730 hours:
//!
//! * Fargate: `tasks × (vCPU × vCPU-hour price + GB × GB-hour price) × 730`,
//!   the task size being the cheapest Fargate size holding every container
//!   (see [`crate::fargate`]). `tasks` is `desired_count`,
//!   or `min_count` when autoscaling is on (the floor the service never goes
//!   below). The share `spot_percent` of the tasks runs at the spot price.
//! * CloudWatch alarms: $0.10 per standard-resolution alarm *metric* per
//!   month. The error-rate alarm is metric math over two metrics and is
//!   billed as 2; the p95 latency and CPU alarms as 1 each: $0.40 together.
//! * CloudWatch dashboard: $3.00 per month (the free tier of three
//!   dashboards per account is not taken into account).
//! * Cloud Map: $0.10 per registered instance (task) per month.
//!
//! Not counted: log ingestion and storage, DNS queries, data transfer, ECR
//! and Envoy's own traffic: they depend on usage, not on configuration.
//! App Mesh has no charge of its own.
//!
//! Prices: see [`crate::fargate`].

use crate::fargate::smallest_fargate_size;
pub use crate::fargate::{FargatePrice, FargatePrices, SPOT_PRICE_FACTOR};

/// Hours in an average month, as AWS's own calculator counts them.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Standard-resolution alarm, per metric and month.
pub const ALARM_METRIC_MONTHLY: f64 = 0.10;
/// Alarm metrics of one microservice: error rate (2, metric math), p95
/// latency (1) and CPU (1).
pub const ALARM_METRICS: f64 = 4.0;
pub const DASHBOARD_MONTHLY: f64 = 3.00;
pub const CLOUD_MAP_INSTANCE_MONTHLY: f64 = 0.10;

/// What the estimate is computed from: the configuration's plain numbers
/// (the resources fill it; the cost model knows none of them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// Tasks that always run: `desired_count`, or `min_count` with
    /// autoscaling.
    pub tasks: i64,
    /// The containers' CPU units and MiB together.
    pub cpu: i64,
    pub memory: i64,
    /// The share (0-100) of the tasks on Fargate Spot.
    pub spot_percent: i64,
    pub dashboard: bool,
}

/// Estimated USD per month, rounded to cents. A task no Fargate size holds
/// (rejected at plan anyway) is priced at zero.
pub fn estimated_monthly_cost(workload: &Workload, region: &str) -> f64 {
    let tasks = workload.tasks.max(0) as f64;
    let fargate = match smallest_fargate_size(workload.cpu, workload.memory) {
        Ok(size) => {
            let prices = FargatePrices::for_region(region);
            let spot_share = workload.spot_percent.clamp(0, 100) as f64 / 100.0;
            let hourly = prices.on_demand.hourly(size) * (1.0 - spot_share)
                + prices.spot.hourly(size) * spot_share;
            tasks * hourly * HOURS_PER_MONTH
        }
        Err(_) => 0.0,
    };
    let alarms = ALARM_METRICS * ALARM_METRIC_MONTHLY;
    let dashboard = if workload.dashboard {
        DASHBOARD_MONTHLY
    } else {
        0.0
    };
    let cloud_map = tasks * CLOUD_MAP_INSTANCE_MONTHLY;
    round_cents(fargate + alarms + dashboard + cloud_map)
}

fn round_cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::resources::microservice::config::{AutoscalingConfig, MicroserviceConfig, Settings};

    fn workload(cpu: i64, memory: i64, spot: i64) -> Workload {
        let config = MicroserviceConfig {
            cpu: Some(cpu),
            memory: Some(memory),
            spot_percent: Some(spot),
            ..Default::default()
        };
        Settings::resolve_unchecked(&config, Environment::Production).workload()
    }

    #[test]
    fn reference_service_on_demand_in_us_east_1() {
        // 512/1024 + Envoy + ADOT -> 1 vCPU / 2 GB; 2 tasks.
        let s = workload(512, 1024, 0);
        let task_hour = 0.04048 + 2.0 * 0.004445;
        let expected = 2.0 * task_hour * 730.0 + 0.40 + 3.00 + 0.20;
        assert_eq!(
            estimated_monthly_cost(&s, "us-east-1"),
            round_cents(expected)
        );
        assert_eq!(estimated_monthly_cost(&s, "us-east-1"), 75.68);
    }

    #[test]
    fn spot_share_and_region() {
        let on_demand = estimated_monthly_cost(&workload(512, 1024, 0), "eu-central-1");
        let half_spot = estimated_monthly_cost(&workload(512, 1024, 50), "eu-central-1");
        let task_month = 2.0 * (0.04656 + 2.0 * 0.00511) * 730.0;
        assert_eq!(on_demand, round_cents(task_month + 3.60));
        assert_eq!(
            half_spot,
            round_cents(task_month * (0.5 + 0.5 * 0.3) + 3.60)
        );
    }

    #[test]
    fn unknown_regions_use_us_east_1_prices() {
        let s = workload(512, 1024, 0);
        assert_eq!(
            estimated_monthly_cost(&s, "sa-east-1"),
            estimated_monthly_cost(&s, "us-east-1")
        );
        assert!(
            estimated_monthly_cost(&s, "ap-southeast-1") > estimated_monthly_cost(&s, "us-east-1")
        );
    }

    #[test]
    fn autoscaling_counts_the_minimum_and_no_dashboard_saves_three_dollars() {
        let mut config = MicroserviceConfig {
            cpu: Some(512),
            memory: Some(1024),
            desired_count: Some(2),
            autoscaling: Some(AutoscalingConfig {
                min_count: Some(1),
                max_count: Some(10),
                ..Default::default()
            }),
            ..Default::default()
        };
        let one = Settings::resolve_unchecked(&config, Environment::Production).workload();
        let task_month = (0.04048 + 2.0 * 0.004445) * 730.0;
        assert_eq!(
            estimated_monthly_cost(&one, "us-east-1"),
            round_cents(task_month + 3.50)
        );
        config.dashboard = Some(false);
        let no_dash = Settings::resolve_unchecked(&config, Environment::Production).workload();
        assert_eq!(
            estimated_monthly_cost(&no_dash, "us-east-1"),
            round_cents(task_month + 0.50)
        );
    }
}
