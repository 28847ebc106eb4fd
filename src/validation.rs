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

/// Parse a duration in Go's grammar (`time.ParseDuration`, what Terraform
/// users know from other providers): a sequence of decimal numbers, each
/// with an optional fraction and a unit, like "300ms", "1.5h" or "1h30m".
/// Units: ns, us (or µs), ms, s, m, h. "0" alone is zero. A bare number is
/// an error (the unit is what makes a duration readable), and so is a sign:
/// no duration of this provider can be negative.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const EXAMPLES: &str = "e.g. \"30s\", \"5m\", \"1.5h\", \"1h30m\" or \"300ms\"";
    let text = text.trim();
    if text.is_empty() {
        return Err(format!(
            "empty duration; write a number with a unit, {EXAMPLES}"
        ));
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.starts_with(['-', '+']) {
        return Err(format!(
            "{text:?}: a duration here cannot have a sign; write {EXAMPLES}"
        ));
    }
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let whole_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let mut fraction = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let len = after_dot
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after_dot.len());
            fraction = &after_dot[..len];
            rest = &after_dot[len..];
        }
        if whole.is_empty() && fraction.is_empty() {
            return Err(format!(
                "{text:?} is not a duration; write a number with a unit, {EXAMPLES}"
            ));
        }
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let nanos_per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(format!(
                    "{text:?} has no unit; write e.g. \"{whole}{}{fraction}s\"",
                    if fraction.is_empty() { "" } else { "." }
                ))
            }
            other => {
                return Err(format!(
                    "{text:?}: unknown unit {other:?}; use ns, us, ms, s, m or h"
                ))
            }
        };
        let too_large = || format!("{text:?}: duration too large");
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_large())?
        };
        // The fraction exactly, truncated to whole nanoseconds as Go does.
        let mut part = whole.checked_mul(nanos_per_unit).ok_or_else(too_large)?;
        let mut scale = nanos_per_unit;
        for digit in fraction.bytes().take(30) {
            scale /= 10;
            part += u128::from(digit - b'0') * scale;
        }
        total = total.checked_add(part).ok_or_else(too_large)?;
        if total > u128::from(u64::MAX) {
            return Err(too_large());
        }
    }
    let total = u64::try_from(total).map_err(|_| format!("{text:?}: duration too large"))?;
    Ok(Duration::from_nanos(total))
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
    fn durations_in_go_grammar() {
        let cases = [
            ("1.5h", Duration::from_secs(5400)),
            ("1h30m", Duration::from_secs(5400)),
            ("300ms", Duration::from_millis(300)),
            ("2us", Duration::from_micros(2)),
            ("2\u{b5}s", Duration::from_micros(2)),
            ("2\u{3bc}s", Duration::from_micros(2)),
            ("7ns", Duration::from_nanos(7)),
            ("1.5s", Duration::from_millis(1500)),
            (".5s", Duration::from_millis(500)),
            ("1.s", Duration::from_secs(1)),
            ("0.1s", Duration::from_millis(100)),
            ("1h0.5m2s", Duration::from_secs(3632)),
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            // Go truncates below a nanosecond.
            ("1.0000000009s", Duration::from_nanos(1_000_000_000)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn durations_without_units_or_garbage_fail() {
        for bad in [
            "",
            "30",
            "s",
            ".s",
            "5 minutes",
            "-3s",
            "+3s",
            "3d",
            "1.5",
            "1h30",
            "1..5s",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should fail");
        }
        assert!(parse_duration("1.5").unwrap_err().contains("no unit"));
        assert!(parse_duration("3d").unwrap_err().contains("unknown unit"));
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
