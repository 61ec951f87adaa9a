//! The inner service at the bottom of every stack: it answers after the
//! latency its request asks for, injects the request's fault, flaps its
//! readiness, and counts what it sees.

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use donjon::{BoxError, Service};
use pin_project::pin_project;
use tokio::time::{Instant, Sleep};

use super::ledger::Attempts;
use super::plan::{Fault, Latency, Reply, Request, Source};
use super::rng::SplitMix64;

/// The payload of every panic the soak injects; any other panic is a bug.
pub(crate) const INJECTED_PANIC: &str = "soak: injected panic";

/// Whether a panic's payload is one the soak injected.
pub(crate) fn is_injected(payload: &(dyn Any + Send)) -> bool {
    payload.downcast_ref::<&str>() == Some(&INJECTED_PANIC)
}

/// A panic's message, for reports.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "(a panic whose payload is not a string)".to_owned()
    }
}

/// The error of an attempt the soak made fail.
#[derive(Debug)]
pub(crate) struct InjectedError {
    pub(crate) id: u64,
}

impl fmt::Display for InjectedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "injected failure of request {}", self.id)
    }
}

impl Error for InjectedError {}

/// The error of a `poll_ready` the soak made fail.
#[derive(Debug)]
pub(crate) struct NotReady;

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("injected readiness failure")
    }
}

impl Error for NotReady {}

/// How a backend's readiness flaps: out of a million `poll_ready`s that
/// find it not yet reserved, how many are `Pending` (for a millisecond or
/// two, then woken by a timer), fail, or panic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Readiness {
    pub(crate) pending: u64,
    pub(crate) error: u64,
    pub(crate) panic: u64,
}

/// What the clones of one backend share: its settings and its counters.
#[derive(Debug)]
pub(crate) struct BackendStats {
    pub(crate) name: &'static str,
    readiness: Readiness,
    /// Set after the run: no more readiness faults.
    calm: Arc<AtomicBool>,
    attempts: Arc<Attempts>,
    seed: u64,
    /// Numbers the clones' generators.
    clones: AtomicU64,
    /// Calls seen.
    pub(crate) calls: AtomicU64,
    /// Calls for a request seen before (retries and hedges).
    pub(crate) repeats: AtomicU64,
    /// Response futures that completed (answered, failed or panicked).
    pub(crate) finished: AtomicU64,
    /// Response futures dropped before they completed.
    pub(crate) dropped: AtomicU64,
    /// Response futures alive now.
    pub(crate) alive: AtomicI64,
    pub(crate) pending_polls: AtomicU64,
    pub(crate) readiness_errors: AtomicU64,
    pub(crate) readiness_panics: AtomicU64,
    pub(crate) call_panics: AtomicU64,
}

impl BackendStats {
    pub(crate) fn new(
        name: &'static str,
        readiness: Readiness,
        calm: Arc<AtomicBool>,
        attempts: Arc<Attempts>,
        seed: u64,
    ) -> Arc<Self> {
        Arc::new(BackendStats {
            name,
            readiness,
            calm,
            attempts,
            seed,
            clones: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            repeats: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            alive: AtomicI64::new(0),
            pending_polls: AtomicU64::new(0),
            readiness_errors: AtomicU64::new(0),
            readiness_panics: AtomicU64::new(0),
            call_panics: AtomicU64::new(0),
        })
    }

    /// What it saw, in a line.
    pub(crate) fn figures(&self) -> String {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        format!(
            "{} calls ({} repeated); readiness: {} Pending, {} errors, {} panics; {} panics in \
             call",
            load(&self.calls),
            load(&self.repeats),
            load(&self.pending_polls),
            load(&self.readiness_errors),
            load(&self.readiness_panics),
            load(&self.call_panics),
        )
    }

    /// Every response future is accounted for: none alive, and each call
    /// made one that either finished or was dropped.
    pub(crate) fn settled(&self) -> Result<(), String> {
        let alive = self.alive.load(Ordering::SeqCst);
        let calls = self.calls.load(Ordering::SeqCst);
        let finished = self.finished.load(Ordering::SeqCst);
        let dropped = self.dropped.load(Ordering::SeqCst);
        let panics = self.call_panics.load(Ordering::SeqCst);
        if alive == 0 && calls == finished + dropped + panics {
            Ok(())
        } else {
            Err(format!(
                "{}: {alive} response futures alive; {calls} calls = {finished} finished + \
                 {dropped} dropped + {panics} panicked in call?",
                self.name
            ))
        }
    }
}

/// One clone of a backend.
///
/// `poll_ready` reserves the clone for one call: once it has returned
/// `Ready(Ok(()))` it keeps doing so until `call`, which asserts the
/// reservation (a middleware calling without it breaks the contract, and
/// the panic is reported as a bug).
#[derive(Debug)]
pub(crate) struct Backend {
    stats: Arc<BackendStats>,
    /// Shared by the clones of one endpoint, so that whoever holds a
    /// `Weak` of it can tell whether the endpoint still exists.
    token: Arc<()>,
    rng: SplitMix64,
    /// The timer of a `Pending` readiness, kept for reuse.
    timer: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    reserved: bool,
}

