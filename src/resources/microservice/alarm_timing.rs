//! When a microservice's alarms fire: the period they look at and how
//! many of the last periods must breach.

/// Alarms look at one-minute periods and fire when 2 of the last 3 breach.
pub const ALARM_PERIOD_SECONDS: i32 = 60;
pub const ALARM_EVALUATION_PERIODS: i32 = 3;
pub const ALARM_DATAPOINTS: i32 = 2;
