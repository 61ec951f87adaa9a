//! The client stack: what a caller puts in front of a fleet of backends.
//!
//! From the outside in: a fallback answering every failed call, a timeout
//! per request (read from the request), retries of injected failures
//! within a budget, a buffer, hedging of slow requests, a second buffer,
//! and p2c balancing (peak EWMA) over endpoints that join, leave and are
//! replaced, each behind a circuit breaker in not-ready mode. The balancer
//! drives endpoints that are not ready in background tasks.

use std::convert::Infallible;
use std::error::Error;
use std::future::{Ready, ready};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use donjon::balance::p2c::Balance;
use donjon::buffer::Buffer;
use donjon::buffer::error::{Closed, ServiceError};
use donjon::circuit_breaker::{self, CircuitBreaker, Config, OpenBehavior, State};
use donjon::discover::Change;
use donjon::fallback::{Failure, Fallback};
use donjon::hedge::Hedge;
use donjon::load::{CompleteOnResponse, PeakEwmaDiscover};
use donjon::retry::budget::{Budget, TpsBudget};
use donjon::retry::{self, Retry};
use donjon::timeout::RequestTimeout;
use donjon::{BoxError, ServiceExt, hedge, service_fn};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use tokio::time::{Instant, Sleep};

use super::{Built, Env, Probe, Supervisor, lock};
use crate::soak::backend::{Backend, BackendStats, InjectedError, Readiness};
use crate::soak::plan::{Reply, Request, Source};
use crate::soak::report::Check;
use crate::soak::rng::SplitMix64;

const OUTER_BOUND: usize = 64;
const INNER_BOUND: usize = 64;
const RETRIES: u8 = 2;
/// The retry budget: 20% of the requests of the last second, and 10
/// retries per second whatever the requests.
const BUDGET_TTL: Duration = Duration::from_secs(1);
const BUDGET_MIN_PER_SEC: u32 = 10;
const BUDGET_SHARE: f32 = 0.2;
const MIN_ENDPOINTS: usize = 2;
const MAX_ENDPOINTS: usize = 6;

/// A retry budget that counts what goes through it.
#[derive(Debug)]
pub(crate) struct CountingBudget {
    inner: TpsBudget,
    deposits: AtomicU64,
    granted: AtomicU64,
    refused: AtomicU64,
}

impl Budget for CountingBudget {
    fn deposit(&self) {
        self.deposits.fetch_add(1, Ordering::Relaxed);
        self.inner.deposit();
    }

    fn withdraw(&self) -> bool {
        let granted = self.inner.withdraw();
        let counter = if granted {
            &self.granted
        } else {
            &self.refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
        granted
    }
}

/// Retries injected failures (only those: a dead buffer stays dead), up
/// to twice per request, a millisecond apart, when the budget allows.
#[derive(Debug, Clone)]
struct RetryInjected {
    left: u8,
    budget: Arc<CountingBudget>,
}

impl retry::Policy<Request, Reply, BoxError> for RetryInjected {
    type Future = Sleep;

    fn retry(&mut self, _: &mut Request, result: &mut Result<Reply, BoxError>) -> Option<Sleep> {
        match result {
            Ok(_) => {
                self.budget.deposit();
                None
            }
            Err(error)
                if self.left > 0 && error.is::<InjectedError>() && self.budget.withdraw() =>
            {
                self.left -= 1;
                Some(tokio::time::sleep(Duration::from_millis(1)))
            }
            Err(_) => None,
        }
    }

    fn clone_request(&mut self, request: &Request) -> Option<Request> {
        Some(*request)
    }
}

/// Hedges the requests whose plan says so.
#[derive(Debug, Clone, Copy)]
struct HedgeFlagged;

impl hedge::Policy<Request> for HedgeFlagged {
    fn clone_request(&self, request: &Request) -> Option<Request> {
        request.hedge.then_some(*request)
    }

