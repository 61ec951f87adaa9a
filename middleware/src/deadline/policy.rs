//! [`WithinDeadline`]: retries and hedges that stop at the request's
//! deadline.

use std::time::Duration;

use super::admit::check;
use super::instant::DeadlineFor;

/// A retry or hedge policy that starts no attempt once the request's
/// deadline has passed, or when less than
/// [`min_remaining`](Self::min_remaining) of its time is left; otherwise
/// the wrapped policy decides.
///
/// For [`Retry`](crate::retry::Retry) the check is made when an attempt
/// ends, before the policy's delay: put an [`Admit`](super::Admit) under
/// the `Retry` too, so that a retry whose delay outlasted the deadline is
/// refused before it reaches the service. For
/// [`Hedge`](crate::hedge::Hedge) it is made as the hedge is about to be
/// sent.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "hedge")]
/// # mod example {
/// use std::time::Duration;
/// use donjon::deadline::{Deadline, WithinDeadline};
/// use donjon::hedge::Policy;
///
/// #[derive(Clone)]
/// struct Reads;
///
/// impl Policy<(u32, Deadline)> for Reads {
///     fn clone_request(&self, request: &(u32, Deadline)) -> Option<(u32, Deadline)> {
///         Some(*request)
///     }
///     fn can_retry(&self, _: &(u32, Deadline)) -> bool {
///         true
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # pub async fn main() {
/// let policy = WithinDeadline::new(Reads, |request: &(u32, Deadline)| Some(request.1))
///     .min_remaining(Duration::from_millis(20));
/// assert!(policy.can_retry(&(1, Deadline::after(Duration::from_millis(50)))));
/// assert!(!policy.can_retry(&(1, Deadline::after(Duration::from_millis(10)))));
/// # }
/// # }
/// # #[cfg(feature = "hedge")]
/// # fn main() { example::main() }
/// # #[cfg(not(feature = "hedge"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone)]
pub struct WithinDeadline<P, D> {
    policy: P,
    deadlines: D,
    min_remaining: Duration,
}

impl<P, D> WithinDeadline<P, D> {
    /// Wraps `policy`, reading each request's deadline with `deadlines`.
    pub const fn new(policy: P, deadlines: D) -> Self {
        WithinDeadline {
            policy,
            deadlines,
            min_remaining: Duration::ZERO,
        }
    }

    /// Starts no attempt with less than `min_remaining` left.
    pub const fn min_remaining(mut self, min_remaining: Duration) -> Self {
        self.min_remaining = min_remaining;
        self
    }

    /// Whether `request` has time left for another attempt.
    fn allows<Req>(&self, request: &Req) -> bool
    where
        D: DeadlineFor<Req>,
    {
        check(self.deadlines.deadline_for(request), self.min_remaining).is_ok()
    }
}

#[cfg(feature = "retry")]
impl<P, D, Req, Res, E> crate::retry::Policy<Req, Res, E> for WithinDeadline<P, D>
where
    P: crate::retry::Policy<Req, Res, E>,
    D: DeadlineFor<Req>,
{
    type Future = P::Future;

    fn retry(&mut self, request: &mut Req, result: &mut Result<Res, E>) -> Option<Self::Future> {
        if !self.allows(request) {
            return None;
        }
        self.policy.retry(request, result)
    }

    fn clone_request(&mut self, request: &Req) -> Option<Req> {
        self.policy.clone_request(request)
    }
}

#[cfg(feature = "hedge")]
impl<P, D, Req> crate::hedge::Policy<Req> for WithinDeadline<P, D>
where
    P: crate::hedge::Policy<Req>,
    D: DeadlineFor<Req>,
{
    fn clone_request(&self, request: &Req) -> Option<Req> {
        self.policy.clone_request(request)
    }

    fn can_retry(&self, request: &Req) -> bool {
        self.allows(request) && self.policy.can_retry(request)
    }
}
