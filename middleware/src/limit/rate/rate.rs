use std::time::Duration;

/// A number of requests per period of time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::rate::Rate;
///
/// let rate = Rate::new(100, Duration::from_secs(1));
/// assert_eq!((rate.num(), rate.per()), (100, Duration::from_secs(1)));
/// ```
#[derive(Debug, Copy, Clone)]
pub struct Rate {
    num: u64,
    per: Duration,
}

impl Rate {
    /// Creates a rate of `num` requests per `per`.
    ///
    /// # Panics
    ///
    /// If `num` is zero or `per` is zero: such a rate would never let a
    /// request through.
    pub const fn new(num: u64, per: Duration) -> Self {
        assert!(
            num > 0,
            "a Rate must allow at least one request per period (num > 0)"
        );
        assert!(!per.is_zero(), "a Rate's period must be longer than zero");
        Rate { num, per }
    }

    /// The number of requests allowed per period.
    pub const fn num(&self) -> u64 {
        self.num
    }

    /// The period.
    pub const fn per(&self) -> Duration {
        self.per
    }
}
