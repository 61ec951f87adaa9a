//! The soak's books: what each request's caller saw, per stack, and how
//! many times the inner services saw each request; and the rules every
//! outcome must follow.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use donjon::BoxError;
use donjon::buffer::error::{Closed, ServiceError};
use donjon::circuit_breaker::error::CircuitOpen;
use donjon::load_shed::error::Overloaded;
use donjon::timeout::error::Elapsed;

use super::backend::{InjectedError, NotReady};
use super::plan::{Fault, Plan, Reply, Source, StackKind};

/// How many times the inner services saw each request: one counter per
/// request, written through at creation so that its memory is resident
/// before the warm-up is measured.
#[derive(Debug)]
pub(crate) struct Attempts {
    counts: Vec<AtomicU8>,
}

impl Attempts {
    pub(crate) fn new(requests: u64) -> Self {
        let counts: Vec<AtomicU8> = (0..requests).map(|_| AtomicU8::new(0)).collect();
        touch(&counts, |count| count.store(0, Ordering::Relaxed));
        Attempts { counts }
    }

    /// Counts one attempt at request `id`; returns how many came before it.
    /// Requests outside the run (the checks' own) are not counted.
    pub(crate) fn record(&self, id: u64) -> u8 {
        match self.counts.get(id as usize) {
            Some(count) => count.fetch_add(1, Ordering::Relaxed),
            None => 0,
        }
    }

    pub(crate) fn get(&self, id: u64) -> u8 {
        self.counts
            .get(id as usize)
            .map_or(0, |count| count.load(Ordering::Relaxed))
    }
}

/// The kinds of error a caller can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// The inner service's injected failure, as it is.
    Injected,
    /// The inner service's injected readiness failure.
    NotReady,
    /// Shed by `LoadShed`.
    Overloaded,
    /// A timeout.
    Elapsed,
    /// Refused by an open circuit breaker.
    CircuitOpen,
    /// A buffer whose inner service failed or panicked.
    BufferFailed,
    /// A buffer whose worker went away otherwise.
    BufferClosed,
    /// Anything else: never expected.
    Other,
}

impl ErrorKind {
    pub(crate) const ALL: [ErrorKind; 8] = [
        ErrorKind::Injected,
        ErrorKind::NotReady,
        ErrorKind::Overloaded,
        ErrorKind::Elapsed,
        ErrorKind::CircuitOpen,
        ErrorKind::BufferFailed,
        ErrorKind::BufferClosed,
        ErrorKind::Other,
    ];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            ErrorKind::Injected => "injected",
            ErrorKind::NotReady => "not ready",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Elapsed => "elapsed",
            ErrorKind::CircuitOpen => "circuit open",
            ErrorKind::BufferFailed => "buffer failed",
            ErrorKind::BufferClosed => "buffer closed",
            ErrorKind::Other => "other",
        }
    }

    /// The kind of `error`, by the type of the error itself (not of its
    /// causes).
    pub(crate) fn of(error: &BoxError) -> ErrorKind {
        if error.is::<InjectedError>() {
            ErrorKind::Injected
        } else if error.is::<NotReady>() {
            ErrorKind::NotReady
        } else if error.is::<Overloaded>() {
            ErrorKind::Overloaded
        } else if error.is::<Elapsed>() {
            ErrorKind::Elapsed
        } else if error.is::<CircuitOpen>() {
            ErrorKind::CircuitOpen
        } else if error.is::<ServiceError>() {
            ErrorKind::BufferFailed
        } else if error.is::<Closed>() {
            ErrorKind::BufferClosed
        } else {
            ErrorKind::Other
        }
    }

    /// Whether `stack` may answer with this kind of error; `called` says
    /// whether the caller got as far as `call`.
    ///
    /// - server: every failure it adds (shed, timed out, circuit open) and
    ///   the inner service's own (from the call or from readiness);
    /// - client: none, its fallback answers every failed call; only a dead
    ///   buffer's readiness error reaches the caller, before the call;
    /// - pool: the inner service's failures and timeouts;
    /// - worker: the inner service's failures, and the buffer's error once
    ///   its service has failed. `Closed` is never expected: the buffer's
    ///   worker only stops because its service failed, and then the docs
    ///   promise `ServiceError`.
    pub(crate) fn expected(self, stack: StackKind, called: bool) -> bool {
        use ErrorKind::*;
        match stack {
            StackKind::Server => {
                matches!(
                    self,
                    Injected | NotReady | Overloaded | Elapsed | CircuitOpen
                )
            }
            StackKind::Client => self == BufferFailed && !called,
            StackKind::Pool => matches!(self, Injected | NotReady | Elapsed),
            StackKind::Worker => matches!(self, Injected | BufferFailed),
        }
    }
}

