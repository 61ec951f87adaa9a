//! [`Checked`]: an endpoint that is not ready while its probes fail, and
//! the task that probes it.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use donjon_service::Service;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tracing::Instrument;

use super::config::Tally;
use super::{HealthCheck, Probe};
use crate::load::Load;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Mutex, lock, register};

/// An endpoint that is not ready while its health checks fail.
///
/// A checked endpoint is probed by a task of its own, spawned when it is
/// made: at once, then every [`interval`](HealthCheck::interval). After
/// [`unhealthy_threshold`](HealthCheck::unhealthy_threshold) failed probes
/// in a row (a probe that times out fails), it is unhealthy: `poll_ready`
/// returns `Pending` (never an error, which would make a balancer drop the
/// endpoint), without polling the inner service, and the task is woken once
/// [`healthy_threshold`](HealthCheck::healthy_threshold) passed probes in a
/// row make it healthy again. A new endpoint is healthy until its probes
/// say otherwise.
///
/// While healthy, and always for an endpoint that is not checked,
/// readiness, requests, errors and [`Load`] are the inner service's,
/// unchanged.
///
/// # Cancellation
///
/// Dropping it (a balancer drops an endpoint removed from its discovery)
/// aborts its probing task, and with it the probe in flight; so does
/// [`into_inner`](Checked::into_inner). Requests already sent are not
/// affected.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::balance::health::{Checked, HealthCheck};
/// use donjon::{BoxError, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// let endpoint = service_fn(|()| async { Ok::<_, BoxError>("hello") });
/// let probe = |_address: &&str| async { Err::<(), _>("connection refused") };
/// let config = HealthCheck::new(Duration::from_secs(1));
/// let mut checked = Checked::new(endpoint, "10.0.0.1:80", config, probe);
/// assert!(checked.is_healthy(), "healthy until probed");
///
/// // Probes at 0 s and 1 s fail: unhealthy.
/// tokio::time::sleep(Duration::from_millis(1500)).await;
/// assert!(!checked.is_healthy());
/// let ready = tokio::time::timeout(Duration::from_secs(10), checked.ready()).await;
/// assert!(ready.is_err(), "not ready while unhealthy");
/// # Ok(())
/// # }
/// ```
pub struct Checked<S> {
    inner: S,
    check: Option<Check>,
}

/// The health of a checked endpoint, and its probing task.
struct Check {
    health: Arc<Health>,
    task: JoinHandle<()>,
}

impl Drop for Check {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The health a probing task finds, shared with its endpoint.
///
/// # Memory ordering
///
/// The flag guards no other data; what matters is that a `poll_ready`
/// finding the endpoint unhealthy is never left unwoken when it turns
/// healthy. The setter stores the flag, then takes the waker under the
/// lock; the endpoint registers its waker under the lock, then loads the
/// flag again. If the endpoint's lock comes first, the setter finds its
/// waker and wakes it; if the setter's comes first, the lock's release and
/// acquire order the store before the endpoint's second load, which sees
/// the endpoint healthy. `SeqCst` is more than this needs (`Release` on the
/// store and `Acquire` on the loads would do, the lock ordering the rest);
/// it costs nothing on x86 and is read once per `poll_ready` only. A loom
/// model below races the two.
#[derive(Debug)]
struct Health {
    healthy: AtomicBool,
    /// The task waiting for the endpoint to be healthy again.
    waiter: Mutex<Option<Waker>>,
}

impl Health {
    fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }

    /// Sets the health, waking the waiting task when it becomes healthy.
    fn set(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::SeqCst);
        if healthy {
            // Taken after the store: a `poll_ready` that registered before
            // it is woken, one that registers after it sees the endpoint
            // healthy.
            let waiter = lock(&self.waiter).take();
            if let Some(waker) = waiter {
                waker.wake();
            }
        }
    }

    /// Whether it is healthy, registering the task to wake otherwise.
    fn poll_healthy(&self, cx: &mut Context<'_>) -> bool {
        if self.is_healthy() {
            return true;
        }
        register(&mut lock(&self.waiter), cx.waker());
        self.is_healthy()
    }
}

impl<S> Checked<S> {
    /// Wraps `inner`, the endpoint with this `key`, and spawns the task that
    /// probes it as `config` says (in the current `tracing` span); a
    /// [`Probe`] that does not [check](Probe::checks) `key` leaves it
    /// unchecked.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, when it is checked.
    pub fn new<K, P>(inner: S, key: K, config: HealthCheck, probe: P) -> Self
    where
        K: fmt::Debug + Send + 'static,
        P: Probe<K> + Send + Sync + 'static,
    {
        Self::with_shared_probe(inner, key, config, &Arc::new(probe))
    }

