use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use donjon_service::Service;
use tokio::time::Instant;

use super::Policy;
use super::future::{Armed, Future, HedgedFuture};
use super::histogram::RotatingHistogram;
use crate::BoxError;
use crate::sync::{Mutex, MutexGuard, lock};

/// One hedge, in the units of the hedge budget.
const HEDGE: u64 = 1000;

/// The hedges that can be saved up for a burst.
const BURST: u64 = 10 * HEDGE;

/// Sends a copy of a slow request to another clone of the service, and
/// answers with whichever finishes first; see the [module
/// documentation](super).
///
/// # How it decides
///
/// Response times (from `call` to a successful response, in whole
/// milliseconds, rounded up) go into a histogram that covers the last
/// `period`; quantiles are read from the previous period's. When a request
/// arrives, if the [`Policy`] can copy it and at least `min_data_points`
/// times were recorded in the previous period, a hedge is armed, with a
/// delay of the `latency_percentile` quantile of those times.
/// **`latency_percentile` is a fraction between 0 and 1**: `0.9` hedges
/// requests slower than 90% of their predecessors; `90.0` is rejected.
/// When the delay is over and the request has not been answered, the
/// policy's [`can_retry`](Policy::can_retry) is asked; if it agrees and the
/// budget allows, the copy is sent to a clone of the service (driven to
/// readiness first). The first response, success or error, is the answer;
/// the other attempt is dropped, which cancels it.
///
/// # Extra load
///
/// Hedges never add more than a set share of the requests: by default
/// `1 - latency_percentile` (10% for 0.9), what the percentile promises in
/// steady state, so that a service that slows down as a whole is not sent
/// twice the traffic. Each request earns that share of a hedge, and a hedge
/// spends one; up to 10 hedges can be saved up for a burst (and are
/// available from the start, unless the share is zero: then no request is
/// ever hedged). See [`max_extra_load`](Hedge::max_extra_load).
///
/// # Cancellation
///
/// Dropping a response future drops everything it holds: the original
/// request's future, the hedge's timer, and the hedge (its copy of the
/// request and the clone of the service it goes through, or its future
/// once sent), which cancels the attempt still running. A response future
/// dropped before its hedge's delay ran out spends nothing from the budget
/// of extra load.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: the inner service's errors as they
/// are, from whichever attempt finishes first, or from the hedge's clone
/// failing to become ready.
///
/// # Metrics
///
/// With the `metrics` feature, each hedge sent counts in
/// `donjon_hedges_total`, and each hedge whose answer came first (and so is
/// the response) in `donjon_hedges_won_total` (see
/// [`metrics`](crate::metrics)), under the name given to
/// [`with_name`](Hedge::with_name) (`"hedge"` by default). The handles are
/// taken when the hedge is made (and again when it is named), and shared by
/// its requests through the state they share already: a request costs
/// nothing more, a hedge sent one increment, a hedge that wins another.
///
/// # Panics
///
/// The constructors panic if `latency_percentile` is not between 0 and 1.
/// A request for which a hedge is armed needs a tokio runtime with its time
/// driver enabled.
pub struct Hedge<S, P>(Hedged<S, P>);

/// The service behind a [`Hedge`]; it only appears in [`Hedge`]'s future
/// type.
#[doc(hidden)]
pub struct Hedged<S, P> {
    service: S,
    policy: P,
    shared: Arc<Shared>,
}

/// What all the requests of a hedge share.
pub(super) struct Shared {
    latencies: Mutex<RotatingHistogram>,
    min_data_points: u64,
    quantile: f64,
    /// Saved-up hedges, in thousandths of a hedge.
    budget: AtomicU64,
    /// What each request adds to the budget, in thousandths of a hedge.
    earned_per_request: u64,
    #[cfg(feature = "metrics")]
    pub(super) meter: super::meter::Meter,
    /// A budget shared with other layers, which each hedge also needs a
    /// permit of.
    #[cfg(feature = "retry")]
    pub(super) in_flight: Option<crate::retry::budget::InFlightBudget>,
}

impl Shared {
    fn latencies(&self) -> MutexGuard<'_, RotatingHistogram> {
        lock(&self.latencies)
    }

    /// Records the response time of a request sent at `sent_at`.
    pub(super) fn record(&self, sent_at: Instant) {
        let elapsed = Instant::now().saturating_duration_since(sent_at);
        let millis = u64::try_from(elapsed.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
        self.latencies().write().record(millis);
    }

    /// The hedge delay, if enough response times are known.
    fn delay(&self) -> Option<Duration> {
        let mut latencies = self.latencies();
        let known = latencies.read();
        if known.len() < self.min_data_points {
            return None;
        }
        Some(Duration::from_millis(
            known.value_at_quantile(self.quantile),
        ))
    }

    fn earn(&self) {
        if self.earned_per_request == 0 {
            return;
        }
        let _ = self
            .budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |budget| {
                Some((budget + self.earned_per_request).min(BURST))
            });
    }

    /// Takes one hedge from the budget, if there is one, returning the
    /// hedges left (a fraction).
    pub(super) fn spend(&self) -> Option<f64> {
        self.budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |budget| {
                budget.checked_sub(HEDGE)
            })
            .ok()
            .map(|before| (before - HEDGE) as f64 / HEDGE as f64)
    }

    /// The quantile the hedge delay is read at, as it was given.
    pub(super) fn percentile(&self) -> f32 {
        self.quantile as f32
    }
}

/// The budget to start from: a full burst, unless requests earn nothing
/// (then no request is ever hedged).
fn starting_budget(earned_per_request: u64) -> u64 {
    if earned_per_request == 0 { 0 } else { BURST }
}

