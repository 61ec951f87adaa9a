//! [`OutlierDetection`]: when an endpoint is ejected, for how long, and how
//! many may be out at once.

use std::fmt;
use std::time::Duration;

use super::discover::OutlierDiscover;
use super::{Detector, EjectableLayer};
use crate::classify::ErrorsAreFailures;

/// How an outlier [`Detector`] decides: what ejects an endpoint, for how
/// long, how many endpoints may be out at once, and what a call counts as.
///
/// Start from [`OutlierDetection::new`] (or `Default`) and change what you
/// need with the `with_*` methods; the defaults are Envoy's:
///
/// | setting | default | method |
/// |---|---|---|
/// | consecutive failures that eject | 5 | [`with_consecutive_failures`](Self::with_consecutive_failures), [`without_consecutive_failures`](Self::without_consecutive_failures) |
/// | interval between success-rate checks | 10 s | [`with_interval`](Self::with_interval) |
/// | base ejection time | 30 s | [`with_base_ejection_time`](Self::with_base_ejection_time) |
/// | longest ejection | 300 s | [`with_max_ejection_time`](Self::with_max_ejection_time) |
/// | share of endpoints ejected at once | 0.1 | [`with_max_ejection_share`](Self::with_max_ejection_share) |
/// | one may be ejected whatever the share | yes | [`with_always_eject_one`](Self::with_always_eject_one) |
/// | success rate: endpoints needed | 5 | [`with_success_rate_minimum_hosts`](Self::with_success_rate_minimum_hosts) |
/// | success rate: requests needed per endpoint and interval | 100 | [`with_success_rate_request_volume`](Self::with_success_rate_request_volume) |
/// | success rate: standard deviations below the mean | 1.9 | [`with_success_rate_stdev_factor`](Self::with_success_rate_stdev_factor), [`without_success_rate`](Self::without_success_rate) |
/// | what a call counts as | errors are failures | [`with_classify`](Self::with_classify) |
///
/// See the [module documentation](super) for the rules these feed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::balance::outlier::OutlierDetection;
/// use donjon::classify::Outcome;
///
/// // Eject after 3 failures in a row, for 10 s, then 20 s, 30 s... up to
/// // 2 minutes; at most a quarter of the endpoints at once; responses
/// // that say "busy" count as failures.
/// let detection = OutlierDetection::new()
///     .with_consecutive_failures(3)
///     .with_base_ejection_time(Duration::from_secs(10))
///     .with_max_ejection_time(Duration::from_secs(120))
///     .with_max_ejection_share(0.25)
///     .with_classify(|result: &Result<&str, String>| match result {
///         Ok("busy") | Err(_) => Outcome::Failure,
///         Ok(_) => Outcome::Success,
///     });
/// # drop(detection);
/// ```
#[derive(Clone)]
#[must_use = "a configuration does nothing until a detector is made from it"]
pub struct OutlierDetection<C = ErrorsAreFailures> {
    pub(super) settings: Settings,
    pub(super) classify: C,
    /// The `name` label of its metrics.
    #[cfg(feature = "metrics")]
    pub(super) name: std::borrow::Cow<'static, str>,
}

/// The numbers of an [`OutlierDetection`], without its classifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Settings {
    /// Failures in a row that eject, if that rule is on.
    pub(super) consecutive_failures: Option<u32>,
    pub(super) interval: Duration,
    pub(super) base_ejection_time: Duration,
    pub(super) max_ejection_time: Duration,
    pub(super) max_ejection_share: Share,
    pub(super) always_eject_one: bool,
    /// The success-rate rule, if on.
    pub(super) success_rate: Option<SuccessRate>,
}

/// The success-rate rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SuccessRate {
    pub(super) minimum_hosts: u32,
    pub(super) request_volume: u64,
    pub(super) stdev_factor: f64,
}

/// A share of the endpoints in parts per billion: a fraction converted once,
/// so that the count allowed out is computed in integers (0.2 of 10 is 2,
/// exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Share {
    parts_per_billion: u64,
}

impl Share {
    const BILLION: u64 = 1_000_000_000;

