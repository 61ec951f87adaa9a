//! The server stack: what protects a service from the requests coming in.
//!
//! From the outside in: load shedding after a bounded wait, a total
//! timeout (readiness included), a circuit breaker failing fast, an
//! adaptive concurrency limit (AIMD), a fixed limit on a semaphore, a rate
//! limit, and the inner service.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use donjon::circuit_breaker::{self, CircuitBreaker, Config, State};
use donjon::limit::ConcurrencyLimit;
use donjon::limit::adaptive::{self, AdaptiveConcurrencyLimitLayer, Aimd};
use donjon::limit::rate::{Rate, RateLimit};
use donjon::load_shed::LoadShed;
use donjon::timeout::TotalTimeout;
use donjon::{Layer, ServiceExt};
use futures::FutureExt;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::{Env, Svc, lock};
use crate::soak::backend::{Backend, BackendStats, Readiness};
use crate::soak::plan::Request;
use crate::soak::report::Check;

const PERMITS: usize = 12;
const RATE: u64 = 200;
const RATE_PERIOD: Duration = Duration::from_millis(10);
const MIN_LIMIT: usize = 2;
const MAX_LIMIT: usize = 64;
const MAX_WAIT: Duration = Duration::from_millis(3);
const TOTAL_TIMEOUT: Duration = Duration::from_millis(25);

/// The server stack and its handles.
#[derive(Debug)]
pub(crate) struct Server {
    service: Mutex<Svc>,
    permits: Arc<Semaphore>,
    adaptive: adaptive::Handle,
    breaker: circuit_breaker::Handle,
    /// A clone of the rate limit (clones share its budget), to check it.
    rate: Mutex<RateLimit<Backend>>,
    pub(crate) backend: Arc<BackendStats>,
}

impl Server {
    pub(crate) fn new(env: &Env) -> Self {
        let readiness = Readiness {
            pending: 20_000,
            error: 100,
            panic: 0,
        };
        let backend = BackendStats::new(
            "server backend",
            readiness,
            Arc::clone(&env.calm),
            Arc::clone(&env.attempts),
            env.seed ^ 0x5E,
        );
        let permits = Arc::new(Semaphore::new(PERMITS));
        let rate = RateLimit::new(
            Backend::new(Arc::clone(&backend)),
            Rate::new(RATE, RATE_PERIOD),
        );
        let limited = ConcurrencyLimit::with_semaphore(rate.clone(), Arc::clone(&permits));
        let adaptive = AdaptiveConcurrencyLimitLayer::new(Aimd::new())
            .with_min_limit(MIN_LIMIT)
            .with_max_limit(MAX_LIMIT)
            .with_initial_limit(16)
            .layer(limited);
        let adaptive_handle = adaptive.handle();
        let breaker = CircuitBreaker::new(
            adaptive,
            Config::new()
                .with_count_window(100)
                .with_minimum_calls(20)
                .with_failure_rate_threshold(0.5)
                .with_open_duration(Duration::from_millis(5))
                .with_half_open_calls(3),
        );
        let breaker_handle = breaker.handle();
        let service = LoadShed::with_max_wait(TotalTimeout::new(breaker, TOTAL_TIMEOUT), MAX_WAIT);
        Server {
            service: Mutex::new(service.boxed_clone()),
            permits,
            adaptive: adaptive_handle,
            breaker: breaker_handle,
            rate: Mutex::new(rate),
            backend,
        }
    }

    pub(crate) fn service(&self) -> Svc {
        lock(&self.service).clone()
    }

    /// The semaphore of the fixed limit, and its size.
    pub(crate) fn permits(&self) -> (Arc<Semaphore>, usize) {
        (Arc::clone(&self.permits), PERMITS)
    }

    /// The adaptive limit's handle.
    pub(crate) fn adaptive(&self) -> adaptive::Handle {
        self.adaptive.clone()
    }

    pub(crate) fn state(&self) -> String {
        format!(
            "server: {} of {PERMITS} permits free; adaptive limit {} with {} in flight; breaker \
             {}; backend: {} calls, {} response futures alive",
            self.permits.available_permits(),
            self.adaptive.limit(),
            self.adaptive.in_flight(),
            self.breaker.state(),
            self.backend.calls.load(Ordering::Relaxed),
            self.backend.alive.load(Ordering::Relaxed),
        )
    }

    fn permits_back(&self, when: &str) -> Check {
        let free = self.permits.available_permits();
        Check::new(
            format!("server: semaphore permits back ({when})"),
            free == PERMITS,
            format!("{free} of {PERMITS} available"),
        )
    }

    fn adaptive_idle(&self, when: &str) -> Check {
        let (limit, in_flight) = (self.adaptive.limit(), self.adaptive.in_flight());
        Check::new(
            format!("server: adaptive limit has nothing in flight ({when})"),
            in_flight == 0 && (MIN_LIMIT..=MAX_LIMIT).contains(&limit),
            format!("{in_flight} in flight, limit {limit} in [{MIN_LIMIT}, {MAX_LIMIT}]"),
        )
    }

    pub(crate) async fn check(&self) -> Vec<Check> {
        let mut checks = vec![
            Check::from_result(
                "server: inner response futures all ended",
                self.backend.settled(),
            ),
            self.permits_back("after the run"),
            self.adaptive_idle("after the run"),
        ];
        checks.push(self.rate_budget_full().await);
        checks.push(self.breaker_closes().await);
        checks.push(self.permits_back("after the breaker's probes"));
        checks.push(self.adaptive_idle("after the breaker's probes"));
        checks
    }

    /// Once its window has passed, the rate limit lets a whole window's
    /// requests through at once: its budget is not stuck. A window may
    /// start short of calls charged to it by the one before (a caller that
    /// reserved in one window and called in the next), so this tries three
    /// windows.
    async fn rate_budget_full(&self) -> Check {
        let template = lock(&self.rate).clone();
        let mut seen = Vec::new();
        for _ in 0..3 {
            tokio::time::sleep(RATE_PERIOD * 3).await;
            let mut handles: Vec<RateLimit<Backend>> =
                (0..RATE).map(|_| template.clone()).collect();
            let mut ready = 0;
            for handle in &mut handles {
                if let Some(Ok(_)) = handle.ready().now_or_never() {
                    ready += 1;
                }
            }
            drop(handles);
            seen.push(ready);
            if ready == RATE {
                break;
            }
        }
        Check::new(
            "server: rate limit lets a full window through",
            seen.last() == Some(&RATE),
            format!("ready at once, window after window: {seen:?} of {RATE}"),
        )
    }

    /// With the faults off, healthy requests close the breaker: no probe
    /// slot was leaked by a cancelled or panicking call.
    async fn breaker_closes(&self) -> Check {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut probes = 0u64;
        loop {
            let state = self.breaker.state();
            match state {
                State::Closed => {
                    return Check::pass(
                        "server: circuit breaker closes again",
                        format!("closed after {probes} healthy requests"),
                    );
                }
                State::Open => {
                    let until = self
                        .breaker
                        .next_probe_at()
                        .unwrap_or_else(|| Instant::now() + Duration::from_millis(1));
                    tokio::time::sleep_until(until).await;
                }
                _ => {
                    probes += 1;
                    let request = Request::healthy(u64::MAX - probes);
                    let _ = self.service().oneshot(request).await;
                }
            }
            if Instant::now() > deadline {
                return Check::fail(
                    "server: circuit breaker closes again",
                    format!(
                        "still {state} after {probes} healthy requests in 3 s ({:?})",
                        self.breaker.figures()
                    ),
                );
            }
        }
    }
}