fn earned(share: f32) -> u64 {
    (f64::from(share.clamp(0.0, 1.0)) * HEDGE as f64).round() as u64
}

impl<S, P> Hedge<S, P> {
    /// Wraps `service`, hedging the requests `policy` allows once
    /// `min_data_points` response times are known, after the
    /// `latency_percentile` quantile (a fraction: 0.9) of the response times
    /// of the last `period`.
    ///
    /// The `Req` type is only there to check the bounds; it is inferred
    /// when the service serves one request type.
    ///
    /// # Panics
    ///
    /// If `latency_percentile` is not between 0 and 1.
    pub fn new<Req>(
        service: S,
        policy: P,
        min_data_points: u64,
        latency_percentile: f32,
        period: Duration,
    ) -> Hedge<S, P>
    where
        S: Service<Req> + Clone,
        S::Error: Into<BoxError>,
        P: Policy<Req> + Clone,
    {
        Self::new_with_mock_latencies(
            service,
            policy,
            min_data_points,
            latency_percentile,
            period,
            &[],
        )
    }

    /// Like [`new`](Hedge::new), with `latencies_ms` already known as the
    /// previous period's response times: for tests.
    ///
    /// # Panics
    ///
    /// If `latency_percentile` is not between 0 and 1.
    pub fn new_with_mock_latencies<Req>(
        service: S,
        policy: P,
        min_data_points: u64,
        latency_percentile: f32,
        period: Duration,
        latencies_ms: &[u64],
    ) -> Hedge<S, P>
    where
        S: Service<Req> + Clone,
        S::Error: Into<BoxError>,
        P: Policy<Req> + Clone,
    {
        assert!(
            (0.0..=1.0).contains(&latency_percentile),
            "Hedge's latency_percentile is a fraction between 0 and 1 (0.9 for the 90th \
             percentile), got {latency_percentile}"
        );
        let mut latencies = RotatingHistogram::new(period);
        for &latency in latencies_ms {
            latencies.read().record(latency);
        }
        let earned_per_request = earned(1.0 - latency_percentile);
        let shared = Shared {
            latencies: Mutex::new(latencies),
            min_data_points,
            quantile: f64::from(latency_percentile),
            budget: AtomicU64::new(starting_budget(earned_per_request)),
            earned_per_request,
            #[cfg(feature = "metrics")]
            meter: super::meter::Meter::new("hedge".into()),
            #[cfg(feature = "retry")]
            in_flight: None,
        };
        Hedge(Hedged {
            service,
            policy,
            shared: Arc::new(shared),
        })
    }

    /// Caps the hedges at a `share` of the requests (0.05 for one hedge per
    /// 20 requests; 0 for none), instead of `1 - latency_percentile`.
    ///
    /// # Panics
    ///
    /// If called while a response future of this `Hedge` is alive: configure
    /// it before sending requests.
    pub fn max_extra_load(mut self, share: f32) -> Self {
        let shared = Arc::get_mut(&mut self.0.shared)
            .expect("a Hedge is configured before its first request");
        shared.earned_per_request = earned(share);
        shared.budget = AtomicU64::new(starting_budget(shared.earned_per_request));
        self
    }

    /// Makes each hedge also need a permit of `budget`, held while the
    /// hedge is in flight, so that this hedge and the retries and hedges of
    /// other layers holding the same budget share one bound relative to the
    /// work in flight (see [`InFlightBudget`](crate::retry::budget::InFlightBudget)).
    /// Its own budget (see [`max_extra_load`](Self::max_extra_load)) still
    /// applies; a hedge needs both.
    ///
    /// # Panics
    ///
    /// If called while a response future of this `Hedge` is alive: configure
    /// it before sending requests.
    #[cfg(feature = "retry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "retry")))]
    pub fn with_budget(mut self, budget: crate::retry::budget::InFlightBudget) -> Self {
        let shared = Arc::get_mut(&mut self.0.shared)
            .expect("a Hedge is configured before its first request");
        shared.in_flight = Some(budget);
        self
    }

    /// Names it in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)), taking the handles of
    /// `donjon_hedges_total` and `donjon_hedges_won_total` from the recorder
    /// installed now.
    ///
    /// # Panics
    ///
    /// If called while a response future of this `Hedge` is alive: name it
    /// before sending requests.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let shared =
            Arc::get_mut(&mut self.0.shared).expect("a Hedge is named before its first request");
        shared.meter = super::meter::Meter::new(name.into());
        self
    }
}

impl<S, P, Req> Service<Req> for Hedged<S, P>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    P: Policy<Req> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = HedgedFuture<S, P, Req>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.service.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let sent_at = Instant::now();
        self.shared.earn();
        let armed = self.policy.clone_request(&request).and_then(|copy| {
            let delay = self.shared.delay()?;
            Some(Armed {
                delay,
                copy,
                service: self.service.clone(),
                policy: self.policy.clone(),
            })
        });
        let primary = self.service.call(request);
        HedgedFuture::new(primary, sent_at, armed, Arc::clone(&self.shared))
    }
}

impl<S, P, Req> Service<Req> for Hedge<S, P>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    P: Policy<Req> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Future<Hedged<S, P>, Req>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        Future::new(self.0.call(request))
    }
}

impl<S: fmt::Debug, P: fmt::Debug> fmt::Debug for Hedge<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Hedge").field(&self.0).finish()
    }
}

impl<S: fmt::Debug, P: fmt::Debug> fmt::Debug for Hedged<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hedged")
            .field("service", &self.service)
            .field("policy", &self.policy)
            .field("min_data_points", &self.shared.min_data_points)
            .field("latency_percentile", &(self.shared.quantile as f32))
            .finish_non_exhaustive()
    }
}
