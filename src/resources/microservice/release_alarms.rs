//! A release's rollback alarms, built from the share of traffic the
//! release gives the new revision (issue #19 item 3).
//!
//! On Service Connect there is no metric per revision: the old and the new
//! revision share one ECS service and one discovery name, so the alarms see
//! the service's error rate. A new revision at share `s` (percent) that
//! fails every request raises it to about `s` %: with the user's 5 % and a
//! 2 % canary it could never trip. The release's error-rate alarm therefore
//! fires above `error_rate_percent × s / 100`, the service's rate when the
//! new revision fails at `error_rate_percent` and the old one not at all:
//! a new revision failing every request trips it at any share it is given.
//! What it cannot tell: whose the errors are. Errors of the old revision
//! count too, so a service that already fails more than that during a
//! release is rolled back (the docs say so).
//!
//! Latency is diluted the same way, but no threshold on the service's
//! Average can be scaled to the share: a slower revision moves it by
//! `s × (its latency − the old one's)`, and the old revision's latency is
//! no number known at plan. The one statistic Service Connect serves
//! (Average, Minimum, Maximum) that a slow new revision moves at any share
//! is the **Maximum**: the slowest answer of a minute is the new
//! revision's as soon as it served one request slower than every old one.
//! So a release that gives the new revision less than everything rolls back
//! on `release-latency-maximum`, the Maximum above `p95_latency_ms`. What
//! it cannot tell: whose the slow answer is. An old revision whose slowest
//! answer of a minute already exceeds `p95_latency_ms` rolls the release
//! back too. With ingress each revision is watched apart (per target
//! group).
//!
//! The microservice's own operational alarms keep the user's thresholds; a
//! release whose smallest share is 100 % (rolling, blue/green) rolls back on
//! them as before.

use super::config::Settings;
use super::names;
use crate::spec::cloudwatch::{MetricAlarmSpec, MetricQuerySpec};
use crate::spec::deployment_strategy::DeploymentStrategy;
use crate::spec::{Component, Spec, Tags};

/// Component key of the release's no-traffic alarm.
pub const ALARM_RELEASE_NO_TRAFFIC: &str = "alarm_release_no_traffic";
/// Its name's last part: `PLATFORM-NAME-release-no-traffic`.
pub const RELEASE_NO_TRAFFIC: &str = "release-no-traffic";

/// Component key of the release's error-rate alarm.
pub const ALARM_RELEASE_ERROR_RATE: &str = "alarm_release_error_rate";
/// Its name's last part: `PLATFORM-NAME-release-error-rate`.
pub const RELEASE_ERROR_RATE: &str = "release-error-rate";

/// Component key of the release's latency alarm.
pub const ALARM_RELEASE_LATENCY: &str = "alarm_release_latency";
/// Its name's last part, after the statistic it reads:
/// `PLATFORM-NAME-release-latency-maximum`.
pub const RELEASE_LATENCY: &str = "release-latency-maximum";
/// The statistic of the release's latency alarm: the one a slow new
/// revision moves at any share.
pub const RELEASE_LATENCY_STAT: &str = "Maximum";

/// The smallest share of production traffic, percent, a deployment of
/// `strategy` gives the new revision: its first step.
pub fn smallest_share_percent(strategy: &DeploymentStrategy) -> f64 {
    match strategy {
        DeploymentStrategy::Canary { percent_tenths, .. } => f64::from(*percent_tenths) / 10.0,
        DeploymentStrategy::Linear {
            step_percent_tenths,
            ..
        } => f64::from(*step_percent_tenths) / 10.0,
        DeploymentStrategy::Rolling | DeploymentStrategy::BlueGreen { .. } => 100.0,
    }
}

/// The service's error rate, percent, when a new revision at `share`
/// percent fails at `error_rate_percent` and the old one never.
pub fn scaled_error_rate(error_rate_percent: f64, share_percent: f64) -> f64 {
    error_rate_percent * share_percent.clamp(0.0, 100.0) / 100.0
}

/// The release's latency alarm, from the operational one (`latency`, on
/// the service's latency query) and the share the new revision first gets:
/// the same series read as its Maximum, above `p95_latency_ms`.
pub fn release_latency_alarm(
    latency: &MetricAlarmSpec,
    name: String,
    service: &str,
    p95_latency_ms: f64,
    share_percent: f64,
) -> MetricAlarmSpec {
    let mut alarm = latency.clone();
    for query in &mut alarm.metrics {
        if let Some(m) = query.metric.as_mut() {
            m.stat = RELEASE_LATENCY_STAT.to_string();
        }
    }
    alarm.name = name;
    alarm.threshold = p95_latency_ms;
    alarm.description = format!(
        "{service}: a release rolls back when the slowest answer of the whole service (Maximum, \
         not the Average) exceeds {p95_latency_ms} ms: at its first {share_percent}% of the \
         traffic a slower new revision moves the Average by only that share of its extra latency \
         (Service Connect has no metric per revision)"
    );
    alarm
}

