//! [`PeakEwma`]: a service's load is a peak-sensitive moving average of its
//! response times, times its requests in flight.

use std::fmt;
#[cfg(feature = "discover")]
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use donjon_service::Service;
#[cfg(feature = "discover")]
use futures_core::Stream;
#[cfg(feature = "discover")]
use pin_project::pin_project;
use tokio::time::Instant;

use super::Load;
use super::completion::{CompleteOnResponse, TrackCompletion, TrackCompletionFuture};
#[cfg(feature = "discover")]
use crate::discover::{Change, Discover};

/// Measures a service's load as an estimate of its response time,
/// multiplied by one more than its requests in flight.
///
/// The estimate is an exponentially weighted moving average (EWMA) of the
/// response times observed, sensitive to peaks: a response slower than the
/// estimate replaces it at once, while faster ones pull it down gradually,
/// with a time constant of `decay`. Between responses, the estimate also
/// decays toward zero, so an endpoint that was slow once is tried again
/// after a while. Each request in flight counts as one more response of
/// the estimated time.
///
/// Before its first response, the estimate is `default_rtt`. That value
/// matters for endpoints added while traffic flows: a new endpoint costs
/// `default_rtt` where the others cost their measured latency. Set it to
/// about the latency of a healthy endpoint: much higher, and a new endpoint
/// is passed over until its estimate has decayed; zero, and it takes every
/// request until its first response arrives.
///
/// All times come from tokio's clock. A request counts from `call` until
/// its [`Handle`] is dropped, which the [`TrackCompletion`] policy decides
/// (by default, when the response arrives); a dropped response future
/// drops its handle, and its time still counts as a sample.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::load::{CompleteOnResponse, Load, PeakEwma};
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// let slow = service_fn(|()| async {
///     tokio::time::sleep(Duration::from_millis(50)).await;
///     Ok::<_, BoxError>(())
/// });
/// let decay = Duration::from_secs(10).as_nanos() as f64;
/// let mut service = PeakEwma::new(slow, Duration::from_millis(10), decay, CompleteOnResponse::default());
///
/// service.ready().await?.call(()).await?;
/// // A 50 ms response replaced the 10 ms default at once.
/// let load = service.load();
/// # let _ = load;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PeakEwma<S, C = CompleteOnResponse> {
    service: S,
    decay_ns: f64,
    estimate: Arc<Mutex<RttEstimate>>,
    completion: C,
}

/// A [`PeakEwma`] load: the estimated time to serve one more request, in
/// nanoseconds.
#[derive(Copy, Clone, Debug, PartialEq, PartialOrd)]
pub struct Cost(f64);

/// Counts one request in flight for a [`PeakEwma`], and records its
/// response time when dropped.
#[derive(Debug)]
pub struct Handle {
    sent_at: Instant,
    decay_ns: f64,
    estimate: Arc<Mutex<RttEstimate>>,
}

/// The shared response-time estimate.
#[derive(Debug)]
struct RttEstimate {
    update_at: Instant,
    rtt_ns: f64,
}

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A duration in nanoseconds, as a float.
fn nanos(duration: Duration) -> f64 {
    let secs = duration.as_secs().saturating_mul(NANOS_PER_SEC) as f64;
    secs + f64::from(duration.subsec_nanos())
}

fn lock(estimate: &Mutex<RttEstimate>) -> MutexGuard<'_, RttEstimate> {
    // Two floats and an instant, consistent between statements.
    estimate.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RttEstimate {
    fn new(rtt_ns: f64) -> Self {
        debug_assert!(rtt_ns >= 0.0, "a response time cannot be negative");
        RttEstimate {
            update_at: Instant::now(),
            rtt_ns,
        }
    }

    /// Folds in a response sent at `sent_at` and received at `recv_at`,
    /// returning the new estimate.
    fn update(&mut self, sent_at: Instant, recv_at: Instant, decay_ns: f64) -> f64 {
        let rtt = nanos(recv_at.saturating_duration_since(sent_at));
        if self.rtt_ns < rtt {
            // A peak replaces the estimate at once.
            self.rtt_ns = rtt;
        } else {
            let elapsed = nanos(recv_at.saturating_duration_since(self.update_at));
            let decay = (-elapsed / decay_ns).exp();
            let recency = 1.0 - decay;
            self.rtt_ns = self.rtt_ns * decay + rtt * recency;
        }
        self.update_at = recv_at;
        self.rtt_ns
    }

    /// Decays the estimate toward zero for the time since its last update.
    fn decay(&mut self, decay_ns: f64) -> f64 {
        let now = Instant::now();
        self.update(now, now, decay_ns)
    }
}

impl<S, C> PeakEwma<S, C> {
    /// Wraps `service`, starting from an estimate of `default_rtt`, with a
    /// time constant of `decay_ns` nanoseconds; `completion` decides when a
    /// request stops counting.
    ///
    /// `decay_ns` must be positive (checked in debug builds).
    pub fn new(service: S, default_rtt: Duration, decay_ns: f64, completion: C) -> Self {
        debug_assert!(
            decay_ns > 0.0,
            "PeakEwma's decay must be a positive number of nanoseconds, got {decay_ns}"
        );
        PeakEwma {
            service,
            decay_ns,
            estimate: Arc::new(Mutex::new(RttEstimate::new(nanos(default_rtt)))),
            completion,
        }
    }

