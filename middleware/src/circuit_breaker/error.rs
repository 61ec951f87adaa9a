//! The error of [`CircuitBreaker`](super::CircuitBreaker).

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// The error of a request refused because the circuit is open.
///
/// [`CircuitBreaker`](super::CircuitBreaker) returns it boxed in a
/// [`BoxError`](crate::BoxError) when it
/// [fails fast](super::OpenBehavior::FailFast): recognise it with
/// `error.is::<CircuitOpen>()`, and find out when to try again with
/// [`retry_after`](Self::retry_after) after a `downcast_ref`.
///
/// The breaker refuses requests in three cases: it is open until a known
/// time ([`next_probe_at`](Self::next_probe_at) says when), it was
/// [forced open](super::Handle::force_open)
/// ([`is_forced_open`](Self::is_forced_open)), or it is half-open and every
/// probe it lets through is in flight ([`is_half_open`](Self::is_half_open)).
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Service, ServiceExt};
/// use donjon::circuit_breaker::{CircuitBreaker, Config};
/// use donjon::circuit_breaker::error::CircuitOpen;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// # let inner = donjon_test::mock::pair::<(), ()>().0;
/// let mut breaker = CircuitBreaker::new(inner, Config::new());
/// breaker.handle().force_open();
///
/// let error: BoxError = breaker.ready().await.unwrap().call(()).await.unwrap_err();
/// let open = error.downcast_ref::<CircuitOpen>().unwrap();
/// assert!(open.is_forced_open());
/// assert_eq!(open.retry_after(), None);
/// assert_eq!(open.to_string(), "circuit breaker is forced open");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CircuitOpen {
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Open {
        next_probe_at: Instant,
        retry_after: Duration,
    },
    ForcedOpen,
    HalfOpen,
}

impl CircuitOpen {
    /// Open until `next_probe_at`, as seen at `now`.
    pub(super) fn open(next_probe_at: Instant, now: Instant) -> Self {
        CircuitOpen {
            kind: Kind::Open {
                next_probe_at,
                retry_after: next_probe_at.saturating_duration_since(now),
            },
        }
    }

    pub(super) fn forced_open() -> Self {
        CircuitOpen {
            kind: Kind::ForcedOpen,
        }
    }

    pub(super) fn half_open() -> Self {
        CircuitOpen {
            kind: Kind::HalfOpen,
        }
    }

    /// When the breaker will let the next probe through, if it is open
    /// until a known time; `None` when it was forced open or is half-open.
    pub fn next_probe_at(&self) -> Option<Instant> {
        match self.kind {
            Kind::Open { next_probe_at, .. } => Some(next_probe_at),
            Kind::ForcedOpen | Kind::HalfOpen => None,
        }
    }

    /// How long after the request was refused the breaker will let the next
    /// probe through, if it is open until a known time; `None` when it was
    /// forced open or is half-open.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            Kind::Open { retry_after, .. } => Some(retry_after),
            Kind::ForcedOpen | Kind::HalfOpen => None,
        }
    }

    /// Whether the breaker was forced open through its
    /// [`Handle`](super::Handle): it stays open until told otherwise.
    pub fn is_forced_open(&self) -> bool {
        matches!(self.kind, Kind::ForcedOpen)
    }

    /// Whether the breaker is half-open with every probe it lets through in
    /// flight: it lets another one through if one of them is cancelled or
    /// ignored, and decides once they have all finished.
    pub fn is_half_open(&self) -> bool {
        matches!(self.kind, Kind::HalfOpen)
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Open { retry_after, .. } => {
                write!(f, "circuit breaker is open; next probe in {retry_after:?}")
            }
            Kind::ForcedOpen => f.write_str("circuit breaker is forced open"),
            Kind::HalfOpen => {
                f.write_str("circuit breaker is half-open and all its probes are in flight")
            }
        }
    }
}

impl std::error::Error for CircuitOpen {}
