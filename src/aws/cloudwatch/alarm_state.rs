//! Reading and resetting the state of alarms: what a canary's walk watches,
//! and what a deployment's rollback alarms are when it starts.

use aws_sdk_cloudwatch::types::StateValue;

use crate::aws::{AwsError, Clients};

/// An alarm found in the ALARM state, with CloudWatch's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firing {
    pub alarm: String,
    pub reason: String,
}

async fn describe(
    aws: &Clients,
    names: &[String],
) -> Result<aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput, AwsError> {
    aws.cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(|e| AwsError::sdk("cloudwatch:DescribeAlarms", e))
}

/// The first of `names` in ALARM, if any. OK and INSUFFICIENT_DATA (a
/// candidate without traffic yet) are quiet; an alarm that does not exist is
/// an error, since nothing would be watching.
pub async fn first_firing(aws: &Clients, names: &[String]) -> Result<Option<Firing>, AwsError> {
    const CALL: &str = "cloudwatch:DescribeAlarms";
    let out = describe(aws, names).await?;
    for name in names {
        let Some(alarm) = out
            .metric_alarms()
            .iter()
            .find(|a| a.alarm_name() == Some(name.as_str()))
        else {
            return Err(AwsError::new(
                CALL,
                format!("alarm {name} does not exist: the walk cannot be watched"),
            ));
        };
        if alarm.state_value() == Some(&StateValue::Alarm) {
            return Ok(Some(Firing {
                alarm: name.clone(),
                reason: alarm
                    .state_reason()
                    .unwrap_or("no reason given")
                    .to_string(),
            }));
        }
    }
    Ok(None)
}

/// Set `names` to OK: a new candidate version starts with a clean slate
/// instead of the verdict on the previous one. CloudWatch evaluates the
/// alarms again at their next period.
pub async fn reset(aws: &Clients, names: &[String], reason: &str) -> Result<(), AwsError> {
    for name in names {
        aws.cloudwatch
            .set_alarm_state()
            .alarm_name(name)
            .state_value(StateValue::Ok)
            .state_reason(reason)
            .send()
            .await
            .map_err(|e| AwsError::sdk("cloudwatch:SetAlarmState", e))?;
    }
    Ok(())
}

/// Set those of `names` in ALARM to OK, and say which: before a deployment
/// with rollback alarms starts, because ECS watches none of them for the
/// whole deployment when one is in ALARM at its start. Alarms in OK or
/// INSUFFICIENT_DATA are left as they are (no transition, no notification);
/// CloudWatch evaluates the reset ones again at their next period.
pub async fn clear_alarm(
    aws: &Clients,
    names: &[String],
    reason: &str,
) -> Result<Vec<String>, AwsError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let out = describe(aws, names).await?;
    let firing: Vec<String> = out
        .metric_alarms()
        .iter()
        .filter(|a| a.state_value() == Some(&StateValue::Alarm))
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect();
    reset(aws, &firing, reason).await?;
    Ok(firing)
}