    /// [`new`](Self::new), with a probe shared by the endpoints.
    pub(super) fn with_shared_probe<K, P>(
        inner: S,
        key: K,
        config: HealthCheck,
        probe: &Arc<P>,
    ) -> Self
    where
        K: fmt::Debug + Send + 'static,
        P: Probe<K> + Send + Sync + 'static,
    {
        if !probe.checks(&key) {
            return Self::unchecked(inner);
        }
        let health = Arc::new(Health {
            healthy: AtomicBool::new(true),
            waiter: Mutex::new(None),
        });
        let probing = run_probes(key, config, Arc::clone(probe), Arc::clone(&health));
        let task = tokio::spawn(probing.instrument(tracing::Span::current()));
        Checked {
            inner,
            check: Some(Check { health, task }),
        }
    }

    /// Wraps `inner` without checking it: it is always healthy.
    pub const fn unchecked(inner: S) -> Self {
        Checked { inner, check: None }
    }

    /// Whether it is checked.
    pub const fn is_checked(&self) -> bool {
        self.check.is_some()
    }

    /// Whether it is healthy now: always, for an endpoint not checked.
    pub fn is_healthy(&self) -> bool {
        self.check
            .as_ref()
            .is_none_or(|check| check.health.is_healthy())
    }

    /// The inner service.
    pub const fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub const fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service, aborting the probing task.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Probes the endpoint with this key forever: at once, then every interval.
async fn run_probes<K, P>(key: K, config: HealthCheck, probe: Arc<P>, health: Arc<Health>)
where
    K: fmt::Debug,
    P: Probe<K>,
{
    let mut ticks = tokio::time::interval(config.interval());
    // A probe that outlasts the interval delays the one due to its end, and
    // the missed ticks are skipped: no burst to catch up.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut tally = Tally::new();
    loop {
        ticks.tick().await;
        let failure = match tokio::time::timeout(config.timeout(), probe.probe(&key)).await {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(error.to_string()),
            Err(_) => Some(format!("timed out after {:?}", config.timeout())),
        };
        if let Some(error) = &failure {
            tracing::trace!(endpoint = ?key, %error, "health check: probe failed");
        }
        match tally.record(failure.is_none(), &config) {
            None => {}
            Some(true) => {
                health.set(true);
                tracing::debug!(
                    endpoint = ?key,
                    passes = config.healthy_threshold(),
                    "health check: endpoint became healthy"
                );
            }
            Some(false) => {
                health.set(false);
                tracing::debug!(
                    endpoint = ?key,
                    failures = config.unhealthy_threshold(),
                    error = failure.as_deref().unwrap_or_default(),
                    "health check: endpoint became unhealthy"
                );
            }
        }
    }
}

impl<S: Load> Load for Checked<S> {
    type Metric = S::Metric;

    #[inline]
    fn load(&self) -> S::Metric {
        self.inner.load()
    }
}

impl<S, Req> Service<Req> for Checked<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        match &self.check {
            Some(check) if !check.health.poll_healthy(cx) => Poll::Pending,
            _ => self.inner.poll_ready(cx),
        }
    }

    #[inline]
    fn call(&mut self, request: Req) -> S::Future {
        self.inner.call(request)
    }
}

impl<S: fmt::Debug> fmt::Debug for Checked<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checked")
            .field("inner", &self.inner)
            .field("checked", &self.is_checked())
            .field("healthy", &self.is_healthy())
            .finish()
    }
}

#[cfg(all(test, donjon_loom))]
mod loom_models {
    use std::future::poll_fn;

    use loom::future::block_on;
    use loom::thread;

    use super::*;

    #[test]
    fn loom_health_an_endpoint_waiting_is_woken_when_it_turns_healthy() {
        loom::model(|| {
            let health = Arc::new(Health {
                healthy: AtomicBool::new(false),
                waiter: Mutex::new(None),
            });
            let setter = Arc::clone(&health);
            let probe = thread::spawn(move || setter.set(true));
            // A lost wake-up leaves this blocked, which loom reports.
            block_on(poll_fn(|cx| {
                if health.poll_healthy(cx) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }));
            probe.join().expect("no panic");
            assert!(health.is_healthy());
        });
    }
}
