//! What a run found: the checks, the figures, and the summary table.

use std::fmt;
use std::time::Duration;

/// One check of a run: what it checks, whether it held, and the figures
/// behind the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// The figures.
    pub detail: String,
}

impl Check {
    pub(crate) fn new(name: impl Into<String>, passed: bool, detail: String) -> Self {
        Check {
            name: name.into(),
            passed,
            detail,
        }
    }

    pub(crate) fn pass(name: impl Into<String>, detail: String) -> Self {
        Check::new(name, true, detail)
    }

    pub(crate) fn fail(name: impl Into<String>, detail: String) -> Self {
        Check::new(name, false, detail)
    }

    pub(crate) fn from_result(name: impl Into<String>, result: Result<(), String>) -> Self {
        match result {
            Ok(()) => Check::pass(name, "ok".to_owned()),
            Err(detail) => Check::fail(name, detail),
        }
    }
}

/// What the callers of one stack saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackReport {
    /// The stack's name.
    pub name: &'static str,
    /// Requests sent to it.
    pub issued: u64,
    /// Requests answered by an inner service.
    pub ok: u64,
    /// Requests answered by the fallback.
    pub by_fallback: u64,
    /// Successes after a failed first attempt (retries and hedges).
    pub rescued: u64,
    /// Errors, by kind, the kinds seen only.
    pub errors: Vec<(&'static str, u64)>,
    /// Requests whose injected panic reached the caller.
    pub panicked: u64,
    /// Requests the caller gave up on.
    pub cancelled: u64,
}

impl StackReport {
    /// Every error, whatever its kind.
    pub fn total_errors(&self) -> u64 {
        self.errors.iter().map(|(_, n)| n).sum()
    }
}

/// The resident memory of the process, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// `VmRSS`: resident now, in KiB.
    pub rss_kib: u64,
    /// `VmHWM`: the most resident so far, in KiB.
    pub peak_kib: u64,
}

impl Memory {
    /// The process's memory now; `None` where `/proc` does not say (not
    /// Linux).
    pub fn now() -> Option<Memory> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|line| line.starts_with(name))?;
            line[name.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        };
        Some(Memory {
            rss_kib: field("VmRSS:")?,
            peak_kib: field("VmHWM:")?,
        })
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.1} MiB resident, peak {:.1} MiB",
            self.rss_kib as f64 / 1024.0,
            self.peak_kib as f64 / 1024.0
        )
    }
}

/// Everything a run found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Requests sent.
    pub requests: u64,
    /// Callers sending them at once.
    pub concurrency: usize,
    /// The seed of the faults.
    pub seed: u64,
    /// How long the requests took, from the first to the last.
    pub elapsed: Duration,
    /// How long the whole run took, checks included.
    pub total: Duration,
    /// What the callers of each stack saw.
    pub stacks: Vec<StackReport>,
    /// Other figures, by name.
    pub figures: Vec<(String, String)>,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether every check held.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|check| check.passed)
    }

    /// The checks that did not hold.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|check| !check.passed)
    }

    /// Requests per second, over the requests' phase.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} requests, {} callers, seed {}: {:.2} s, {:.0} requests/s ({:.2} s with the checks)",
            self.requests,
            self.concurrency,
            self.seed,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.total.as_secs_f64(),
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<8} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9}",
            "stack", "issued", "ok", "fallback", "rescued", "errors", "panicked", "cancelled"
        )?;
        for stack in &self.stacks {
            writeln!(
                f,
                "{:<8} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9}",
                stack.name,
                stack.issued,
                stack.ok,
                stack.by_fallback,
                stack.rescued,
                stack.total_errors(),
                stack.panicked,
                stack.cancelled,
            )?;
        }
        writeln!(f)?;
        writeln!(f, "errors by kind")?;
        for stack in &self.stacks {
            let kinds: Vec<String> = stack
                .errors
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect();
            let kinds = if kinds.is_empty() {
                "none".to_owned()
            } else {
                kinds.join(", ")
            };
            writeln!(f, "  {:<8} {kinds}", stack.name)?;
        }
        writeln!(f)?;
        let width = self
            .figures
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0);
        for (name, value) in &self.figures {
            writeln!(f, "{name:<width$}  {value}")?;
        }
        writeln!(f)?;
        let failed = self.failures().count();
        writeln!(
            f,
            "checks: {} of {} hold",
            self.checks.len() - failed,
            self.checks.len()
        )?;
        for check in &self.checks {
            let verdict = if check.passed { "ok  " } else { "FAIL" };
            writeln!(f, "  [{verdict}] {}: {}", check.name, check.detail)?;
        }
        Ok(())
    }
}