/// How a request ended, as its caller saw it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The stack answered; `called` says whether the caller got as far as
    /// `call` (an error may come from `poll_ready`).
    Answered {
        called: bool,
        result: Result<Reply, BoxError>,
    },
    /// The caller gave up on it.
    Cancelled { called: bool },
    /// The panic of an inner service reached the caller.
    Panicked { injected: bool, message: String },
}

/// The counters of one stack.
#[derive(Debug, Default)]
pub(crate) struct StackLedger {
    pub(crate) issued: AtomicU64,
    /// Answered by an inner service.
    pub(crate) ok: AtomicU64,
    /// Answered by the fallback.
    pub(crate) by_fallback: AtomicU64,
    /// Answered by an inner service after a first attempt that failed.
    pub(crate) rescued: AtomicU64,
    pub(crate) panicked: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
}

impl StackLedger {
    /// The counters in a line, for the watchdog.
    pub(crate) fn summary(&self) -> String {
        let errors: Vec<String> = ErrorKind::ALL
            .iter()
            .filter(|&&kind| self.errors(kind) > 0)
            .map(|&kind| format!("{} {}", kind.name(), self.errors(kind)))
            .collect();
        format!(
            "{} issued, {} ok, {} by the fallback, {} panicked, {} cancelled, errors: {}",
            self.issued.load(Ordering::Relaxed),
            self.ok.load(Ordering::Relaxed),
            self.by_fallback.load(Ordering::Relaxed),
            self.panicked.load(Ordering::Relaxed),
            self.cancelled.load(Ordering::Relaxed),
            if errors.is_empty() {
                "none".to_owned()
            } else {
                errors.join(", ")
            },
        )
    }

    pub(crate) fn errors(&self, kind: ErrorKind) -> u64 {
        self.errors[kind as usize].load(Ordering::SeqCst)
    }

    pub(crate) fn total_errors(&self) -> u64 {
        ErrorKind::ALL.iter().map(|&kind| self.errors(kind)).sum()
    }

    /// Issued = answered (successes and errors) + panicked + cancelled.
    pub(crate) fn balanced(&self) -> Result<(), String> {
        let issued = self.issued.load(Ordering::SeqCst);
        let ok = self.ok.load(Ordering::SeqCst) + self.by_fallback.load(Ordering::SeqCst);
        let errors = self.total_errors();
        let panicked = self.panicked.load(Ordering::SeqCst);
        let cancelled = self.cancelled.load(Ordering::SeqCst);
        let sum = ok + errors + panicked + cancelled;
        if issued == sum {
            Ok(())
        } else {
            Err(format!(
                "{issued} issued != {ok} ok + {errors} errors + {panicked} panicked + \
                 {cancelled} cancelled = {sum}"
            ))
        }
    }
}

/// Broken rules: how many, and the first few, described.
#[derive(Debug, Default)]
pub(crate) struct Violations {
    count: AtomicU64,
    first: Mutex<Vec<String>>,
}

impl Violations {
    const KEPT: usize = 20;