    fn can_retry(&self, _: &Request) -> bool {
        true
    }
}

/// The request's own timeout.
fn timeout_of(request: &Request) -> Option<Duration> {
    Some(request.timeout)
}

/// Whether `error`, or one of its causes, says a buffer died.
fn buffer_died(error: &(dyn Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<ServiceError>() || error.is::<Closed>() {
            return true;
        }
        next = error.source();
    }
    false
}

/// The fallback: answers a failed call with a stand-in reply for the same
/// request, and marks the build dead when the failure says its buffer
/// died.
fn fallback(
    dead: Arc<AtomicBool>,
) -> impl donjon::Service<
    Failure<Request, Reply>,
    Response = Reply,
    Error = BoxError,
    Future = Ready<Result<Reply, BoxError>>,
> + Clone
+ Send
+ 'static {
    service_fn(move |failure: Failure<Request, Reply>| {
        if failure
            .error()
            .is_some_and(|error| buffer_died(error.get()))
        {
            dead.store(true, Ordering::Release);
        }
        ready(match failure.request() {
            Some(request) => Ok(Reply {
                id: request.id,
                source: Source::Fallback,
            }),
            None => Err(BoxError::from("the fallback got no request")),
        })
    })
}

type Endpoint = CircuitBreaker<Backend>;
type Changes = UnboundedSender<Result<Change<u64, Endpoint>, Infallible>>;

/// How the endpoint set changed over the run, every build together.
#[derive(Debug, Default)]
pub(crate) struct ChurnStats {
    inserted: AtomicU64,
    removed: AtomicU64,
    replaced: AtomicU64,
}

/// One build's endpoint set: the sending side of its balancer's
/// discovery.
#[derive(Debug)]
pub(crate) struct Churn {
    changes: Changes,
    /// Key, breaker handle, and whether the endpoint still exists (the
    /// balancer drops endpoints whose readiness fails).
    live: Vec<(u64, circuit_breaker::Handle, Weak<()>)>,
    next_key: u64,
    rng: SplitMix64,
    backend: Arc<BackendStats>,
    stats: Arc<ChurnStats>,
}

impl Churn {
    fn new(
        changes: Changes,
        rng: SplitMix64,
        backend: Arc<BackendStats>,
        stats: Arc<ChurnStats>,
    ) -> Self {
        let mut churn = Churn {
            changes,
            live: Vec::new(),
            next_key: 0,
            rng,
            backend,
            stats,
        };
        for _ in 0..3 {
            churn.insert_new();
        }
        churn
    }

    /// Sends an endpoint under `key`, returning its breaker's handle and
    /// its liveness.
    fn send(&mut self, key: u64) -> (circuit_breaker::Handle, Weak<()>) {
        let token = Arc::new(());
        let liveness = Arc::downgrade(&token);
        let breaker = CircuitBreaker::new(
            Backend::with_token(Arc::clone(&self.backend), token),
            Config::new()
                .with_consecutive_failures(5)
                .with_open_duration(Duration::from_millis(2))
                .with_half_open_calls(1)
                .with_open_behavior(OpenBehavior::NotReady),
        );
        let handle = breaker.handle();
        // A dead build's balancer is gone: nobody to tell.
        let _ = self
            .changes
            .unbounded_send(Ok(Change::Insert(key, breaker)));
        (handle, liveness)
    }

    fn insert_new(&mut self) {
        let key = self.next_key;
        self.next_key += 1;
        let (handle, liveness) = self.send(key);
        self.live.push((key, handle, liveness));
        self.stats.inserted.fetch_add(1, Ordering::Relaxed);
    }

