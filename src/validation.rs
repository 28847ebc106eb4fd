//! Plan-time validation: problems that name the attribute they are about.
//!
//! Validators run on configuration before any AWS call. Values still unknown
//! at plan time arrive as absent and are not judged.

use std::time::Duration;

/// One step of the path to an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Attr(String),
    Index(i64),
    Key(String),
}

/// A validation failure: where, what, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<PathStep>,
    pub summary: String,
    pub detail: String,
}

impl Problem {
    /// A problem at a dotted attribute path: `"health_check.0.path"` gives
    /// Attr(health_check), Index(0), Attr(path).
    pub fn at(path: &str, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        let path = path
            .split('.')
            .map(|s| match s.parse::<i64>() {
                Ok(i) => PathStep::Index(i),
                Err(_) => PathStep::Attr(s.to_string()),
            })
            .collect();
        Problem {
            path,
            summary: summary.into(),
            detail: detail.into(),
        }
    }

    /// The dotted form of the path, for messages and tests.
    pub fn dotted(&self) -> String {
        self.path
            .iter()
            .map(|s| match s {
                PathStep::Attr(a) => a.clone(),
                PathStep::Index(i) => i.to_string(),
                PathStep::Key(k) => format!("[{k:?}]"),
            })
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// Parse a duration string with a unit: "200ms", "30s", "5m", "1h".
/// Combinations like "1m30s" are accepted too. A bare number is an error:
/// the unit is what makes a duration readable.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration; write a number with a unit, e.g. \"30s\"".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("{text:?} is not a duration; write a number with a unit, e.g. \"30s\", \"5m\", \"200ms\""));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?}: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number * 60),
            "h" => Duration::from_secs(number * 3600),
            "" => return Err(format!("{text:?} has no unit; write e.g. \"{number}s\"")),
            other => {
                return Err(format!(
                    "{text:?}: unknown unit {other:?}; use ms, s, m or h"
                ))
            }
        };
        total += part;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_duration("200ms").unwrap(), Duration::from_millis(200));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
    }

    #[test]
    fn durations_without_units_or_garbage_fail() {
        for bad in ["", "30", "s", "5 minutes", "1.5s", "-3s", "3d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn problem_paths_from_dotted() {
        let p = Problem::at("health_check.0.path", "bad", "detail");
        assert_eq!(
            p.path,
            vec![
                PathStep::Attr("health_check".into()),
                PathStep::Index(0),
                PathStep::Attr("path".into())
            ]
        );
        assert_eq!(p.dotted(), "health_check.0.path");
    }
}
