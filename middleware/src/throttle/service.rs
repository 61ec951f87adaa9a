use std::fmt;
use std::task::{Context, Poll};

use donjon_service::Service;
use tokio::time::Instant;

use super::ThrottleLayer;
use super::error::Throttled;
use super::future::ResponseFuture;
use super::window::{Window, probability};
use crate::BoxError;
use crate::classify::{Classify, ErrorsAreFailures};
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::{Arc, Mutex, lock};

/// Refuses requests locally, before they reach the backend, with a
/// probability that grows as the backend accepts fewer of them: the
/// client-side adaptive throttling of the Google SRE book.
///
/// Over a sliding window (2 minutes in 12 spans unless set), it counts the
/// requests made (those it refused included) and those the backend
/// accepted (whose outcome the [`Classify`] calls a success), and refuses
/// each new request with probability
/// `max(0, (requests − k × accepts) / (requests + 1))`, `k` being 2 unless
/// set. While the backend accepts more than one request in `k`, nothing is
/// refused; when it refuses everything, nearly everything is refused
/// locally, and the backend spends nothing on requests it would refuse.
/// See [`ThrottleLayer`] for the settings.
///
/// An outcome classified [`Ignored`](crate::classify::Outcome::Ignored),
/// and a response future dropped before it finished, count nowhere.
///
/// # Backpressure
///
/// `poll_ready` draws for the next call first. A request it refuses makes
/// it `Ready(Ok(()))` at once, without polling the inner service, and the
/// next `call` fails with [`Throttled`]; otherwise it is the inner
/// service's readiness.
///
/// # Cancellation
///
/// A response future holds no resource; dropped, its request is not
/// counted.
///
/// # Errors
///
/// The inner service's errors, boxed, and [`Throttled`] for a request it
/// refused.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning
/// `Ready(Ok(()))`.
///
/// # Metrics
///
/// With the `metrics` feature, the requests it refuses
/// (`donjon_throttled_total`) and the probability of refusal
/// (`donjon_throttle_probability`, set when a count changes it), under the
/// name given to [`ThrottleLayer::with_name`] (`"throttle"` if none).
///
/// # Memory ordering
///
/// Every count happens under the window's lock, which also writes the
/// probability the counts give into an atomic. `poll_ready` reads it
/// `Relaxed`, without the lock, and takes the lock only when it is above
/// zero (to let expired spans go). The probability is a figure on its own,
/// read with nothing that depends on it: a draw against a value a few
/// counts old is a draw the window could have given a moment earlier, and
/// a zero read just as another thread raises it admits one request the
/// window would have refused with that small probability. The probability
/// is written under the lock, so that the last value written is the one
/// the last count gave (a loom model checks it).
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::throttle::Throttle;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let service = Throttle::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }));
/// assert_eq!(service.oneshot(3).await?, 3);
/// # Ok(())
/// # }
/// ```
pub struct Throttle<S, C = ErrorsAreFailures> {
    inner: S,
    shared: Arc<Shared<C>>,
    /// What `poll_ready` decided for the next call.
    next: Next,
    /// The state of this handle's random draws; 0 until its first draw.
    rng: u64,
}

#[derive(Debug, Clone, Copy)]
enum Next {
    Undecided,
    Admit,
    Refuse(f64),
}

/// What the clones of one throttle share.
pub(super) struct Shared<C> {
    window: Mutex<Window>,
    /// The probability of refusal the window gave at its last count
    /// (`f64` bits).
    probability: AtomicU64,
    k: f64,
    /// The seed of the handles' draws, and how many have drawn yet.
    seed: u64,
    draws_seeded: AtomicU64,
    pub(super) classify: C,
    /// `donjon_throttled_total` and `donjon_throttle_probability`.
    #[cfg(feature = "metrics")]
    meter: (metrics::Counter, metrics::Gauge),
}

impl<C> Shared<C> {
    /// Counts a request, accepted by the backend or not.
    pub(super) fn record(&self, accepted: bool) {
        self.update(Some(accepted));
    }

    /// The probability of refusal for a request now: the last count's
    /// while it is zero; above zero, the window's as of now, since spans
    /// may have expired since (a client that stopped for a while after an
    /// outage must not keep the outage's probability).
    fn current(&self) -> f64 {
        if self.last() > 0.0 {
            self.update(None)
        } else {
            0.0
        }
    }

    /// The probability as of the last count.
    fn last(&self) -> f64 {
        f64::from_bits(self.probability.load(Ordering::Relaxed))
    }

    /// Rolls the window to now, counts a request if `accepted` says
    /// whether one was, and updates the probability, which it returns.
    fn update(&self, accepted: Option<bool>) -> f64 {
        let now = Instant::now();
        let (requests, accepts, before, after) = {
            let mut window = lock(&self.window);
            match accepted {
                Some(accepted) => window.record(now, accepted),
                None => window.roll(now),
            }
            let (requests, accepts) = window.counts();
            let after = probability(requests, accepts, self.k);
            let before = f64::from_bits(self.probability.swap(after.to_bits(), Ordering::Relaxed));
            (requests, accepts, before, after)
        };
        #[cfg(feature = "metrics")]
        if before.to_bits() != after.to_bits() {
            self.meter.1.set(after);
        }
        if (before > 0.0) != (after > 0.0) {
            tracing_change(requests, accepts, self.k, after);
        }
        after
    }
}

