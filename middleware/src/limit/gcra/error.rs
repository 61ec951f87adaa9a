//! The error of an invalid [`Quota`](super::Quota).

use std::fmt;

/// A [`Quota`](super::Quota) that cannot be built, and why.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::gcra::Quota;
///
/// let error = Quota::new(10, Duration::ZERO).unwrap_err();
/// assert!(error.is_zero_period());
/// assert_eq!(error.to_string(), "a quota's period must be longer than zero");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidQuota {
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    ZeroRate,
    ZeroPeriod,
    ZeroBurst,
    ZeroReplicas,
    TooLarge,
}

impl InvalidQuota {
    pub(super) const fn new(kind: Kind) -> Self {
        InvalidQuota { kind }
    }

    /// The number of requests per period is zero.
    pub fn is_zero_rate(&self) -> bool {
        self.kind == Kind::ZeroRate
    }

    /// The period is zero.
    pub fn is_zero_period(&self) -> bool {
        self.kind == Kind::ZeroPeriod
    }

    /// The burst is zero.
    pub fn is_zero_burst(&self) -> bool {
        self.kind == Kind::ZeroBurst
    }

    /// The quota was divided among zero replicas.
    pub fn is_zero_replicas(&self) -> bool {
        self.kind == Kind::ZeroReplicas
    }

    /// The period, or the burst times the emission interval, is too long to
    /// count in nanoseconds (about 584 years).
    pub fn is_too_large(&self) -> bool {
        self.kind == Kind::TooLarge
    }
}

impl fmt::Display for InvalidQuota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::ZeroRate => "a quota must allow at least one request per period",
            Kind::ZeroPeriod => "a quota's period must be longer than zero",
            Kind::ZeroBurst => "a quota's burst must be at least one request",
            Kind::ZeroReplicas => "a quota cannot be divided among zero replicas",
            Kind::TooLarge => {
                "a quota's period, or its burst times its emission interval, must be shorter \
                 than about 584 years"
            }
        })
    }
}

impl std::error::Error for InvalidQuota {}
