use std::time::Duration;

use donjon_layer::Layer;

use super::Throttle;
use crate::classify::ErrorsAreFailures;

/// Wraps services in a [`Throttle`], and holds its settings: `k` (2), the
/// window (2 minutes in 12 spans), the seed of its random draws (from the
/// operating system's randomness) and the [`Classify`](crate::classify::Classify)
/// that tells accepted requests from refused ones (errors are refusals).
///
/// Each service it wraps gets its own window; clones of a service share it.
#[derive(Debug, Clone)]
pub struct ThrottleLayer<C = ErrorsAreFailures> {
    pub(super) k: f64,
    pub(super) window: Duration,
    pub(super) buckets: usize,
    pub(super) seed: Option<u64>,
    pub(super) classify: C,
    /// The `name` label of its services' metrics.
    #[cfg(feature = "metrics")]
    pub(super) name: std::borrow::Cow<'static, str>,
}

impl ThrottleLayer {
    /// The default settings.
    pub const fn new() -> Self {
        ThrottleLayer {
            k: 2.0,
            window: Duration::from_secs(120),
            buckets: 12,
            seed: None,
            classify: ErrorsAreFailures,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed("throttle"),
        }
    }
}

impl Default for ThrottleLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> ThrottleLayer<C> {
    /// Sets `k`, the multiplier of the accepted requests: nothing is refused
    /// while the backend accepts at least one request in `k`. Lower is more
    /// aggressive; the SRE book suggests 2, and 1.1 for a client that
    /// should waste little of a struggling backend's capacity.
    ///
    /// # Panics
    ///
    /// If `k` is below 1 (healthy traffic would be refused) or not finite.
    pub fn k(mut self, k: f64) -> Self {
        assert!(
            k.is_finite() && k >= 1.0,
            "a throttle's k is at least 1 (below, it refuses requests a healthy backend accepts), got {k}"
        );
        self.k = k;
        self
    }

    /// Counts the requests of the last `window`, forgotten one span of
    /// `window / buckets` at a time.
    ///
    /// # Panics
    ///
    /// If `window` or `buckets` is zero.
    pub fn window(mut self, window: Duration, buckets: usize) -> Self {
        assert!(
            !window.is_zero() && buckets > 0,
            "a throttle's window needs a length and at least one span, got {window:?} in {buckets}"
        );
        self.window = window;
        self.buckets = buckets;
        self
    }

    /// Seeds the random draws, so that a run can be repeated: each handle
    /// draws from its own stream, seeded from this seed and the order in
    /// which handles first draw.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Classifies outcomes with `classify`: a success is a request the
    /// backend accepted, a failure one it did not, and an ignored outcome
    /// counts nowhere.
    pub fn classify<C2>(self, classify: C2) -> ThrottleLayer<C2> {
        ThrottleLayer {
            k: self.k,
            window: self.window,
            buckets: self.buckets,
            seed: self.seed,
            classify,
            #[cfg(feature = "metrics")]
            name: self.name,
        }
    }

    /// Names its services in their metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"throttle"` unless set. Each service
    /// takes its handles from the recorder installed when it is made.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S, C: Clone> Layer<S> for ThrottleLayer<C> {
    type Service = Throttle<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Throttle::from_layer(inner, self)
    }
}
