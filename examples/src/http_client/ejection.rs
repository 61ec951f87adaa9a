//! Outlier ejection: an endpoint that keeps failing reports itself not ready
//! for a while, so that a balancer sends its traffic elsewhere.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use donjon::Service;
use http::Response;
use pin_project::pin_project;
use tokio::time::{Instant, Sleep};

/// When an endpoint is ejected, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EjectionConfig {
    /// Failures in a row (errors or 5xx answers) that eject the endpoint.
    pub consecutive_failures: u32,
    /// How long the first ejection lasts; each ejection that follows a
    /// failed probe lasts twice as long as the one before.
    pub base_duration: Duration,
    /// The longest an ejection lasts.
    pub max_duration: Duration,
}

impl Default for EjectionConfig {
    fn default() -> Self {
        EjectionConfig {
            // Fewer than the attempts a request may make (1 + 3 retries by
            // default), so that a request whose attempts all land on a dead
            // endpoint ejects it before its last attempt.
            consecutive_failures: 3,
            base_duration: Duration::from_millis(500),
            max_duration: Duration::from_secs(10),
        }
    }
}

/// Ejects an endpoint from a balancer's ready set after
/// [`consecutive_failures`](EjectionConfig::consecutive_failures) failures
/// in a row.
///
/// A fast failure looks like a fast answer to a latency-aware balancer:
/// without ejection, an endpoint refusing connections would attract more
/// traffic than a healthy one. Once ejected, `poll_ready` is `Pending` until
/// the ejection ends (a timer wakes the balancer). The ejection starts when
/// the last failure is recorded. The next request is then a probe: one more failure ejects it again for twice as long, a success
/// clears the record.
#[derive(Debug)]
pub struct Ejection<S> {
    inner: S,
    health: Arc<Health>,
    ejected_until: Option<Pin<Box<Sleep>>>,
}

/// The record shared by an endpoint and its response futures.
#[derive(Debug)]
struct Health {
    config: EjectionConfig,
    failures_in_a_row: AtomicU32,
    ejected: AtomicBool,
    /// When the current ejection ends; set when `ejected` becomes true.
    ejected_until: Mutex<Instant>,
    ejections_in_a_row: AtomicU32,
}

impl Health {
    fn record(&self, failed: bool) {
        if !failed {
            self.failures_in_a_row.store(0, Ordering::Relaxed);
            self.ejections_in_a_row.store(0, Ordering::Relaxed);
            return;
        }
        let failures = self.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if failures < self.config.consecutive_failures || self.ejected.load(Ordering::Acquire) {
            return;
        }
        // The deadline is written before `ejected` is raised, under the lock,
        // so that whoever sees `ejected` reads this ejection's deadline.
        let mut until = self
            .ejected_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !self.ejected.load(Ordering::Acquire) {
            let length = self.ejection_length();
            tracing::debug!(?length, "endpoint ejected");
            *until = Instant::now() + length;
            self.ejected.store(true, Ordering::Release);
        }
    }

    /// The length of the ejection starting now.
    fn ejection_length(&self) -> Duration {
        let earlier = self.ejections_in_a_row.fetch_add(1, Ordering::Relaxed);
        let factor = 1u32.checked_shl(earlier.min(16)).unwrap_or(u32::MAX);
        self.config
            .base_duration
            .saturating_mul(factor)
            .min(self.config.max_duration)
    }
}

impl<S> Ejection<S> {
    /// Wraps `inner`.
    ///
    /// # Panics
    ///
    /// If `config.consecutive_failures` is zero: the endpoint would be
    /// ejected before it failed.
    pub fn new(inner: S, config: EjectionConfig) -> Self {
        assert!(
            config.consecutive_failures > 0,
            "EjectionConfig::consecutive_failures must be at least 1"
        );
        Ejection {
            inner,
            health: Arc::new(Health {
                config,
                failures_in_a_row: AtomicU32::new(0),
                ejected: AtomicBool::new(false),
                ejected_until: Mutex::new(Instant::now()),
                ejections_in_a_row: AtomicU32::new(0),
            }),
            ejected_until: None,
        }
    }
}

impl<S, Req, B> Service<Req> for Ejection<S>
where
    S: Service<Req, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = RecordOutcome<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if self.health.ejected.load(Ordering::Acquire) {
            let health = &self.health;
            let until = self.ejected_until.get_or_insert_with(|| {
                let deadline = *health
                    .ejected_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                Box::pin(tokio::time::sleep_until(deadline))
            });
            ready!(until.as_mut().poll(cx));
            self.ejected_until = None;
            // The next request is a probe: one more failure ejects again.
            health
                .failures_in_a_row
                .store(health.config.consecutive_failures - 1, Ordering::Relaxed);
            health.ejected.store(false, Ordering::Release);
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        RecordOutcome {
            inner: self.inner.call(request),
            health: Arc::clone(&self.health),
        }
    }
}

/// The response future of [`Ejection`]: records whether the attempt failed.
///
/// An attempt dropped before it finishes (cancelled by a timeout, say)
/// records nothing.
#[pin_project]
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct RecordOutcome<F> {
    #[pin]
    inner: F,
    health: Arc<Health>,
}

impl<F, B, E> Future for RecordOutcome<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let failed = match &result {
            Ok(response) => response.status().is_server_error(),
            Err(_) => true,
        };
        this.health.record(failed);
        Poll::Ready(result)
    }
}
