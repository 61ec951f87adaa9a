//! A chaos soak: many requests through stacks of donjon's middleware, with
//! faults injected, and checks that nothing leaks, hangs or answers twice.
//!
//! [`run`] builds a multi-thread tokio runtime and four stacks, as users
//! stack middleware:
//!
//! - **server**: `LoadShed` with a bounded wait, `TotalTimeout`,
//!   `CircuitBreaker` (fail fast), `AdaptiveConcurrencyLimit` (AIMD),
//!   `ConcurrencyLimit` on a semaphore, `RateLimit`;
//! - **client**: `Fallback`, `RequestTimeout`, `Retry` within a
//!   `TpsBudget`, `Buffer`, `Hedge`, `Buffer`, p2c `Balance` (peak EWMA,
//!   background readiness) over a `Discover` stream of endpoints that
//!   join, leave and are replaced, each a `CircuitBreaker` (not-ready
//!   mode);
//! - **pool**: two services sharing a `GlobalConcurrencyLimitLayer`, each
//!   behind a `Timeout`;
//! - **worker**: a `Buffer` over `SpawnReady` over a `ConcurrencyLimit`,
//!   whose inner service panics or fails its readiness now and then, which
//!   kills the buffer's worker; a supervisor builds a new buffer.
//!
//! Callers (as many as `--concurrency`) take requests in turn; each
//! request's plan (which stack, which fault, how slow, when the
//! caller gives up) follows from the seed and its number. The inner
//! services fail, panic (in `call`, in `poll_ready`, in their response
//! futures), answer after latency spikes, and flap their readiness
//! (`Pending` then a wake-up from a timer, or an error). Callers drop
//! clones of services waiting in `poll_ready` or holding a reservation, and
//! drop response futures unpolled, after one poll, or after a delay.
//!
//! What a panic of an inner service should do, and what the soak checks:
//! nothing in donjon catches the panic of a response future (as in tower),
//! so it unwinds to the caller through every middleware's future, and
//! every permit, slot and place those futures held must be given back as
//! they are dropped. A buffer catches the panics of its service's
//! `poll_ready` and `call`: its callers get
//! [`ServiceError`](donjon::buffer::error::ServiceError) instead.
//!
//! Then the run [checks](Report::checks): every request ended exactly once,
//! with an outcome its stack and its plan allow; the inner services saw
//! each request at most as often as retries and hedges allow; every inner
//! response future ended; every semaphore permit, adaptive slot, buffer
//! place and retry budget came back; the breakers close again under
//! healthy traffic; no task is left; the memory at the end is not much
//! more than after the warm-up; and no panic but the injected ones. A
//! watchdog thread ends the process with the state of every caller and
//! stack if the run stops progressing.
//!
//! Time is tokio's clock, on real time: the latencies are a millisecond or
//! so, spikes tens of milliseconds.

mod backend;
mod caller;
mod config;
mod ledger;
mod panics;
mod plan;
mod report;
mod rng;
mod stacks;
mod watchdog;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

pub use self::config::{Config, USAGE, parse_args};
use self::ledger::{Attempts, ErrorKind, Ledger};
use self::plan::StackKind;
pub use self::report::{Check, Memory, Report, StackReport};
use self::stacks::{Env, Stacks, lock};
use self::watchdog::Watchdog;

/// How far a run has got, readable from another thread (to draw a
/// progress bar).
#[derive(Debug)]
pub struct Progress {
    done: AtomicU64,
    /// Moves with every request done and every step of the checks: what
    /// the watchdog watches.
    ticks: AtomicU64,
    phase: Mutex<&'static str>,
}

impl Progress {
    /// Nothing done yet.
    pub fn new() -> Self {
        Progress {
            done: AtomicU64::new(0),
            ticks: AtomicU64::new(0),
            phase: Mutex::new("starting"),
        }
    }

