//! [`PeakEwma`]: a service's load is a peak-sensitive moving average of its
//! response times, times its requests in flight.

use std::fmt;
#[cfg(feature = "discover")]
use std::pin::Pin;
use std::sync::Arc;
#[cfg(feature = "discover")]
use std::sync::Weak;
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
use crate::sync::{Mutex, lock};

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
/// Before its first response, the estimate is `default_rtt`. Set it to
/// about the latency of a healthy endpoint: much higher, and the endpoint
/// is passed over until its estimate has decayed; zero, and it takes every
/// request until its first response arrives. [`PeakEwmaDiscover`] starts
/// endpoints that join a measured set from their peers' median estimate
/// instead, so that a default that is off does not starve (or flood) them.
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

#[cfg(feature = "balance")]
impl crate::balance::slow_start::AsF64 for Cost {
    /// The estimated cost.
    fn as_f64(&self) -> f64 {
        self.0
    }
}

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

    /// The estimate decayed to now, without storing it.
    #[cfg(feature = "discover")]
    fn decayed(&self, decay_ns: f64) -> f64 {
        let elapsed = nanos(Instant::now().saturating_duration_since(self.update_at));
        self.rtt_ns * (-elapsed / decay_ns).exp()
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

    /// Like [`new`](PeakEwma::new), starting from an estimate in
    /// nanoseconds.
    #[cfg(feature = "discover")]
    fn with_estimate(service: S, rtt_ns: f64, decay_ns: f64, completion: C) -> Self {
        PeakEwma {
            service,
            decay_ns,
            estimate: Arc::new(Mutex::new(RttEstimate::new(rtt_ns))),
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

impl<S, C, Req> Service<Req> for PeakEwma<S, C>
where
    S: Service<Req>,
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
    fn call(&mut self, request: Req) -> Self::Future {
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

/// Wraps each service a [`Discover`] finds in a
/// [`PeakEwma`].
///
/// # Starting estimates
///
/// The first services found start from `default_rtt`. A service found
/// while others are already measured starts instead from the **median of
/// their current estimates**: it then looks like a typical endpoint, and
/// gets a typical share of requests until its own responses speak for it.
/// Starting from a fixed default would distort that share whenever the
/// default is off: a pessimistic default (much above the real latency)
/// would starve a new endpoint, since the balancer would prefer the
/// measured ones until the default decays (for a default 100 times too
/// high, about 4.6 times `decay`); an optimistic one would flood it. The
/// median, unlike the mean, is not dragged up by one failing, very slow
/// endpoint.
#[cfg(feature = "discover")]
#[pin_project]
pub struct PeakEwmaDiscover<D, C = CompleteOnResponse> {
    #[pin]
    discover: D,
    decay_ns: f64,
    default_rtt: Duration,
    completion: C,
    /// The estimates of the services made so far, while they live.
    peers: Vec<Weak<Mutex<RttEstimate>>>,
}

#[cfg(feature = "discover")]
impl<D: fmt::Debug, C: fmt::Debug> fmt::Debug for PeakEwmaDiscover<D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeakEwmaDiscover")
            .field("discover", &self.discover)
            .field("decay_ns", &self.decay_ns)
            .field("default_rtt", &self.default_rtt)
            .field("completion", &self.completion)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "discover")]
impl<D, C> PeakEwmaDiscover<D, C> {
    /// Wraps `discover`; services start from an estimate of `default_rtt`
    /// (or the median of their live peers', see above), with a time
    /// constant of `decay`; `completion` decides when a request stops
    /// counting.
    ///
    /// The `Req` type is only there to check the services' bounds; it is
    /// inferred when they serve one request type.
    pub fn new<Req>(discover: D, default_rtt: Duration, decay: Duration, completion: C) -> Self
    where
        D: Discover,
        D::Service: Service<Req>,
        C: TrackCompletion<Handle, <D::Service as Service<Req>>::Response>,
    {
        PeakEwmaDiscover {
            discover,
            decay_ns: nanos(decay),
            default_rtt,
            completion,
            peers: Vec::new(),
        }
    }
}

/// The median of the current estimates of the live `peers`, forgetting the
/// dead ones.
#[cfg(feature = "discover")]
fn median_of_peers(peers: &mut Vec<Weak<Mutex<RttEstimate>>>, decay_ns: f64) -> Option<f64> {
    let mut estimates = Vec::with_capacity(peers.len());
    peers.retain(|peer| match peer.upgrade() {
        Some(estimate) => {
            // Read without storing: the peers' own updates are left as they
            // would have been.
            estimates.push(lock(&estimate).decayed(decay_ns));
            true
        }
        None => false,
    });
    if estimates.is_empty() {
        return None;
    }
    estimates.sort_by(f64::total_cmp);
    let middle = estimates.len() / 2;
    Some(if estimates.len() % 2 == 1 {
        estimates[middle]
    } else {
        (estimates[middle - 1] + estimates[middle]) / 2.0
    })
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
        let change = match std::task::ready!(this.discover.poll_discover(cx)) {
            None => return Poll::Ready(None),
            Some(Err(error)) => return Poll::Ready(Some(Err(error))),
            Some(Ok(change)) => change,
        };
        Poll::Ready(Some(Ok(change.map_service(|service| {
            let rtt_ns = median_of_peers(this.peers, *this.decay_ns)
                .unwrap_or_else(|| nanos(*this.default_rtt));
            let service =
                PeakEwma::with_estimate(service, rtt_ns, *this.decay_ns, this.completion.clone());
            this.peers.push(Arc::downgrade(&service.estimate));
            service
        }))))
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

    #[cfg(feature = "discover")]
    #[tokio::test(start_paused = true)]
    async fn a_service_joining_measured_peers_starts_from_their_median() {
        use futures::StreamExt;

        use crate::discover::Change;

        let (changes, discover) = futures::channel::mpsc::unbounded::<
            Result<Change<u8, Answer>, std::convert::Infallible>,
        >();
        // A pessimistic default: a whole second.
        let mut wrapped = Box::pin(PeakEwmaDiscover::new(
            discover,
            Duration::from_secs(1),
            Duration::from_secs(10),
            CompleteOnResponse,
        ));
        let mut inserted = Vec::new();
        for key in 0..3 {
            changes
                .unbounded_send(Ok(Change::Insert(key, Answer)))
                .expect("open");
            match wrapped.next().await {
                Some(Ok(Change::Insert(_, service))) => inserted.push(service),
                _ => panic!("expected an insertion"),
            }
        }
        // The first one starts from the default; the next ones, from their
        // peers (here still all at the default).
        assert_eq!(inserted[0].load(), Cost(ms(1_000)));

        // A minute of decay, then responses of 10, 20 and 900 ms: each is a
        // peak above its decayed estimate, so it becomes the estimate.
        advance(Duration::from_secs(60)).await;
        for (service, latency) in inserted.iter_mut().zip([10, 20, 900]) {
            let response = service.call(());
            advance(Duration::from_millis(latency)).await;
            response.now_or_never().expect("ready").expect("ok");
        }
        let measured: Vec<f64> = inserted.iter().map(|service| service.load().0).collect();
        let mut sorted = measured.clone();
        sorted.sort_by(f64::total_cmp);

        changes
            .unbounded_send(Ok(Change::Insert(9, Answer)))
            .expect("open");
        let Some(Ok(Change::Insert(_, newcomer))) = wrapped.next().await else {
            panic!("expected an insertion");
        };
        let start = newcomer.load().0;
        assert!(
            (start - sorted[1]).abs() < ms(1),
            "the newcomer starts at {start} ns, the peers' median is {} ns",
            sorted[1]
        );
        assert!(
            start < ms(1_000) / 10.0,
            "far below the pessimistic default"
        );
    }
}