    /// `fraction`, in [0, 1], to the nearest billionth.
    const fn new(fraction: f64) -> Self {
        Share {
            parts_per_billion: (fraction * Self::BILLION as f64 + 0.5) as u64,
        }
    }

    /// The share of `endpoints`, rounded down: `⌊share × endpoints⌋`.
    pub(super) fn of(self, endpoints: usize) -> usize {
        let parts = u128::from(self.parts_per_billion) * endpoints as u128;
        (parts / u128::from(Self::BILLION)) as usize
    }
}

/// Panics unless `value` is more than zero.
fn check_positive(value: Duration, what: &str) {
    assert!(
        !value.is_zero(),
        "outlier detection: {what} must be more than zero, got {value:?}"
    );
}

impl OutlierDetection {
    /// The default configuration (see the table on [`OutlierDetection`]).
    pub const fn new() -> Self {
        OutlierDetection {
            settings: Settings {
                consecutive_failures: Some(5),
                interval: Duration::from_secs(10),
                base_ejection_time: Duration::from_secs(30),
                max_ejection_time: Duration::from_secs(300),
                max_ejection_share: Share::new(0.1),
                always_eject_one: true,
                success_rate: Some(SuccessRate {
                    minimum_hosts: 5,
                    request_volume: 100,
                    stdev_factor: 1.9,
                }),
            },
            classify: ErrorsAreFailures,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed("outlier_detection"),
        }
    }
}

impl Default for OutlierDetection {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> OutlierDetection<C> {
    /// Ejects an endpoint at its `failures`-th failure in a row (Envoy's
    /// `consecutive_5xx`), and at each later one while the share of
    /// endpoints out is full. A success restarts the count; so does an
    /// ejection, and the endpoint's return.
    ///
    /// # Panics
    ///
    /// If `failures` is zero.
    pub fn with_consecutive_failures(mut self, failures: u32) -> Self {
        assert!(
            failures > 0,
            "outlier detection: consecutive failures must be more than zero, got 0"
        );
        self.settings.consecutive_failures = Some(failures);
        self
    }

    /// Turns the consecutive-failures rule off: only the success rate
    /// ejects.
    pub fn without_consecutive_failures(mut self) -> Self {
        self.settings.consecutive_failures = None;
        self
    }

    /// Checks the success rates every `interval` (Envoy's `interval`),
    /// which is also the period after which an ejection multiplier
    /// decreases.
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        check_positive(interval, "the interval");
        self.settings.interval = interval;
        self
    }

    /// Sets the first ejection's length, which later ones multiply
    /// (Envoy's `base_ejection_time`).
    ///
    /// # Panics
    ///
    /// If `time` is zero.
    pub fn with_base_ejection_time(mut self, time: Duration) -> Self {
        check_positive(time, "the base ejection time");
        self.settings.base_ejection_time = time;
        self
    }

    /// Caps the length of an ejection (Envoy's `max_ejection_time`). A cap
    /// below the base ejection time is raised to it, as Envoy does.
    pub fn with_max_ejection_time(mut self, time: Duration) -> Self {
        self.settings.max_ejection_time = time;
        self
    }