    /// Requests done.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// What the run is doing: `starting`, `requests`, `checks`,
    /// `teardown`, `done`.
    pub fn phase(&self) -> &'static str {
        *lock(&self.phase)
    }

    fn advance(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.ticks.fetch_add(1, Ordering::Relaxed);
    }

    fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    fn set_phase(&self, phase: &'static str) {
        *lock(&self.phase) = phase;
        self.ticks.fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

/// What the callers and the watchdog share.
#[derive(Debug)]
struct Shared {
    config: Config,
    ledger: Ledger,
    /// The next request's number.
    next: AtomicU64,
    /// What each caller is doing (see [`caller::Step`]).
    callers: Vec<AtomicU64>,
    progress: Arc<Progress>,
}

/// Memory may grow to this many times its size after the warm-up, plus
/// [`MEMORY_SLACK_KIB`], before the run fails.
const MEMORY_FACTOR: u64 = 2;
const MEMORY_SLACK_KIB: u64 = 16 * 1024;

/// Runs the soak on a runtime of its own, and reports what it found.
///
/// A run that stops progressing for `config.stall` (at least 30 s once the
/// requests are done) ends the process with status 1, after printing the
/// state of every caller and stack.
///
/// # Panics
///
/// If the tokio runtime cannot be built.
pub fn run(config: &Config, progress: Arc<Progress>) -> Report {
    panics::install();
    let started = std::time::Instant::now();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(threads) = config.threads {
        runtime.worker_threads(threads);
    }
    let runtime = runtime.build().expect("a tokio runtime");
    let mut report = runtime.block_on(soak(config.clone(), progress, runtime.handle().clone()));
    drop(runtime);
    report.total = started.elapsed();
    report
}

async fn soak(config: Config, progress: Arc<Progress>, runtime: tokio::runtime::Handle) -> Report {
    let (injected_before, unexpected_before) = panics::counts();
    let attempts = Arc::new(Attempts::new(config.requests));
    let shared = Arc::new(Shared {
        ledger: Ledger::new(config.requests, Arc::clone(&attempts)),
        next: AtomicU64::new(0),
        callers: (0..config.concurrency).map(|_| AtomicU64::new(0)).collect(),
        progress: Arc::clone(&progress),
        config: config.clone(),
    });
    let tasks_before = runtime.metrics().num_alive_tasks();
    let stacks = Arc::new(Stacks::new(Env {
        seed: config.seed,
        calm: Arc::new(AtomicBool::new(false)),
        attempts,
    }));
    let warmup = (config.requests / 5).max(1);
    let watchdog = Watchdog::start(
        Arc::clone(&shared),
        Arc::downgrade(&stacks),
        runtime.clone(),
        warmup,
    );

    progress.set_phase("requests");
    let start = Instant::now();
    let callers: Vec<_> = (0..config.concurrency)
        .map(|index| {
            tokio::spawn(caller::caller(
                Arc::clone(&shared),
                Arc::clone(&stacks),
                index,
            ))
        })
        .collect();
    let mut failed_callers = Vec::new();
    for caller in callers {
        if let Err(error) = caller.await {
            failed_callers.push(error.to_string());
        }
    }
    let elapsed = start.elapsed();

    progress.set_phase("checks");
    let ledger = &shared.ledger;
    let mut checks = Vec::new();
    for stack in StackKind::ALL {
        checks.push(Check::from_result(
            format!("{stack}: every request answered or cancelled, once"),
            ledger.stack(stack).balanced(),
        ));
    }
    let issued: u64 = StackKind::ALL
        .iter()
        .map(|&stack| ledger.stack(stack).issued.load(Ordering::SeqCst))
        .sum();
    checks.push(Check::new(
        "every request issued was recorded",
        issued == config.requests && progress.done() == config.requests,
        format!(
            "{issued} issued, {} recorded, of {}",
            progress.done(),
            config.requests
        ),
    ));
    let violations = ledger.violations.count();
    checks.push(Check::new(
        "every outcome allowed by its stack and its plan",
        violations == 0,
        if violations == 0 {
            "no violation".to_owned()
        } else {
            format!(
                "{violations} violations; the first:\n      {}",
                ledger.violations.first().join("\n      ")
            )
        },
    ));
    let audit = ledger.audit_attempts(config.seed);
    let inner_calls = *audit.as_ref().unwrap_or(&0);
    checks.push(Check::from_result(
        "inner services saw each request at most as often as allowed",
        audit.map(|_| ()),
    ));
    checks.push(Check::new(
        "every caller task finished",
        failed_callers.is_empty(),
        if failed_callers.is_empty() {
            format!("{} callers", config.concurrency)
        } else {
            failed_callers.join("; ")
        },
    ));
    checks.extend(stacks.check(elapsed, config.concurrency).await);
    progress.set_phase("teardown");

    let mut figures = stack_figures(&stacks);
    let leftovers = stacks.leftovers();
    drop(stacks);
    // The buffers' workers end once their handles are gone, and the
    // balancers' readiness tasks are aborted with them: give them a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut tasks_after = runtime.metrics().num_alive_tasks();
    while tasks_after > tasks_before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
        tasks_after = runtime.metrics().num_alive_tasks();
    }
    checks.extend(leftovers.check());
    let samples = watchdog.stop();
    checks.push(Check::new(
        "no task left running",
        tasks_after == tasks_before,
        format!(
            "{tasks_after} alive after the run, {tasks_before} before; at most {} during it",
            samples.peak_tasks
        ),
    ));
    let end_memory = Memory::now();
    checks.push(memory_check(samples.warm, end_memory, config.requests));
    let (injected_after, unexpected_after) = panics::counts();
    let unexpected = unexpected_after - unexpected_before;
    checks.push(Check::new(
        "no panic but the injected ones",
        unexpected == 0,
        match panics::first_unexpected() {
            Some(first) if unexpected > 0 => format!("{unexpected}; the first: {first}"),
            _ => format!("{} injected, none other", injected_after - injected_before),
        },
    ));

    figures.insert(0, ("inner calls".to_owned(), inner_calls.to_string()));
    if let Some((done, memory)) = samples.warm {
        figures.push((format!("memory after {done} requests"), memory.to_string()));
    }
    if let Some(memory) = end_memory {
        figures.push(("memory at the end".to_owned(), memory.to_string()));
    }
    figures.push((
        "tasks".to_owned(),
        format!("at most {} alive at once", samples.peak_tasks),
    ));
    progress.set_phase("done");
    Report {
        requests: config.requests,
        concurrency: config.concurrency,
        seed: config.seed,
        elapsed,
        total: Duration::ZERO,
        stacks: StackKind::ALL
            .iter()
            .map(|&stack| {
                let books = ledger.stack(stack);
                StackReport {
                    name: stack.name(),
                    issued: books.issued.load(Ordering::SeqCst),
                    ok: books.ok.load(Ordering::SeqCst),
                    by_fallback: books.by_fallback.load(Ordering::SeqCst),
                    rescued: books.rescued.load(Ordering::SeqCst),
                    errors: ErrorKind::ALL
                        .iter()
                        .map(|&kind| (kind.name(), books.errors(kind)))
                        .filter(|(_, n)| *n > 0)
                        .collect(),
                    panicked: books.panicked.load(Ordering::SeqCst),
                    cancelled: books.cancelled.load(Ordering::SeqCst),
                }
            })
            .collect(),
        figures,
        checks,
    }
}