impl Backend {
    pub(crate) fn new(stats: Arc<BackendStats>) -> Self {
        Backend::with_token(stats, Arc::new(()))
    }

    /// A backend whose clones share `token`.
    pub(crate) fn with_token(stats: Arc<BackendStats>, token: Arc<()>) -> Self {
        let clone = stats.clones.fetch_add(1, Ordering::Relaxed);
        Backend {
            rng: SplitMix64::stream(stats.seed, clone),
            stats,
            token,
            timer: None,
            waiting: false,
            reserved: false,
        }
    }
}

impl Clone for Backend {
    fn clone(&self) -> Self {
        Backend::with_token(Arc::clone(&self.stats), Arc::clone(&self.token))
    }
}

impl Service<Request> for Backend {
    type Response = Reply;
    type Error = BoxError;
    type Future = BackendFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.reserved {
            return Poll::Ready(Ok(()));
        }
        if self.waiting {
            let timer = self.timer.as_mut().expect("a wait has a timer");
            ready!(timer.as_mut().poll(cx));
            self.waiting = false;
        } else if !self.stats.calm.load(Ordering::Relaxed) {
            let readiness = self.stats.readiness;
            let roll = self.rng.below(1_000_000);
            if roll < readiness.panic {
                self.stats.readiness_panics.fetch_add(1, Ordering::Relaxed);
                std::panic::panic_any(INJECTED_PANIC);
            }
            if roll < readiness.panic + readiness.error {
                self.stats.readiness_errors.fetch_add(1, Ordering::Relaxed);
                return Poll::Ready(Err(Box::new(NotReady)));
            }
            if roll < readiness.panic + readiness.error + readiness.pending {
                self.stats.pending_polls.fetch_add(1, Ordering::Relaxed);
                let deadline = Instant::now() + Duration::from_micros(500 + self.rng.below(1_500));
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                timer.as_mut().reset(deadline);
                self.waiting = true;
                // Registers the waker with the timer: woken in a moment.
                ready!(timer.as_mut().poll(cx));
                self.waiting = false;
            }
        }
        self.reserved = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> BackendFuture {
        assert!(
            self.reserved,
            "{}: call without poll_ready returning Ready(Ok(())) first: a middleware broke the \
             readiness contract",
            self.stats.name
        );
        self.reserved = false;
        let first = self.stats.attempts.record(request.id) == 0;
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        if !first {
            self.stats.repeats.fetch_add(1, Ordering::Relaxed);
        }
        if first && request.fault == Fault::PanicInCall {
            self.stats.call_panics.fetch_add(1, Ordering::Relaxed);
            std::panic::panic_any(INJECTED_PANIC);
        }
        let answer = match request.fault {
            Fault::Outage => Answer::Fail,
            Fault::Error if first => Answer::Fail,
            Fault::PanicInFuture if first => Answer::Panic,
            _ => Answer::Succeed,
        };
        // Later attempts (retries, hedges) answer at once.
        let latency = if first {
            request.latency
        } else {
            Latency::Immediate
        };
        self.stats.alive.fetch_add(1, Ordering::Relaxed);
        BackendFuture {
            sleep: match latency {
                Latency::Sleep(duration) => Some(tokio::time::sleep(duration)),
                _ => None,
            },
            yield_once: latency == Latency::Yield,
            id: request.id,
            answer,
            guard: InFlight {
                stats: Arc::clone(&self.stats),
                finished: false,
            },
        }
    }
}

/// How an attempt ends.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Succeed,
    Fail,
    Panic,
}

/// Counts a response future out when it completes or is dropped.
#[derive(Debug)]
struct InFlight {
    stats: Arc<BackendStats>,
    finished: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.stats.alive.fetch_sub(1, Ordering::Relaxed);
        let counter = if self.finished {
            &self.stats.finished
        } else {
            &self.stats.dropped
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The response future of a [`Backend`].
#[pin_project]
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct BackendFuture {
    #[pin]
    sleep: Option<Sleep>,
    yield_once: bool,
    id: u64,
    answer: Answer,
    guard: InFlight,
}

impl Future for BackendFuture {
    type Output = Result<Reply, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some(sleep) = this.sleep.as_pin_mut() {
            ready!(sleep.poll(cx));
        }
        if *this.yield_once {
            *this.yield_once = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.guard.finished = true;
        match this.answer {
            Answer::Succeed => Poll::Ready(Ok(Reply {
                id: *this.id,
                source: Source::Backend,
            })),
            Answer::Fail => Poll::Ready(Err(Box::new(InjectedError { id: *this.id }))),
            Answer::Panic => std::panic::panic_any(INJECTED_PANIC),
        }
    }
}
