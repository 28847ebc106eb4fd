//! The provider's `environment` and the defaults it drives.

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Staging,
    Production,
}

impl Environment {
    pub const NAMES: [&'static str; 3] = ["development", "staging", "production"];

    pub fn parse(name: &str) -> Option<Environment> {
        match name {
            "development" => Some(Environment::Development),
            "staging" => Some(Environment::Staging),
            "production" => Some(Environment::Production),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }

    /// Share of tasks on FARGATE_SPOT, percent.
    pub fn default_spot_percent(self) -> i64 {
        match self {
            Environment::Development => 50,
            Environment::Staging => 80,
            Environment::Production => 0,
        }
    }

    /// CloudWatch Logs retention, days.
    pub fn default_log_retention_days(self) -> i64 {
        match self {
            Environment::Development => 7,
            Environment::Staging | Environment::Production => 30,
        }
    }

    /// Share of requests traced by the ADOT collector.
    pub fn default_trace_sampling(self) -> f64 {
        match self {
            Environment::Development => 0.5,
            Environment::Staging | Environment::Production => 0.1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract_table() {
        let d = Environment::Development;
        let s = Environment::Staging;
        let p = Environment::Production;
        assert_eq!(
            [d, s, p].map(Environment::default_spot_percent),
            [50, 80, 0]
        );
        assert_eq!(
            [d, s, p].map(Environment::default_log_retention_days),
            [7, 30, 30]
        );
        assert_eq!(
            [d, s, p].map(Environment::default_trace_sampling),
            [0.5, 0.1, 0.1]
        );
    }

    #[test]
    fn parses_only_the_three_names() {
        for name in Environment::NAMES {
            assert_eq!(Environment::parse(name).unwrap().name(), name);
        }
        assert_eq!(Environment::parse("prod"), None);
        assert_eq!(Environment::parse("Production"), None);
    }
}