    /// Caps the share of the registered endpoints that may be ejected at
    /// once (Envoy's `max_ejection_percent`, as a fraction): an endpoint is
    /// ejected only if the ejected ones, itself included, are at most
    /// `⌊share × endpoints⌋`. See also
    /// [`with_always_eject_one`](Self::with_always_eject_one).
    ///
    /// # Panics
    ///
    /// If `share` is not a fraction in [0, 1].
    pub fn with_max_ejection_share(mut self, share: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&share),
            "outlier detection: the max ejection share must be a fraction in [0, 1], got {share}"
        );
        self.settings.max_ejection_share = Share::new(share);
        self
    }

    /// Whether one endpoint may be ejected when the share rounds down to
    /// none (Envoy's `always_eject_one_host`), provided another one stays
    /// in service: with 5 endpoints and the default share of 0.1,
    /// `⌊0.5⌋ = 0`, but one may be out. On by default, unlike Envoy's
    /// (whose default would eject nothing below 10 endpoints); never the
    /// only endpoint, unless the share itself allows it (a share of 1).
    pub fn with_always_eject_one(mut self, always: bool) -> Self {
        self.settings.always_eject_one = always;
        self
    }

    /// Checks success rates only when at least `hosts` endpoints qualify
    /// (Envoy's `success_rate_minimum_hosts`).
    ///
    /// # Panics
    ///
    /// If `hosts` is zero.
    pub fn with_success_rate_minimum_hosts(mut self, hosts: u32) -> Self {
        assert!(
            hosts > 0,
            "outlier detection: the success-rate minimum hosts must be more than zero, got 0"
        );
        self.success_rate().minimum_hosts = hosts;
        self
    }

    /// Counts an endpoint in the success-rate check only if it had at least
    /// `requests` classified calls in the interval (Envoy's
    /// `success_rate_request_volume`).
    ///
    /// # Panics
    ///
    /// If `requests` is zero.
    pub fn with_success_rate_request_volume(mut self, requests: u64) -> Self {
        assert!(
            requests > 0,
            "outlier detection: the success-rate request volume must be more than zero, got 0"
        );
        self.success_rate().request_volume = requests;
        self
    }

    /// Ejects an endpoint whose success rate is below `mean − factor ×
    /// stdev` of the qualifying endpoints' rates (Envoy's
    /// `success_rate_stdev_factor`, there in thousandths: 1900 is 1.9).
    ///
    /// # Panics
    ///
    /// If `factor` is negative or not finite.
    pub fn with_success_rate_stdev_factor(mut self, factor: f64) -> Self {
        assert!(
            factor.is_finite() && factor >= 0.0,
            "outlier detection: the success-rate stdev factor must be finite and not negative, got {factor}"
        );
        self.success_rate().stdev_factor = factor;
        self
    }

    /// Turns the success-rate rule off. A later `with_success_rate_*`
    /// turns it on again, with the defaults for what it does not set.
    pub fn without_success_rate(mut self) -> Self {
        self.settings.success_rate = None;
        self
    }

    /// The success-rate rule, turned on with the defaults if it was off.
    fn success_rate(&mut self) -> &mut SuccessRate {
        self.settings.success_rate.get_or_insert(SuccessRate {
            minimum_hosts: 5,
            request_volume: 100,
            stdev_factor: 1.9,
        })
    }

    /// Decides what a finished call counts as with `classify` (see
    /// [`classify`](crate::classify)): failures eject, successes reset the
    /// consecutive count, ignored calls count for nothing.
    pub fn with_classify<C2>(self, classify: C2) -> OutlierDetection<C2> {
        OutlierDetection {
            settings: self.settings,
            classify,
            #[cfg(feature = "metrics")]
            name: self.name,
        }
    }

    /// Names the detection in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"outlier_detection"` unless set. With
    /// the `metrics` feature, a detector records the endpoints ejected now
    /// (gauge `donjon_outlier_ejected`) and each ejection (counter
    /// `donjon_outlier_ejections_total`, with `reason`
    /// `consecutive_failures` or `success_rate`).
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// A detector configured so, its first interval starting now.
    pub fn detector(self) -> Detector<C> {
        Detector::new(self)
    }

    /// A new detector, and a discovery that registers with it each
    /// endpoint `discover` finds: [`Detector::discover`] on
    /// [`detector`](Self::detector).
    pub fn discover<D>(self, discover: D) -> OutlierDiscover<D, C> {
        self.detector().discover(discover)
    }

    /// A new detector, and a layer that registers with it each service it
    /// wraps: [`Detector::layer`] on [`detector`](Self::detector).
    pub fn layer(self) -> EjectableLayer<C> {
        self.detector().layer()
    }
}

impl<C> fmt::Debug for OutlierDetection<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutlierDetection")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_rounds_down_in_integers() {
        assert_eq!(Share::new(0.2).of(10), 2);
        assert_eq!(Share::new(0.1).of(5), 0);
        assert_eq!(Share::new(0.1).of(10), 1);
        assert_eq!(Share::new(0.3).of(10), 3, "0.3 × 10 is 3, not 2.999…");
        assert_eq!(Share::new(1.0).of(7), 7);
        assert_eq!(Share::new(0.0).of(7), 0);
    }
}