/// Whether the release needs an error-rate alarm of its own: not behind
/// the load balancer, whose per-target-group alarms see the new revision
/// apart, undiluted (see `ingress_alarms`).
fn scaled(settings: &Settings) -> Option<f64> {
    if settings.ingress.is_some() {
        return None;
    }
    let d = &settings.deployment;
    let share = smallest_share_percent(&d.strategy);
    (d.rollback_on_alarms && share < 100.0).then_some(share)
}

/// Whether the release needs a no-traffic alarm: it shifts traffic and
/// rolls back on alarms.
fn watches_silence(settings: &Settings) -> bool {
    let d = &settings.deployment;
    d.rollback_on_alarms && d.strategy.shifts_traffic()
}

/// The service's requests in a step below which the new revision, at
/// `share_percent`, is expected to have served fewer than `min_requests`.
pub fn silence_threshold(min_requests: u32, share_percent: f64) -> f64 {
    f64::from(min_requests) * 100.0 / share_percent.clamp(0.1, 100.0)
}

/// "Never promote on silence", measured over the step (issue #19 item 4):
/// the service's `RequestCount` summed over one period as long as a step,
/// below what gives the new revision `min_requests` at its share, is ALARM;
/// no data is no request (breaching). CloudWatch judges the last whole
/// period, so at a step's end it has seen the step.
pub fn no_traffic_alarm(
    settings: &Settings,
    platform_id: &str,
    mut requests: MetricQuerySpec,
    tags: &Tags,
) -> Option<MetricAlarmSpec> {
    if !watches_silence(settings) {
        return None;
    }
    let d = &settings.deployment;
    let share = smallest_share_percent(&d.strategy);
    let step_seconds = i32::try_from(d.step_minutes().max(1) * 60).unwrap_or(86_400);
    requests.return_data = true;
    if let Some(m) = requests.metric.as_mut() {
        m.period_seconds = step_seconds;
    }
    let threshold = silence_threshold(d.min_requests(), share);
    Some(MetricAlarmSpec {
        name: names::alarm_name(platform_id, &settings.name, RELEASE_NO_TRAFFIC),
        description: format!(
            "{}: fewer than {threshold} requests in {} minutes (one step): at its first {share}% \
             the new revision would serve fewer than min_requests = {}; a release never promotes \
             on silence",
            settings.name,
            step_seconds / 60,
            d.min_requests()
        ),
        metrics: vec![requests],
        comparison_operator: "LessThanThreshold".to_string(),
        threshold,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        treat_missing_data: "breaching".to_string(),
        actions: Vec::new(),
        tags: tags.clone(),
    })
}

/// The release's own alarms (none when it rolls back on the operational
/// ones), from the operational error-rate and latency alarms and the
/// service's `requests` query.
pub fn components(
    settings: &Settings,
    platform_id: &str,
    error_rate: &MetricAlarmSpec,
    latency: &MetricAlarmSpec,
    requests: MetricQuerySpec,
    tags: &Tags,
) -> Vec<Component> {
    let mut out: Vec<Component> = no_traffic_alarm(settings, platform_id, requests, tags)
        .map(|a| Component::new(ALARM_RELEASE_NO_TRAFFIC, Spec::MetricAlarm(a)))
        .into_iter()
        .collect();
    let Some(share) = scaled(settings) else {
        return out;
    };
    let mut alarm = error_rate.clone();
    let threshold = scaled_error_rate(settings.alarms.error_rate_percent, share);
    alarm.name = names::alarm_name(platform_id, &settings.name, RELEASE_ERROR_RATE);
    alarm.threshold = threshold;
    alarm.description = format!(
        "{}: a release rolls back above {threshold}% failed (5xx) requests of the whole service: \
         what the service shows when the new revision, at its first {share}% of the traffic, fails \
         more than {}% of its requests (Service Connect has no metric per revision)",
        settings.name, settings.alarms.error_rate_percent
    );
    out.push(Component::new(
        ALARM_RELEASE_ERROR_RATE,
        Spec::MetricAlarm(alarm),
    ));
    out.push(Component::new(
        ALARM_RELEASE_LATENCY,
        Spec::MetricAlarm(release_latency_alarm(
            latency,
            names::alarm_name(platform_id, &settings.name, RELEASE_LATENCY),
            &settings.name,
            settings.alarms.p95_latency_ms,
            share,
        )),
    ));
    out
}