    pub(crate) fn add(&self, description: String) {
        if self.count.fetch_add(1, Ordering::SeqCst) < Self::KEPT as u64 {
            self.first
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(description);
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    pub(crate) fn first(&self) -> Vec<String> {
        self.first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The books of a run.
#[derive(Debug)]
pub(crate) struct Ledger {
    pub(crate) stacks: [StackLedger; 4],
    /// One bit per request, set when its outcome is recorded.
    answered: Vec<AtomicU64>,
    pub(crate) attempts: std::sync::Arc<Attempts>,
    pub(crate) violations: Violations,
    pub(crate) done: AtomicU64,
}

impl Ledger {
    pub(crate) fn new(requests: u64, attempts: std::sync::Arc<Attempts>) -> Self {
        Ledger {
            stacks: Default::default(),
            answered: {
                let words: Vec<AtomicU64> = (0..requests.div_ceil(64))
                    .map(|_| AtomicU64::new(0))
                    .collect();
                touch(&words, |word| word.store(0, Ordering::Relaxed));
                words
            },
            attempts,
            violations: Violations::default(),
            done: AtomicU64::new(0),
        }
    }

    pub(crate) fn stack(&self, stack: StackKind) -> &StackLedger {
        &self.stacks[stack.index()]
    }

    pub(crate) fn issue(&self, stack: StackKind) {
        self.stack(stack).issued.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how request `plan` ended, checking it against the rules.
    pub(crate) fn record(&self, plan: &Plan, outcome: &Outcome) {
        let id = plan.request.id;
        let stack = plan.stack;
        let fault = plan.request.fault;
        let books = self.stack(stack);
        let bit = 1u64 << (id % 64);
        let word = &self.answered[(id / 64) as usize];
        if word.fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            self.violations.add(format!(
                "{stack}: request {id} finished twice ({outcome:?})"
            ));
        }
        let attempts = self.attempts.get(id);
        let never_sent = match outcome {
            Outcome::Answered { called, .. } | Outcome::Cancelled { called } => !called,
            Outcome::Panicked { .. } => false,
        };
        if never_sent && attempts > 0 {
            self.violations.add(format!(
                "{stack}: request {id} was never sent, yet the inner service saw it {attempts} \
                 time(s) ({outcome:?})"
            ));
        }
        match outcome {
            Outcome::Cancelled { .. } => {
                books.cancelled.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Panicked { injected, message } => {
                books.panicked.fetch_add(1, Ordering::Relaxed);
                // A buffer catches the panics of its service's `call`: only
                // the panics of response futures reach its callers.
                let expected = match fault {
                    Fault::PanicInFuture => true,
                    Fault::PanicInCall => matches!(stack, StackKind::Server | StackKind::Pool),
                    _ => false,
                };
                if !injected {
                    self.violations.add(format!(
                        "{stack}: request {id}: a panic the soak did not inject: {message}"
                    ));
                } else if !expected {
                    self.violations.add(format!(
                        "{stack}: request {id}: an injected panic reached the caller, but its \
                         plan ({fault:?}) has no panic there to reach it"
                    ));
                }
            }
            Outcome::Answered {
                result: Ok(reply), ..
            } => self.record_reply(plan, reply, attempts),
            Outcome::Answered {
                called,
                result: Err(error),
            } => {
                let kind = ErrorKind::of(error);
                books.errors[kind as usize].fetch_add(1, Ordering::Relaxed);
                if !kind.expected(stack, *called) {
                    self.violations.add(format!(
                        "{stack}: request {id} ({fault:?}, {}): unexpected error: {} ({error:?})",
                        if *called { "called" } else { "not called" },
                        chain(error.as_ref()),
                    ));
                }
                if let Some(injected) = error.downcast_ref::<InjectedError>() {
                    if injected.id != id || !matches!(fault, Fault::Error | Fault::Outage) {
                        self.violations.add(format!(
                            "{stack}: request {id} ({fault:?}) got the error of request {}",
                            injected.id
                        ));
                    }
                }
            }
        }
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    fn record_reply(&self, plan: &Plan, reply: &Reply, attempts: u8) {
        let (id, stack, fault) = (plan.request.id, plan.stack, plan.request.fault);
        let books = self.stack(stack);
        if reply.id != id {
            self.violations.add(format!(
                "{stack}: request {id} got the answer to request {}",
                reply.id
            ));
        }
        match reply.source {
            Source::Fallback => {
                books.by_fallback.fetch_add(1, Ordering::Relaxed);
                if stack != StackKind::Client {
                    self.violations
                        .add(format!("{stack}: request {id} answered by a fallback"));
                }
            }
            Source::Backend => {
                books.ok.fetch_add(1, Ordering::Relaxed);
                if attempts == 0 {
                    self.violations.add(format!(
                        "{stack}: request {id} answered by an inner service that never saw it"
                    ));
                } else if fault.first_attempt_fails() {
                    // Only a retry or a hedge (a second attempt) can turn a
                    // failed first attempt into a success; never in an
                    // outage, where every attempt fails.
                    let rescued =
                        stack == StackKind::Client && fault != Fault::Outage && attempts >= 2;
                    if rescued {
                        books.rescued.fetch_add(1, Ordering::Relaxed);
                    } else {
                        self.violations.add(format!(
                            "{stack}: request {id} ({fault:?}) answered with a success after \
                             {attempts} attempt(s)"
                        ));
                    }
                }
            }
        }
    }

    /// Checks, once the run is over, that every request reached the inner
    /// services at most as often as its stack allows.
    pub(crate) fn audit_attempts(&self, seed: u64) -> Result<u64, String> {
        let mut over = 0u64;
        let mut first = None;
        let mut total = 0u64;
        for id in 0..self.attempts.counts.len() as u64 {
            let attempts = self.attempts.get(id);
            total += u64::from(attempts);
            let stack = Plan::new(seed, id).stack;
            if attempts > stack.max_attempts() {
                over += 1;
                first.get_or_insert((id, stack, attempts));
            }
        }
        match first {
            None => Ok(total),
            Some((id, stack, attempts)) => Err(format!(
                "{over} requests seen too often by the inner services; the first: request {id} \
                 ({stack}), {attempts} times, at most {} allowed",
                stack.max_attempts()
            )),
        }
    }
}

/// Writes every element, so that the pages of a zeroed allocation (which
/// the allocator may leave unmapped until written) are resident from the
/// start, and do not show up as growth after the warm-up.
fn touch<T>(items: &[T], write: impl Fn(&T)) {
    for item in items {
        write(std::hint::black_box(item));
    }
}

/// An error and its causes, joined by `: `.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
