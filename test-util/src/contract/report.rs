//! [`Report`] and [`Violation`]: what a contract check found.

use std::fmt;

use super::rule::Rule;

/// A rule the service broke, with what the kit observed.
///
/// Its [`Display`](fmt::Display) text names the rule (its variant, then its
/// sentence) and the observation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    rule: Rule,
    observed: String,
}

impl Violation {
    /// A violation of `rule`; only the kit makes them.
    pub(super) fn new(rule: Rule, observed: impl Into<String>) -> Self {
        Violation {
            rule,
            observed: observed.into(),
        }
    }

    /// The rule that broke.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// What the kit observed, as a sentence.
    pub fn observed(&self) -> &str {
        &self.observed
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule {:?} ({}) broken: {}",
            self.rule, self.rule, self.observed
        )
    }
}

/// The outcome of a contract check: the rules that held, those that broke
/// (with what was observed) and those skipped (with the reason given).
///
/// Returned by [`Contract::report`](super::Contract::report) and
/// [`Contract::report_cloneable`](super::Contract::report_cloneable);
/// [`Contract::check`](super::Contract::check) panics with its
/// [`Display`](fmt::Display) text when a rule broke.
///
/// # Examples
///
/// ```
/// use donjon_layer::Identity;
/// use donjon_test::contract::{Contract, Rule};
///
/// # tokio_test::block_on(async {
/// let report = Contract::new(Identity::new(), || "hello")
///     .report::<&str, &str>()
///     .await;
/// assert!(report.is_ok(), "{report}");
/// // `report` does not check the rule that needs a `Clone` service.
/// assert!(!report.held().contains(&Rule::CloneStartsUnready));
/// # });
/// ```
#[derive(Clone, Debug)]
#[must_use = "a report says nothing unless it is looked at, or asserted with `assert_ok`"]
pub struct Report {
    /// The layer's type name.
    layer: &'static str,
    held: Vec<Rule>,
    violations: Vec<Violation>,
    skipped: Vec<(Rule, &'static str)>,
}

impl Report {
    /// Sorts the outcomes: one violation per rule (the first observed),
    /// none for the rules that were skipped or not checked.
    pub(super) fn new(
        layer: &'static str,
        checked: &[Rule],
        skipped: Vec<(Rule, &'static str)>,
        observed: Vec<Violation>,
    ) -> Self {
        let mut violations: Vec<Violation> = Vec::new();
        for violation in observed {
            let rule = violation.rule;
            if checked.contains(&rule) && !violations.iter().any(|seen| seen.rule == rule) {
                violations.push(violation);
            }
        }
        violations.sort_by_key(|violation| violation.rule);
        let held = checked
            .iter()
            .copied()
            .filter(|rule| !violations.iter().any(|violation| violation.rule == *rule))
            .collect();
        Report {
            layer,
            held,
            violations,
            skipped,
        }
    }

    /// Whether no checked rule broke.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// The rules that broke, with what was observed: one violation per
    /// rule, in the order of [`Rule::ALL`].
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The rules that broke, in the order of [`Rule::ALL`].
    pub fn broken(&self) -> Vec<Rule> {
        self.violations.iter().map(Violation::rule).collect()
    }

    /// The rules that were checked and held, in the order of [`Rule::ALL`].
    pub fn held(&self) -> &[Rule] {
        &self.held
    }

    /// The rules skipped with [`Contract::skip`](super::Contract::skip),
    /// with their reasons, in the order they were skipped.
    pub fn skipped(&self) -> &[(Rule, &'static str)] {
        &self.skipped
    }

    /// Panics, with the report as its message, if a rule broke.
    ///
    /// # Panics
    ///
    /// If [`is_ok`](Report::is_ok) is `false`.
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.is_ok(), "{self}");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ok() {
            write!(f, "readiness contract kept by `{}`", self.layer)?;
        } else {
            write!(f, "readiness contract broken by `{}`", self.layer)?;
            for violation in &self.violations {
                write!(f, "\n- {violation}")?;
            }
        }
        if !self.held.is_empty() {
            f.write_str("\nheld:")?;
            for rule in &self.held {
                write!(f, " {rule:?}")?;
            }
        }
        for (rule, reason) in &self.skipped {
            write!(f, "\nskipped {rule:?}: {reason}")?;
        }
        Ok(())
    }
}