/// The alarms the ECS deployment rolls back on; `latency` is the latency
/// alarm's name part.
pub fn rollback_alarm_names(settings: &Settings, platform_id: &str, latency: &str) -> Vec<String> {
    if !settings.deployment.rollback_on_alarms {
        return Vec::new();
    }
    let (errors, latency) = if scaled(settings).is_some() {
        (RELEASE_ERROR_RATE, RELEASE_LATENCY)
    } else {
        ("error-rate", latency)
    };
    let mut what = vec![errors.to_string(), latency.to_string()];
    if watches_silence(settings) {
        what.push(RELEASE_NO_TRAFFIC.to_string());
    }
    what.iter()
        .map(|what| names::alarm_name(platform_id, &settings.name, what))
        .collect()
}

/// The plan warning when, at `per_minute` requests a minute (the service's
/// last hour), a step gives the new revision fewer than twice
/// `min_requests` (a count that small is mostly luck: at an expected 2 the
/// chance of none is one in seven).
pub fn silence_warning(settings: &Settings, per_minute: f64) -> Option<(String, String)> {
    if !watches_silence(settings) {
        return None;
    }
    let d = &settings.deployment;
    step_silence_warning(
        &StepTraffic {
            service: &settings.name,
            share_percent: smallest_share_percent(&d.strategy),
            step_minutes: d.step_minutes().max(1),
            min_requests: d.min_requests(),
            per_minute,
        },
        &format!("Raise bake_time or the share, or lower min_requests ({RELEASE_NO_TRAFFIC})."),
    )
}

/// A release's first step as the silence warning sees it.
pub struct StepTraffic<'a> {
    /// The microservice's name.
    pub service: &'a str,
    /// The new revision's share of the traffic in the step, percent.
    pub share_percent: f64,
    pub step_minutes: u32,
    pub min_requests: u32,
    /// The service's requests a minute (its last hour).
    pub per_minute: f64,
}

/// The warning, shared by a microservice's `deployment` and a
/// `matbakh_canary`, that a step can hardly give the new revision
/// `min_requests`: expected fewer than twice that many. `advice` names the
/// arguments to change.
pub fn step_silence_warning(step: &StepTraffic, advice: &str) -> Option<(String, String)> {
    let StepTraffic {
        service,
        share_percent: share,
        step_minutes: minutes,
        min_requests: min,
        per_minute,
    } = *step;
    let expected = per_minute * f64::from(minutes) * share / 100.0;
    (expected < 2.0 * f64::from(min)).then(|| {
        (
            format!("{service}: a release can hardly reach min_requests"),
            format!(
                "In the last hour {service} served about {per_minute:.1} requests a minute, so a step of {minutes} minutes at {share}% gives the new revision about {expected:.1} requests; it must serve min_requests = {min}, or the release rolls back on silence. {advice}"
            ),
        )
    })
}

/// The service's requests a minute over the last hour, as the release's
/// no-traffic alarm counts them; `None` without data (a service not created
/// yet, or silent: its release's alarm says so then).
pub async fn recent_requests_per_minute(
    clients: &crate::aws::Clients,
    requests: MetricQuerySpec,
) -> Option<f64> {
    let m = requests.metric?;
    crate::aws::cloudwatch::traffic::per_minute(
        clients,
        &m.namespace,
        &m.metric_name,
        &m.dimensions,
        std::time::Duration::from_secs(3600),
    )
    .await
    .ok()
    .flatten()
}

/// Whether a plan of `settings` looks at the service's traffic.
pub fn warns_about_silence(settings: &Settings) -> bool {
    watches_silence(settings)
}

/// Keep the configured `deployment.min_requests` in recovered arguments.
pub fn keep_min_requests(arguments: &mut crate::tf::value::Value, settings: &Settings) {
    use crate::tf::value::Value;
    let Some(n) = settings.deployment.min_requests else {
        return;
    };
    if let Value::Map(m) = arguments {
        if let Some(Value::List(items)) = m.get_mut("deployment") {
            if let Some(block) = items.first_mut() {
                block.set("min_requests", Value::from(i64::from(n)));
            }
        }
    }
}

#[cfg(test)]
#[path = "release_alarms_tests.rs"]
mod tests;