/// Reports the throttle starting or stopping to refuse requests.
#[cold]
fn tracing_change(requests: u64, accepts: u64, k: f64, probability: f64) {
    #[cfg(feature = "tracing")]
    if probability > 0.0 {
        tracing::warn!(
            requests,
            accepts,
            k,
            probability,
            "throttle: the backend accepts too few requests, some are refused locally"
        );
    } else {
        tracing::info!(
            requests,
            accepts,
            k,
            "throttle: the backend accepts enough requests, none are refused"
        );
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (requests, accepts, k, probability);
}

impl<S> Throttle<S> {
    /// Wraps `inner` with the default settings (see [`ThrottleLayer`]).
    pub fn new(inner: S) -> Self {
        Self::from_layer(inner, &ThrottleLayer::new())
    }
}

impl<S, C> Throttle<S, C> {
    pub(super) fn from_layer(inner: S, layer: &ThrottleLayer<C>) -> Self
    where
        C: Clone,
    {
        let seed = layer.seed.unwrap_or_else(|| {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(0u64)
        });
        Throttle {
            inner,
            shared: Arc::new(Shared {
                window: Mutex::new(Window::new(layer.window, layer.buckets, Instant::now())),
                probability: AtomicU64::new(0.0f64.to_bits()),
                k: layer.k,
                seed,
                draws_seeded: AtomicU64::new(0),
                classify: layer.classify.clone(),
                #[cfg(feature = "metrics")]
                meter: {
                    use crate::metrics::names;
                    let labels = [(names::NAME, metrics::SharedString::from(layer.name.clone()))];
                    (
                        metrics::counter!(names::THROTTLED, &labels),
                        metrics::gauge!(names::THROTTLE_PROBABILITY, &labels),
                    )
                },
            }),
            next: Next::Undecided,
            rng: 0,
        }
    }

    /// The probability with which it refuses a request now, between 0 and 1.
    pub fn probability(&self) -> f64 {
        self.shared.current()
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// A number drawn uniformly in `[0, 1)`.
    fn draw(&mut self) -> f64 {
        if self.rng == 0 {
            // Each handle its own stream: clones are made per request by
            // some servers, and would otherwise all draw the same number.
            let index = self.shared.draws_seeded.fetch_add(1, Ordering::Relaxed);
            self.rng = splitmix64(self.shared.seed ^ splitmix64(index)) | 1;
        }
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        #[allow(clippy::cast_precision_loss, reason = "53 bits: exact")]
        let drawn = bits as f64 / (1u64 << 53) as f64;
        drawn
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl<S, C, Req> Service<Req> for Throttle<S, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if let Next::Undecided = self.next {
            let probability = self.shared.current();
            self.next = if probability > 0.0 && self.draw() < probability {
                Next::Refuse(probability)
            } else {
                Next::Admit
            };
        }
        if let Next::Refuse(_) = self.next {
            return Poll::Ready(Ok(()));
        }
        match self.inner.poll_ready(cx) {
            Poll::Ready(Err(error)) => {
                self.next = Next::Undecided;
                Poll::Ready(Err(error.into()))
            }
            polled => polled.map_err(Into::into),
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        match std::mem::replace(&mut self.next, Next::Undecided) {
            Next::Admit => {
                ResponseFuture::called(self.inner.call(request), Arc::clone(&self.shared))
            }
            Next::Refuse(probability) => {
                #[cfg(feature = "metrics")]
                self.shared.meter.0.increment(1);
                self.shared.record(false);
                ResponseFuture::throttled(Throttled::new(probability))
            }
            Next::Undecided => panic!(
                "Throttle called before it was ready; poll_ready must return Ready(Ok(())) \
                 before each call"
            ),
        }
    }
}

impl<S: Clone, C> Clone for Throttle<S, C> {
    /// A handle on the same window, undecided, with its own draws.
    fn clone(&self) -> Self {
        Throttle {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            next: Next::Undecided,
            rng: 0,
        }
    }
}

impl<S: fmt::Debug, C> fmt::Debug for Throttle<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("inner", &self.inner)
            .field("k", &self.shared.k)
            .field("probability", &self.shared.last())
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, donjon_loom))]
mod loom_models {
    use super::*;

    #[test]
    fn loom_throttle_concurrent_counts_leave_the_probability_of_the_last() {
        loom::model(|| {
            let throttle = Throttle::new(());
            let other = Arc::clone(&throttle.shared);
            let counter = loom::thread::spawn(move || other.record(false));
            throttle.shared.record(false);
            counter.join().unwrap();
            // Two refusals: (2 - 0) / 3, whichever count came last.
            assert!((throttle.shared.last() - 2.0 / 3.0).abs() < 1e-12);
        });
    }
}