/// The figures only the stacks know.
fn stack_figures(stacks: &Stacks) -> Vec<(String, String)> {
    let (deposits, granted, refused) = stacks.client.retry_figures();
    let mut figures = vec![
        (
            "client endpoint changes".to_owned(),
            stacks.client.churn_figures(),
        ),
        (
            "client retries".to_owned(),
            format!(
                "{granted} granted, {refused} refused by the budget, {deposits} successes paid in"
            ),
        ),
        (
            "worker buffer".to_owned(),
            format!(
                "{} rebuilds after its worker died",
                stacks.worker.supervisor.rebuilds()
            ),
        ),
    ];
    for backend in stacks.backends() {
        figures.push((backend.name.to_owned(), backend.figures()));
    }
    figures
}

/// Memory at the end against memory after the warm-up.
fn memory_check(warm: Option<(u64, Memory)>, end: Option<Memory>, requests: u64) -> Check {
    let name = "memory flat after the warm-up";
    let mib = |kib: u64| kib as f64 / 1024.0;
    match (warm, end) {
        (Some((done, warm)), Some(end)) => {
            let limit = warm.peak_kib * MEMORY_FACTOR + MEMORY_SLACK_KIB;
            let growth = end.peak_kib.saturating_sub(warm.peak_kib) as f64 * 1024.0
                / requests.saturating_sub(done).max(1) as f64;
            Check::new(
                name,
                end.peak_kib <= limit,
                format!(
                    "peak {:.1} MiB after {done} requests, {:.1} MiB at the end ({growth:.1} \
                     bytes per request since; limit {:.1} MiB); resident {:.1} MiB then, {:.1} \
                     MiB at the end",
                    mib(warm.peak_kib),
                    mib(end.peak_kib),
                    mib(limit),
                    mib(warm.rss_kib),
                    mib(end.rss_kib),
                ),
            )
        }
        _ => Check::pass(name, "not measured: no /proc/self/status".to_owned()),
    }
}