    /// One change: an endpoint joins, leaves, or is replaced by a new one
    /// under the same key.
    pub(crate) fn step(&mut self) {
        let change = match self.live.len() {
            n if n < MIN_ENDPOINTS => 0,
            n if n >= MAX_ENDPOINTS => 1,
            _ => self.rng.below(3),
        };
        match change {
            0 => self.insert_new(),
            1 => {
                let index = self.rng.below(self.live.len() as u64) as usize;
                let (key, ..) = self.live.swap_remove(index);
                let _ = self.changes.unbounded_send(Ok(Change::Remove(key)));
                self.stats.removed.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                let index = self.rng.below(self.live.len() as u64) as usize;
                let key = self.live[index].0;
                let (handle, liveness) = self.send(key);
                self.live[index] = (key, handle, liveness);
                self.stats.replaced.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The endpoints that still exist and whose breaker is not closed.
    fn not_closed(&self) -> Vec<(u64, State)> {
        self.live
            .iter()
            .filter(|(.., liveness)| liveness.strong_count() > 0)
            .map(|(key, handle, _)| (*key, handle.state()))
            .filter(|(_, state)| *state != State::Closed)
            .collect()
    }
}

/// The client stack and its handles.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) supervisor: Supervisor,
    budget: Arc<CountingBudget>,
    pub(crate) backend: Arc<BackendStats>,
    churn: Arc<ChurnStats>,
}

impl Client {
    pub(crate) fn new(env: &Env) -> Self {
        let readiness = Readiness {
            pending: 30_000,
            error: 500,
            panic: 0,
        };
        let backend = BackendStats::new(
            "client endpoints",
            readiness,
            Arc::clone(&env.calm),
            Arc::clone(&env.attempts),
            env.seed ^ 0xC1,
        );
        let budget = Arc::new(CountingBudget {
            inner: TpsBudget::new(BUDGET_TTL, BUDGET_MIN_PER_SEC, BUDGET_SHARE),
            deposits: AtomicU64::new(0),
            granted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let churn = Arc::new(ChurnStats::default());
        let build = {
            let (backend, budget, churn, seed) = (
                Arc::clone(&backend),
                Arc::clone(&budget),
                Arc::clone(&churn),
                env.seed,
            );
            move |number: u64, dead: Arc<AtomicBool>| {
                let (changes, discovered) = unbounded();
                let churn = Churn::new(
                    changes,
                    SplitMix64::stream(seed ^ 0xC4, number),
                    Arc::clone(&backend),
                    Arc::clone(&churn),
                );
                let discover = PeakEwmaDiscover::new::<Request>(
                    discovered,
                    Duration::from_millis(1),
                    Duration::from_millis(100),
                    CompleteOnResponse::default(),
                );
                let balance = Balance::from_rng(discover, SplitMix64::stream(seed ^ 0xBA, number))
                    .with_background_readiness();
                let inner = Buffer::new(balance, INNER_BOUND);
                let hedged = Hedge::new(
                    inner.clone(),
                    HedgeFlagged,
                    10,
                    0.9,
                    Duration::from_millis(100),
                );
                let outer = Buffer::new(hedged, OUTER_BOUND);
                let retry = Retry::new(
                    RetryInjected {
                        left: RETRIES,
                        budget: Arc::clone(&budget),
                    },
                    outer,
                );
                let timeout =
                    RequestTimeout::new(retry, timeout_of as fn(&Request) -> Option<Duration>);
                let service = Fallback::new(timeout, fallback(dead)).boxed_clone();
                Built {
                    probes: vec![
                        // Readiness passes through the fallback, the timeout
                        // and the retry to the outer buffer.
                        Probe::new("client: outer buffer", service.clone(), OUTER_BOUND),
                        Probe::new("client: inner buffer", inner.boxed_clone(), INNER_BOUND),
                    ],
                    service,
                    churn: Some(churn),
                }
            }
        };
        Client {
            supervisor: Supervisor::new(Box::new(build)),
            budget,
            backend,
            churn,
        }
    }

    /// One change to the current build's endpoints.
    pub(crate) fn churn(&self) {
        if let Some(churn) = &self.supervisor.current().churn {
            lock(churn).step();
        }
    }

    pub(crate) fn state(&self) -> String {
        format!(
            "client: build {} ({:?}); backend: {} calls, {} response futures alive; retry budget \
             {} granted, {} refused",
            self.supervisor.number(),
            self.supervisor.current(),
            self.backend.calls.load(Ordering::Relaxed),
            self.backend.alive.load(Ordering::Relaxed),
            self.budget.granted.load(Ordering::Relaxed),
            self.budget.refused.load(Ordering::Relaxed),
        )
    }

    /// The endpoint set's changes, and the rebuilds.
    pub(crate) fn churn_figures(&self) -> String {
        format!(
            "{} endpoints inserted, {} removed, {} replaced; {} rebuilds",
            self.churn.inserted.load(Ordering::Relaxed),
            self.churn.removed.load(Ordering::Relaxed),
            self.churn.replaced.load(Ordering::Relaxed),
            self.supervisor.rebuilds(),
        )
    }

    /// The retries, as the budget counted them.
    pub(crate) fn retry_figures(&self) -> (u64, u64, u64) {
        (
            self.budget.deposits.load(Ordering::Relaxed),
            self.budget.granted.load(Ordering::Relaxed),
            self.budget.refused.load(Ordering::Relaxed),
        )
    }

    pub(crate) async fn check(&self, elapsed: Duration, concurrency: usize) -> Vec<Check> {
        let mut checks = vec![Check::from_result(
            "client: inner response futures all ended",
            self.backend.settled(),
        )];
        checks.extend(self.supervisor.check_probes().await);
        checks.push(self.breakers_close().await);
        checks.push(self.retries_within_budget(elapsed, concurrency));
        checks.push(self.budget_refills().await);
        checks
    }

    /// Under healthy traffic, the breaker of every endpoint still in the
    /// balancer closes: no probe slot is stuck, and the balancer's
    /// background readiness wakes endpoints whose breaker half-opens.
    async fn breakers_close(&self) -> Check {
        let name = "client: every endpoint's breaker closes under healthy traffic";
        let generation = self.supervisor.current();
        let Some(churn) = &generation.churn else {
            return Check::fail(name, "no endpoint set".to_owned());
        };
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut requests = 0u64;
        loop {
            let open = lock(churn).not_closed();
            if open.is_empty() {
                return Check::pass(
                    name,
                    format!(
                        "{} endpoints, all closed after {requests} healthy requests (build {})",
                        lock(churn).live.len(),
                        generation.number
                    ),
                );
            }
            if Instant::now() > deadline {
                return Check::fail(
                    name,
                    format!("after {requests} healthy requests in 3 s, not closed: {open:?}"),
                );
            }
            requests += 1;
            let _ = generation
                .service()
                .oneshot(Request::healthy(u64::MAX - requests))
                .await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Retries never exceed what the budget allows: 20% of the deposits,
    /// plus 10 per second over the run and a window's worth (one
    /// withdrawal per concurrent caller of slack: the budget checks and
    /// withdraws in two steps).
    fn retries_within_budget(&self, elapsed: Duration, concurrency: usize) -> Check {
        let (deposits, granted, refused) = self.retry_figures();
        let bound = f64::from(BUDGET_SHARE) * deposits as f64
            + f64::from(BUDGET_MIN_PER_SEC)
                * (elapsed.as_secs_f64() + 2.0 * BUDGET_TTL.as_secs_f64())
            + concurrency as f64;
        Check::new(
            "client: retries within the retry budget",
            (granted as f64) <= bound,
            format!(
                "{granted} retries granted ({refused} refused) for {deposits} successes; \
                 at most {bound:.0}"
            ),
        )
    }

    /// Once a window has passed without traffic, the budget is back to its
    /// reserve: exactly 10 retries, no more, no less.
    async fn budget_refills(&self) -> Check {
        tokio::time::sleep(BUDGET_TTL + Duration::from_millis(200)).await;
        let reserve = BUDGET_MIN_PER_SEC as usize * BUDGET_TTL.as_secs() as usize;
        let granted = (0..reserve + 1)
            .filter(|_| self.budget.inner.withdraw())
            .count();
        Check::new(
            "client: retry budget back to its reserve",
            granted == reserve,
            format!("{granted} withdrawals granted after an idle window, {reserve} expected"),
        )
    }
}
