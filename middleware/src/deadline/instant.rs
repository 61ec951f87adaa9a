//! [`Deadline`], and [`DeadlineFor`]: how a middleware finds a request's.

use std::time::Duration;

use tokio::time::Instant;

/// The moment by which whoever sent a request stops waiting for its
/// answer, on tokio's clock.
///
/// A request carries its deadline from hop to hop: in an HTTP request's
/// extensions (as a `Deadline` value), in a field of its own, or in a
/// header between processes (see [`grpc_timeout`](super::grpc_timeout)).
/// Middleware reads it through a [`DeadlineFor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline(Instant);

/// The farthest deadline held: about 30 years ahead, as tokio's own "far
/// future".
const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);

impl Deadline {
    /// The deadline at `instant`.
    #[inline]
    pub const fn at(instant: Instant) -> Self {
        Deadline(instant)
    }

    /// The deadline `duration` from now; one too far for the clock is held
    /// as about 30 years from now.
    pub fn after(duration: Duration) -> Self {
        let now = Instant::now();
        Deadline(
            now.checked_add(duration.min(FAR))
                .unwrap_or_else(|| now + Duration::from_secs(86_400)),
        )
    }

    /// When it is.
    #[inline]
    pub const fn instant(self) -> Instant {
        self.0
    }

    /// The time left until it, zero once it has passed.
    #[inline]
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// Whether it has passed (it passes at its very instant).
    #[inline]
    pub fn has_passed(self) -> bool {
        Instant::now() >= self.0
    }

    /// The earlier of two optional deadlines.
    #[inline]
    pub fn earliest(a: Option<Deadline>, b: Option<Deadline>) -> Option<Deadline> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How a middleware reads a request's deadline: `None` when it has none.
///
/// Implemented by every `Fn(&Req) -> Option<Deadline>`, by [`NoDeadline`]
/// (no request has one: the default of the middleware that take one), and
/// with the `http` feature by [`FromExtensions`](super::FromExtensions)
/// (a [`Deadline`] in an `http::Request`'s extensions).
pub trait DeadlineFor<Req> {
    /// The deadline `request` carries, if any.
    fn deadline_for(&self, request: &Req) -> Option<Deadline>;
}

impl<F, Req> DeadlineFor<Req> for F
where
    F: Fn(&Req) -> Option<Deadline>,
{
    fn deadline_for(&self, request: &Req) -> Option<Deadline> {
        self(request)
    }
}

/// No request carries a deadline: middleware given it behave as if
/// deadlines did not exist, at no cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoDeadline;

impl<Req> DeadlineFor<Req> for NoDeadline {
    #[inline]
    fn deadline_for(&self, _: &Req) -> Option<Deadline> {
        None
    }
}
