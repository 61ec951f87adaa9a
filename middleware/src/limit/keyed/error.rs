//! The errors of the keyed limits.

use std::fmt;
use std::time::Duration;

/// The error of a request refused by a keyed limit: its key has used its
/// quota for now.
///
/// [`KeyedRateLimit`](super::KeyedRateLimit) answers it at once, boxed in a
/// [`BoxError`](crate::BoxError); [`retry_after`](Self::retry_after) says
/// when a request for the same key would pass, as an HTTP server's
/// `Retry-After` header would.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::BoxError;
/// use donjon::limit::keyed::error::RateLimited;
///
/// let error: BoxError = RateLimited::new(Duration::from_millis(1500)).into();
/// let limited = error.downcast_ref::<RateLimited>().unwrap();
/// assert_eq!(limited.retry_after(), Duration::from_millis(1500));
/// // Rounded up to whole seconds, for a `Retry-After` header.
/// assert_eq!(limited.retry_after_secs(), 2);
/// assert_eq!(error.to_string(), "rate limit reached; retry after 1.5s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    retry_after: Duration,
}

impl RateLimited {
    /// A refusal, with the time after which a request would pass.
    pub const fn new(retry_after: Duration) -> Self {
        RateLimited { retry_after }
    }

    /// How long until a request for the same key would pass, if no other
    /// request takes its place first.
    pub const fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// [`retry_after`](Self::retry_after) in whole seconds, rounded up (at
    /// least 1), as HTTP's `Retry-After` header takes it.
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs();
        let rounded = if self.retry_after.subsec_nanos() > 0 {
            secs.saturating_add(1)
        } else {
            secs
        };
        rounded.max(1)
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limit reached; retry after {:?}", self.retry_after)
    }
}

impl std::error::Error for RateLimited {}

/// A key that a [`RateStore`](super::RateStore) refuses.
///
/// # Examples
///
/// ```
/// use donjon::limit::keyed::error::InvalidKey;
///
/// let error = InvalidKey::too_long(600, 512);
/// assert!(error.is_too_long());
/// assert_eq!(error.to_string(), "a rate limit key of 600 bytes is longer than the 512 the store accepts");
/// assert!(InvalidKey::empty().is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidKey {
    kind: KeyKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Empty,
    TooLong { len: usize, max: usize },
}

impl InvalidKey {
    /// The key is empty.
    pub const fn empty() -> Self {
        InvalidKey {
            kind: KeyKind::Empty,
        }
    }

    /// The key is `len` bytes long, more than the `max` the store accepts.
    pub const fn too_long(len: usize, max: usize) -> Self {
        InvalidKey {
            kind: KeyKind::TooLong { len, max },
        }
    }

    /// Whether the key is empty.
    pub fn is_empty(&self) -> bool {
        matches!(self.kind, KeyKind::Empty)
    }

    /// Whether the key is longer than the store accepts.
    pub fn is_too_long(&self) -> bool {
        matches!(self.kind, KeyKind::TooLong { .. })
    }
}

impl fmt::Display for InvalidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            KeyKind::Empty => f.write_str("a rate limit key must not be empty"),
            KeyKind::TooLong { len, max } => write!(
                f,
                "a rate limit key of {len} bytes is longer than the {max} the store accepts"
            ),
        }
    }
}

impl std::error::Error for InvalidKey {}
