//! The plan guard: whether a microservice plan takes its platform's
//! estimated monthly cost past the budget's thresholds. Pure: it takes the
//! budget and the costs as plain numbers (the resources gather them from
//! AWS and from the other plans of the same provider process).

use std::collections::BTreeMap;

/// What `plan_guard` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Warnings only.
    Warn,
    /// An error past the last threshold.
    Enforce,
    /// Nothing.
    Off,
}

impl Mode {
    /// A `plan_guard` value; anything unknown is `warn`, the default.
    pub fn parse(text: &str) -> Mode {
        match text {
            "enforce" => Mode::Enforce,
            "off" => Mode::Off,
            _ => Mode::Warn,
        }
    }
}

/// A platform's budget as the guard sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// USD a month.
    pub limit: f64,
    /// Percent of the limit, ascending.
    pub thresholds: Vec<f64>,
    pub mode: Mode,
}

/// A plan's change to one service's estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub service: String,
    /// USD a month now (0 for a new service).
    pub before: f64,
    /// USD a month once the plan is applied.
    pub after: f64,
}

/// What the guard says: a warning or an error, in Terraform's terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub error: bool,
    pub summary: String,
    pub detail: String,
}

/// How many services the message names.
const BIGGEST: usize = 3;

/// Judge `change` on platform `platform` whose other services cost
/// `others` (by name; the changed service is left out of it). Nothing when
/// the guard is off, the plan does not raise the cost, or the sum stays
/// within the first threshold: a plan that lowers the cost never fails.
pub fn judge(
    platform: &str,
    budget: &Budget,
    change: &Change,
    others: &BTreeMap<String, f64>,
) -> Option<Verdict> {
    if budget.mode == Mode::Off || change.after <= change.before || budget.limit <= 0.0 {
        return None;
    }
    let mut costs: Vec<(&str, f64)> = others
        .iter()
        .filter(|(name, _)| *name != &change.service)
        .map(|(n, c)| (n.as_str(), *c))
        .collect();
    costs.push((change.service.as_str(), change.after));
    let sum: f64 = costs.iter().map(|(_, c)| c).sum();
    let percent = sum / budget.limit * 100.0;
    let crossed = budget.thresholds.iter().copied().rfind(|t| percent > *t)?;
    let last = budget.thresholds.last().copied().unwrap_or(crossed);
    let error = crossed >= last && budget.mode == Mode::Enforce;
    costs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let biggest: Vec<String> = costs
        .iter()
        .take(BIGGEST)
        .map(|(n, c)| format!("{n} ${c:.2}"))
        .collect();
    let summary = format!(
        "Platform {platform:?} would cost ${sum:.2} a month, past {crossed}% of its ${:.2} budget",
        budget.limit
    );
    let detail = format!(
        "With this plan the estimated monthly cost of platform {platform:?} is ${sum:.2}, {percent:.0}% of its budget's monthly_limit ${:.2}, past the {crossed}% threshold. \
         {} goes from ${:.2} to ${:.2}. Biggest services: {}.{}",
        budget.limit,
        change.service,
        change.before,
        change.after,
        biggest.join(", "),
        if error {
            " plan_guard = \"enforce\" refuses a plan past the last threshold: lower the cost (desired_count, cpu, memory, spot_percent) or raise the platform's budget.monthly_limit."
        } else {
            ""
        }
    );
    Some(Verdict {
        error,
        summary,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(mode: Mode) -> Budget {
        Budget {
            limit: 100.0,
            thresholds: vec![80.0, 95.0],
            mode,
        }
    }

    fn others(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    fn new_service(after: f64) -> Change {
        Change {
            service: "new".into(),
            before: 0.0,
            after,
        }
    }

    #[test]
    fn within_the_first_threshold_says_nothing() {
        let o = others(&[("a", 40.0)]);
        assert_eq!(
            judge("p", &budget(Mode::Enforce), &new_service(40.0), &o),
            None
        );
    }

    #[test]
    fn past_the_first_warns_and_past_the_last_fails_only_under_enforce() {
        let o = others(&[("a", 40.0), ("b", 30.0)]);
        let warned = judge("p", &budget(Mode::Enforce), &new_service(15.0), &o).unwrap();
        assert!(!warned.error);
        assert!(warned.summary.contains("past 80%"), "{}", warned.summary);
        let failed = judge("p", &budget(Mode::Enforce), &new_service(30.0), &o).unwrap();
        assert!(failed.error);
        for part in [
            "$100.00",
            "$100.00",
            "95%",
            "a $40.00",
            "new $30.00",
            "b $30.00",
        ] {
            assert!(failed.detail.contains(part), "{part}: {}", failed.detail);
        }
        let warn = judge("p", &budget(Mode::Warn), &new_service(30.0), &o).unwrap();
        assert!(!warn.error);
        assert_eq!(judge("p", &budget(Mode::Off), &new_service(30.0), &o), None);
    }

    #[test]
    fn a_plan_that_lowers_the_cost_never_fails() {
        let o = others(&[("a", 90.0)]);
        let lower = Change {
            service: "b".into(),
            before: 30.0,
            after: 20.0,
        };
        assert_eq!(judge("p", &budget(Mode::Enforce), &lower, &o), None);
    }

    #[test]
    fn the_changed_service_counts_once() {
        // Its old figure in `others` (read from AWS) is replaced by the plan's.
        let o = others(&[("a", 50.0), ("b", 40.0)]);
        let change = Change {
            service: "b".into(),
            before: 40.0,
            after: 41.0,
        };
        assert!(
            !judge("p", &budget(Mode::Enforce), &change, &o)
                .unwrap()
                .error
        );
    }
}