    fn handle(&self) -> Handle {
        Handle {
            sent_at: Instant::now(),
            decay_ns: self.decay_ns,
            estimate: Arc::clone(&self.estimate),
        }
    }
}

impl<S, C> Load for PeakEwma<S, C> {
    type Metric = Cost;

    fn load(&self) -> Cost {
        // Every handle holds one reference besides our own.
        let pending = Arc::strong_count(&self.estimate) - 1;
        let estimate = lock(&self.estimate).decay(self.decay_ns);
        Cost(estimate * (pending + 1) as f64)
    }
}

impl<S, C, Request> Service<Request> for PeakEwma<S, C>
where
    S: Service<Request>,
    C: TrackCompletion<Handle, S::Response>,
{
    type Response = C::Output;
    type Error = S::Error;
    type Future = TrackCompletionFuture<S::Future, C, Handle>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.service.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Request) -> Self::Future {
        TrackCompletionFuture::new(
            self.completion.clone(),
            self.handle(),
            self.service.call(request),
        )
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let recv_at = Instant::now();
        lock(&self.estimate).update(self.sent_at, recv_at, self.decay_ns);
    }
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", Duration::from_nanos(self.0 as u64))
    }
}

/// Wraps each service a [`Discover`](crate::discover::Discover) finds in a
/// [`PeakEwma`].
#[cfg(feature = "discover")]
#[pin_project]
#[derive(Debug)]
pub struct PeakEwmaDiscover<D, C = CompleteOnResponse> {
    #[pin]
    discover: D,
    decay_ns: f64,
    default_rtt: Duration,
    completion: C,
}

#[cfg(feature = "discover")]
impl<D, C> PeakEwmaDiscover<D, C> {
    /// Wraps `discover`; each service starts from an estimate of
    /// `default_rtt` (see [`PeakEwma`] for how to choose it), with a time
    /// constant of `decay`; `completion` decides when a request stops
    /// counting.
    ///
    /// The `Request` type is only there to check the services' bounds; it is
    /// inferred when they serve one request type.
    pub fn new<Request>(discover: D, default_rtt: Duration, decay: Duration, completion: C) -> Self
    where
        D: Discover,
        D::Service: Service<Request>,
        C: TrackCompletion<Handle, <D::Service as Service<Request>>::Response>,
    {
        PeakEwmaDiscover {
            discover,
            decay_ns: nanos(decay),
            default_rtt,
            completion,
        }
    }
}

#[cfg(feature = "discover")]
impl<D, C> Stream for PeakEwmaDiscover<D, C>
where
    D: Discover,
    C: Clone,
{
    type Item = Result<Change<D::Key, PeakEwma<D::Service, C>>, D::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        this.discover.poll_discover(cx).map(|change| {
            change.map(|change| {
                change.map(|change| match change {
                    Change::Insert(key, service) => Change::Insert(
                        key,
                        PeakEwma::new(
                            service,
                            *this.default_rtt,
                            *this.decay_ns,
                            this.completion.clone(),
                        ),
                    ),
                    Change::Remove(key) => Change::Remove(key),
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::future::{Ready, ready};

    use futures::FutureExt;
    use tokio::time::advance;

    use super::*;

    struct Answer;

    impl Service<()> for Answer {
        type Response = ();
        type Error = ();
        type Future = Ready<Result<(), ()>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, (): ()) -> Self::Future {
            ready(Ok(()))
        }
    }

    fn ms(millis: u64) -> f64 {
        nanos(Duration::from_millis(millis))
    }

    #[tokio::test(start_paused = true)]
    async fn the_default_estimate_decays_without_samples() {
        let service = PeakEwma::new(
            Answer,
            Duration::from_millis(10),
            ms(1_000),
            CompleteOnResponse,
        );
        assert_eq!(service.load(), Cost(ms(10)));

        advance(Duration::from_millis(100)).await;
        let load = service.load();
        assert!(Cost(ms(9)) < load && load < Cost(ms(10)), "{load:?}");

        advance(Duration::from_millis(100)).await;
        let load = service.load();
        assert!(Cost(ms(8)) < load && load < Cost(ms(9)), "{load:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn peaks_count_at_once_and_pending_requests_multiply() {
        let mut service = PeakEwma::new(
            Answer,
            Duration::from_millis(20),
            ms(1_000),
            CompleteOnResponse,
        );
        assert_eq!(service.load(), Cost(ms(20)));

        advance(Duration::from_millis(100)).await;
        let first = service.call(());
        advance(Duration::from_millis(100)).await;
        let second = service.call(());

        advance(Duration::from_millis(100)).await;
        first.now_or_never().expect("ready").expect("ok");
        // A 200 ms peak, times two: one more request is in flight.
        assert_eq!(service.load(), Cost(ms(400)));

        advance(Duration::from_millis(100)).await;
        second.now_or_never().expect("ready").expect("ok");
        assert_eq!(service.load(), Cost(ms(200)));

        advance(Duration::from_secs(1)).await;
        assert!(service.load() < Cost(ms(100)));

        advance(Duration::from_secs(10)).await;
        assert!(service.load() < Cost(nanos(Duration::from_micros(100))));
    }

    #[test]
    fn nanos_saturates_instead_of_overflowing() {
        assert_eq!(
            nanos(Duration::new(u64::MAX, 999_999_999)),
            18_446_744_074_709_553_000.0
        );
    }
}
