use std::fmt;
use std::time::Duration;

use super::error::{InvalidQuota, Kind};

/// How much a GCRA limit lets through: a steady rate and a burst.
///
/// A quota of `num` requests per `per` spaces requests by an *emission
/// interval* of `per / num` (rounded up to the nanosecond, so that the
/// rate is never exceeded); the *burst* is how many requests may arrive at
/// once after a quiet spell. In any interval of length `t`, a limit with
/// this quota lets through at most `burst + t / emission_interval`
/// requests, that is `burst + rate × t`.
///
/// A caller that waits for the limit (rather than being refused) is woken
/// by a tokio timer, which may fire up to a millisecond late; with a
/// tolerance (`emission interval × (burst − 1)`) under a millisecond, that
/// lateness is lost and such a caller gets fewer requests than the rate.
/// For rates above a thousand per second, keep the burst at least
/// `1 + 1 ms / emission interval`.
///
/// The burst defaults to `num`, so that a quiet limit lets a whole period's
/// worth of requests through at once, as [`RateLimit`](crate::limit::RateLimit)
/// does at the start of a window. Choose a smaller burst for smoother
/// traffic: a burst of 1 spaces every request by the emission interval.
///
/// # Errors
///
/// The constructors return [`InvalidQuota`] for a rate of zero, a period of
/// zero, a burst of zero, or figures too large to count in nanoseconds.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::gcra::Quota;
///
/// # fn main() -> Result<(), donjon::limit::gcra::error::InvalidQuota> {
/// // 100 requests per second, at most 10 at once.
/// let quota = Quota::new(100, Duration::from_secs(1))?.with_burst(10)?;
/// assert_eq!(quota.emission_interval(), Duration::from_millis(10));
/// assert_eq!(quota.burst(), 10);
///
/// assert!(Quota::new(0, Duration::from_secs(1)).is_err());
/// assert!(quota.with_burst(0).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    num: u64,
    per: Duration,
    /// `per / num`, rounded up, in nanoseconds; at least 1.
    interval: u64,
    burst: u64,
    /// `interval × (burst − 1)`: how far ahead of the clock the theoretical
    /// arrival time may run and still admit a request.
    tolerance: u64,
}

impl Quota {
    /// A quota of `num` requests per `per`, with a burst of `num`.
    ///
    /// # Errors
    ///
    /// [`InvalidQuota`] if `num` or `per` is zero, or if `per` is too long
    /// to count in nanoseconds (more than about 584 years).
    pub fn new(num: u64, per: Duration) -> Result<Self, InvalidQuota> {
        if num == 0 {
            return Err(InvalidQuota::new(Kind::ZeroRate));
        }
        if per.is_zero() {
            return Err(InvalidQuota::new(Kind::ZeroPeriod));
        }
        let per_nanos =
            u64::try_from(per.as_nanos()).map_err(|_| InvalidQuota::new(Kind::TooLarge))?;
        let interval = per_nanos.div_ceil(num);
        Self::from_parts(num, per, interval, num)
    }

    /// A quota of `num` requests per second, with a burst of `num`.
    ///
    /// # Errors
    ///
    /// [`InvalidQuota`] if `num` is zero.
    pub fn per_second(num: u64) -> Result<Self, InvalidQuota> {
        Self::new(num, Duration::from_secs(1))
    }

    /// The same rate, with a burst of `burst` requests.
    ///
    /// # Errors
    ///
    /// [`InvalidQuota`] if `burst` is zero (no request could ever pass), or
    /// if `burst` emission intervals do not fit in about 584 years.
    pub fn with_burst(self, burst: u64) -> Result<Self, InvalidQuota> {
        Self::from_parts(self.num, self.per, self.interval, burst)
    }

    /// This quota shared evenly by `replicas` processes: the same period,
    /// `num / replicas` requests (at least one) and a burst of
    /// `burst / replicas` (at least one).
    ///
    /// It is the in-process limit a replica can fall back to when the store
    /// that holds the fleet's shared limit cannot be reached.
    ///
    /// # Errors
    ///
    /// [`InvalidQuota`] if `replicas` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::limit::gcra::Quota;
    ///
    /// # fn main() -> Result<(), donjon::limit::gcra::error::InvalidQuota> {
    /// let fleet = Quota::per_second(1000)?;
    /// let one_of_ten = fleet.divided_among(10)?;
    /// assert_eq!((one_of_ten.num(), one_of_ten.burst()), (100, 100));
    /// # Ok(())
    /// # }
    /// ```
    pub fn divided_among(self, replicas: u64) -> Result<Self, InvalidQuota> {
        if replicas == 0 {
            return Err(InvalidQuota::new(Kind::ZeroReplicas));
        }
        let num = (self.num / replicas).max(1);
        let burst = (self.burst / replicas).max(1);
        Quota::new(num, self.per)?.with_burst(burst)
    }

    fn from_parts(
        num: u64,
        per: Duration,
        interval: u64,
        burst: u64,
    ) -> Result<Self, InvalidQuota> {
        if burst == 0 {
            return Err(InvalidQuota::new(Kind::ZeroBurst));
        }
        let tolerance = interval
            .checked_mul(burst - 1)
            .ok_or(InvalidQuota::new(Kind::TooLarge))?;
        // The theoretical arrival time runs at most `tolerance + interval`
        // ahead of the clock; keep that addition from overflowing.
        tolerance
            .checked_add(interval)
            .ok_or(InvalidQuota::new(Kind::TooLarge))?;
        Ok(Quota {
            num,
            per,
            interval,
            burst,
            tolerance,
        })
    }

    /// The number of requests per period.
    pub const fn num(&self) -> u64 {
        self.num
    }

    /// The period.
    pub const fn per(&self) -> Duration {
        self.per
    }

    /// How many requests may pass at once after a quiet spell.
    pub const fn burst(&self) -> u64 {
        self.burst
    }

    /// The time between two requests at the steady rate: `per / num`,
    /// rounded up to the nanosecond.
    pub const fn emission_interval(&self) -> Duration {
        Duration::from_nanos(self.interval)
    }

    /// The emission interval in nanoseconds.
    pub(crate) const fn interval_nanos(&self) -> u64 {
        self.interval
    }

    /// `interval × (burst − 1)`, in nanoseconds.
    pub(crate) const fn tolerance_nanos(&self) -> u64 {
        self.tolerance
    }
}

impl fmt::Debug for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quota")
            .field("num", &self.num)
            .field("per", &self.per)
            .field("burst", &self.burst)
            .finish()
    }
}
