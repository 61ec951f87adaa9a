//! [`SlowStart`]: how long a new endpoint's weight takes to ramp up, and
//! along which curve.

use std::time::Duration;

/// How a new endpoint's share of traffic ramps up: over a `window`, its
/// weight grows from `min_weight` to 1 along `(t / window)^(1 / aggression)`.
///
/// The weight `f(t)` of an endpoint inserted `t` ago is
///
/// ```text
/// f(t) = max(min_weight, (t / window)^(1 / aggression))   for t < window
/// f(t) = 1                                                 for t ≥ window
/// ```
///
/// as in Envoy's slow start. An aggression of 1 (the default) ramps up
/// linearly; above 1, the weight rises fast at first and slowly at the end;
/// below 1, slowly at first. `min_weight` (by default 0.1, Envoy's
/// `min_weight_percent` of 10 %) keeps a new endpoint from getting nothing
/// at all at first.
///
/// By default the endpoints of the discovery's first batch are not warmed:
/// see [`with_warm_initial`](SlowStart::with_warm_initial).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::balance::slow_start::SlowStart;
///
/// let config = SlowStart::new(Duration::from_secs(60));
/// assert_eq!(config.weight_after(Duration::ZERO), 0.1, "the minimum weight");
/// assert_eq!(config.weight_after(Duration::from_secs(30)), 0.5, "linear");
/// assert_eq!(config.weight_after(Duration::from_secs(60)), 1.0, "warm");
///
/// let eager = config.with_aggression(2.0);
/// assert_eq!(eager.weight_after(Duration::from_secs(15)), 0.5, "the square root of 1/4");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlowStart {
    window: Duration,
    aggression: f64,
    min_weight: f64,
    warm_initial: bool,
}

impl SlowStart {
    /// Ramps new endpoints up over `window`, linearly (aggression 1), from
    /// a minimum weight of 0.1; the endpoints of the first batch are not
    /// warmed.
    ///
    /// # Panics
    ///
    /// If `window` is zero.
    pub const fn new(window: Duration) -> Self {
        assert!(
            !window.is_zero(),
            "the slow start window must be longer than zero"
        );
        SlowStart {
            window,
            aggression: 1.0,
            min_weight: 0.1,
            warm_initial: false,
        }
    }

    /// Sets the shape of the ramp: the weight grows as
    /// `(t / window)^(1 / aggression)`. 1 (the default) is linear; 2 is a
    /// square root, rising fast at first; 0.5 is a square, rising slowly
    /// at first.
    ///
    /// # Panics
    ///
    /// Unless `aggression` is finite and above zero.
    pub fn with_aggression(mut self, aggression: f64) -> Self {
        assert!(
            aggression.is_finite() && aggression > 0.0,
            "the slow start aggression must be finite and above zero, got {aggression}"
        );
        self.aggression = aggression;
        self
    }

    /// Sets the weight a new endpoint has at least, as a fraction of a warm
    /// endpoint's (0.1 by default: Envoy's `min_weight_percent` of 10 %).
    ///
    /// With 0, an endpoint inserted this instant has a weight of zero: its
    /// load is infinite, and it is picked only when compared with another
    /// such endpoint, or alone.
    ///
    /// # Panics
    ///
    /// Unless `min_weight` is a fraction in [0, 1].
    pub fn with_min_weight(mut self, min_weight: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&min_weight),
            "the slow start minimum weight must be a fraction in [0, 1], got {min_weight}"
        );
        self.min_weight = min_weight;
        self
    }

    /// Whether the endpoints of the discovery's first batch are warmed too
    /// (`false` by default).
    ///
    /// The first batch is every insertion the discovery yields before it
    /// first returns `Pending` or ends: for a balancer, the endpoints it
    /// finds on its first `poll_ready`. Without slow start for them, a
    /// balancer that starts with a full set serves at full speed at once;
    /// as in Envoy, slow start is for endpoints added to a running set. A
    /// discovery that finds nothing on its first poll (a DNS lookup still
    /// running, say) has an empty first batch: every endpoint it finds
    /// later is warmed.
    pub const fn with_warm_initial(mut self, warm_initial: bool) -> Self {
        self.warm_initial = warm_initial;
        self
    }

    /// The window over which a new endpoint's weight ramps up.
    pub const fn window(&self) -> Duration {
        self.window
    }

    /// The shape of the ramp (see [`with_aggression`](Self::with_aggression)).
    pub const fn aggression(&self) -> f64 {
        self.aggression
    }

    /// The weight a new endpoint has at least.
    pub const fn min_weight(&self) -> f64 {
        self.min_weight
    }

    /// Whether the endpoints of the first batch are warmed too.
    pub const fn warm_initial(&self) -> bool {
        self.warm_initial
    }

    /// The weight, in [0, 1], of an endpoint inserted `elapsed` ago: `f(t)`
    /// above.
    pub fn weight_after(&self, elapsed: Duration) -> f64 {
        if elapsed >= self.window {
            return 1.0;
        }
        let progress = elapsed.as_secs_f64() / self.window.as_secs_f64();
        progress.powf(self.aggression.recip()).max(self.min_weight)
    }
}
