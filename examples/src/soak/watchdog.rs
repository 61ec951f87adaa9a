//! The watchdog: a thread of its own (it must work when the runtime is
//! stuck) that samples the run, and ends the process with the state of
//! every caller and stack when nothing has progressed for too long, so
//! that a hang fails loudly instead of hanging.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use super::Shared;
use super::caller::Step;
use super::plan::{Plan, StackKind};
use super::report::Memory;
use super::stacks::Stacks;

/// What the watchdog measured while the run went on.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Samples {
    /// The most tasks alive at once.
    pub(crate) peak_tasks: usize,
    /// Memory once the warm-up was over, and how many requests that was.
    pub(crate) warm: Option<(u64, Memory)>,
}

/// The running watchdog.
#[derive(Debug)]
pub(crate) struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Samples>,
}

impl Watchdog {
    /// Starts watching; memory is sampled once `warmup` requests are done.
    pub(crate) fn start(
        shared: Arc<Shared>,
        stacks: Weak<Stacks>,
        runtime: Handle,
        warmup: u64,
    ) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("soak-watchdog".to_owned())
                .spawn(move || watch(&shared, &stacks, &runtime, warmup, &stop))
                .expect("the watchdog thread starts")
        };
        Watchdog { stop, thread }
    }

    /// Stops watching, and returns what was sampled.
    pub(crate) fn stop(self) -> Samples {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("the watchdog does not panic")
    }
}

fn watch(
    shared: &Shared,
    stacks: &Weak<Stacks>,
    runtime: &Handle,
    warmup: u64,
    stop: &AtomicBool,
) -> Samples {
    let mut samples = Samples::default();
    let mut last = shared.progress.ticks();
    let mut since = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
        samples.peak_tasks = samples.peak_tasks.max(runtime.metrics().num_alive_tasks());
        let done = shared.progress.done();
        if samples.warm.is_none() && done >= warmup {
            samples.warm = Memory::now().map(|memory| (done, memory));
        }
        let ticks = shared.progress.ticks();
        if ticks != last {
            (last, since) = (ticks, Instant::now());
        } else if since.elapsed() > allowance(shared) {
            let stall = allowance(shared);
            eprintln!("{}", dump(shared, stacks, runtime, stall));
            eprintln!("soak: FAILED: the run stalled (no progress for {stall:?})");
            std::process::exit(1);
        }
    }
    samples
}

/// How long the run may go without progress: `--stall-secs` while the
/// requests run; after them, at least 30 s, since a check may wait a few
/// seconds (for a breaker to close, a budget to refill) without a tick.
fn allowance(shared: &Shared) -> Duration {
    match shared.progress.phase() {
        "requests" => shared.config.stall,
        _ => shared.config.stall.max(Duration::from_secs(30)),
    }
}

/// What every caller and stack is doing.
fn dump(shared: &Shared, stacks: &Weak<Stacks>, runtime: &Handle, stall: Duration) -> String {
    let mut lines = vec![format!(
        "\nsoak: no progress for {stall:?} in phase '{}', {} of {} requests done; the state:",
        shared.progress.phase(),
        shared.progress.done(),
        shared.config.requests,
    )];
    for (index, slot) in shared.callers.iter().enumerate() {
        if let Some((id, step)) = Step::describe(slot.load(Ordering::Relaxed)) {
            let plan = Plan::new(shared.config.seed, id);
            lines.push(format!(
                "  caller {index}: request {id} to {} ({:?}, {:?}, {:?}), {step}",
                plan.stack, plan.request.fault, plan.request.latency, plan.cancel
            ));
        }
    }
    match stacks.upgrade() {
        Some(stacks) => lines.extend(stacks.state().into_iter().map(|line| format!("  {line}"))),
        None => lines.push("  (the stacks are dropped)".to_owned()),
    }
    lines.push(format!(
        "  tasks alive: {}",
        runtime.metrics().num_alive_tasks()
    ));
    for stack in StackKind::ALL {
        lines.push(format!(
            "  {stack}: {}",
            shared.ledger.stack(stack).summary()
        ));
    }
    lines.join("\n")
}
