//! [`Warming`]: an endpoint whose load looks higher while it warms up.

use std::task::{Context, Poll};
use std::time::Duration;

use donjon_service::Service;
use tokio::time::Instant;

use super::{AsF64, SlowStart};
use crate::load::Load;

/// An endpoint that looks more loaded than it is while it warms up, so that
/// a balancer comparing loads sends it a growing share of requests.
///
/// Its load is the [`Weighted`] metric `(inner load + 1) / f(t)`, where
/// `f(t)` is the [`SlowStart`] weight of an endpoint inserted `t` ago
/// (on tokio's clock): during the window, a power-of-two-choices balancer
/// picks it over an equally loaded warm endpoint only once the warm one
/// has about `1 / f(t)` times its requests in flight. The `+ 1` makes an
/// idle endpoint's weight count too. After the window the weight is 1, and
/// the loads order as the inner ones do.
///
/// Requests and readiness go to the inner service unchanged: a `Warming`
/// adds no failure and holds nothing.
///
/// [`SlowStartDiscover`](super::SlowStartDiscover) wraps every endpoint a
/// discovery finds.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::balance::slow_start::{SlowStart, Warming};
/// use donjon::load::{Constant, Load};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let endpoint = || Constant::new(donjon::service_fn(|()| async { Ok::<_, ()>(()) }), 1_u32);
/// let config = SlowStart::new(Duration::from_secs(10));
/// let new = Warming::new(endpoint(), config);
/// let old = Warming::warm(endpoint());
///
/// // (1 + 1) / 0.1: ten times the load of the warm endpoint, (1 + 1) / 1.
/// assert_eq!(new.load().get(), 20.0);
/// assert_eq!(old.load().get(), 2.0);
///
/// tokio::time::advance(Duration::from_secs(5)).await;
/// assert_eq!(new.load().get(), 4.0, "half the weight, twice the load");
///
/// tokio::time::advance(Duration::from_secs(5)).await;
/// assert_eq!(new.load(), old.load(), "warm");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Warming<S> {
    inner: S,
    /// When the endpoint was inserted and how it ramps up; `None` for an
    /// endpoint that is warm from the start.
    ramp: Option<(Instant, SlowStart)>,
}

/// The load of a [`Warming`] endpoint: `(inner load + 1) / weight`.
///
/// Lower is less loaded; `+∞` for an endpoint whose weight is zero.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Weighted(f64);

impl Weighted {
    /// The load as a number.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl AsF64 for Weighted {
    #[inline]
    fn as_f64(&self) -> f64 {
        self.0
    }
}

impl<S> Warming<S> {
    /// Wraps `inner`, an endpoint inserted now (on tokio's clock), to warm
    /// up as `config` says.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, if tokio's clock is paused (the `test-util`
    /// feature): tokio's `Instant::now` panics then.
    pub fn new(inner: S, config: SlowStart) -> Self {
        Warming {
            inner,
            ramp: Some((Instant::now(), config)),
        }
    }

    /// Wraps `inner`, an endpoint that is warm from the start: its weight
    /// is always 1.
    pub const fn warm(inner: S) -> Self {
        Warming { inner, ramp: None }
    }

    /// Its weight now, in [0, 1]: 1 once warm.
    pub fn weight(&self) -> f64 {
        match &self.ramp {
            None => 1.0,
            Some((since, config)) => config.weight_after(self.elapsed(*since)),
        }
    }

    /// Whether it is still warming up: its weight is below 1.
    pub fn is_warming(&self) -> bool {
        match &self.ramp {
            None => false,
            Some((since, config)) => self.elapsed(*since) < config.window(),
        }
    }

    fn elapsed(&self, since: Instant) -> Duration {
        Instant::now().saturating_duration_since(since)
    }

    /// The inner service.
    pub const fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub const fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> Load for Warming<S>
where
    S: Load,
    S::Metric: AsF64,
{
    type Metric = Weighted;

    fn load(&self) -> Weighted {
        let load = self.inner.load().as_f64() + 1.0;
        match &self.ramp {
            // No clock read for an endpoint that was always warm.
            None => Weighted(load),
            Some(_) => Weighted(load / self.weight()),
        }
    }
}

impl<S, Req> Service<Req> for Warming<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> S::Future {
        self.inner.call(request)
    }
}
