//! [`Admit`]: refuse, before any work, the requests whose deadline has
//! passed.

use std::task::{Context, Poll};
use std::time::Duration;

use donjon_layer::Layer;
use donjon_service::Service;

use super::error::DeadlineExceeded;
use super::future::OrRefused;
use super::instant::DeadlineFor;
use crate::BoxError;

/// Refuses with [`DeadlineExceeded`], without calling the inner service, a
/// request whose deadline has passed, or (with
/// [`min_remaining`](Self::min_remaining)) that has less time left than its
/// work needs: nobody waits for its answer any more.
///
/// A server puts it first, before queues and limits, so that requests whose
/// callers gave up while they travelled or queued cost nothing; a client
/// puts it under its retries, so that a retry whose delay outlasted the
/// deadline is never sent.
///
/// # Backpressure
///
/// `poll_ready` is the inner service's. A refused call does not reach the
/// inner service: whatever its readiness reserved stays reserved for the
/// next call (as for a [`Filter`](crate::filter::Filter) refusing).
///
/// # Errors
///
/// The inner service's errors, boxed, and [`DeadlineExceeded`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::deadline::{Admit, Deadline};
/// use donjon::deadline::error::DeadlineExceeded;
/// use donjon::{BoxError, ServiceExt, service_fn};
///
/// struct Query {
///     deadline: Option<Deadline>,
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let server = Admit::new(
///     service_fn(|_: Query| async { Ok::<_, BoxError>("answer") }),
///     |query: &Query| query.deadline,
/// );
/// let late = Query { deadline: Some(Deadline::after(Duration::ZERO)) };
/// let error = server.clone().oneshot(late).await.unwrap_err();
/// assert!(error.is::<DeadlineExceeded>());
/// let timely = Query { deadline: Some(Deadline::after(Duration::from_secs(1))) };
/// assert_eq!(server.oneshot(timely).await.unwrap(), "answer");
/// # }
/// ```
#[derive(Debug)]
pub struct Admit<S, D> {
    inner: S,
    deadlines: D,
    min_remaining: Duration,
    /// Its last call was refused: a refusal after an admission is
    /// reported, the ones after it are not.
    refusing: bool,
}

impl<S: Clone, D: Clone> Clone for Admit<S, D> {
    fn clone(&self) -> Self {
        Admit::new(self.inner.clone(), self.deadlines.clone()).min_remaining(self.min_remaining)
    }
}

impl<S, D> Admit<S, D> {
    /// Wraps `inner`, reading each request's deadline with `deadlines`.
    pub const fn new(inner: S, deadlines: D) -> Self {
        Admit {
            inner,
            deadlines,
            min_remaining: Duration::ZERO,
            refusing: false,
        }
    }

    /// Refuses also the requests with less than `min_remaining` left.
    pub const fn min_remaining(mut self, min_remaining: Duration) -> Self {
        self.min_remaining = min_remaining;
        self
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Whether a request with `deadline` may start work that needs
/// `min_remaining`: the refusal if not.
#[inline]
pub(super) fn check(
    deadline: Option<super::Deadline>,
    min_remaining: Duration,
) -> Result<(), DeadlineExceeded> {
    let Some(deadline) = deadline else {
        return Ok(());
    };
    // One clock read, and instants compared (a difference of instants costs
    // more): a deadline passes at its very instant.
    let now = tokio::time::Instant::now();
    let instant = deadline.instant();
    let in_time = now < instant
        && (min_remaining.is_zero()
            || now
                .checked_add(min_remaining)
                .is_some_and(|needed| needed <= instant));
    if in_time {
        return Ok(());
    }
    Err(DeadlineExceeded::new(
        instant.saturating_duration_since(now),
        min_remaining,
    ))
}

impl<S, D, Req> Service<Req> for Admit<S, D>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    D: DeadlineFor<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = OrRefused<S::Future, DeadlineExceeded>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        match check(self.deadlines.deadline_for(&request), self.min_remaining) {
            Ok(()) => {
                self.refusing = false;
                OrRefused::called(self.inner.call(request))
            }
            Err(refused) => {
                if !std::mem::replace(&mut self.refusing, true) {
                    tracing_refused(&refused);
                }
                OrRefused::refused(refused)
            }
        }
    }
}

/// Reports a service starting to refuse requests whose time is up.
#[cold]
fn tracing_refused(refused: &DeadlineExceeded) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        remaining = ?refused.remaining(),
        needed = ?refused.needed(),
        "deadline: requests arrive with their time up, refused before any work"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = refused;
}

/// Wraps services in an [`Admit`].
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct AdmitLayer<D> {
    deadlines: D,
    min_remaining: Duration,
}

impl<D> AdmitLayer<D> {
    /// A layer reading each request's deadline with `deadlines`.
    pub const fn new(deadlines: D) -> Self {
        AdmitLayer {
            deadlines,
            min_remaining: Duration::ZERO,
        }
    }

    /// Refuses also the requests with less than `min_remaining` left.
    pub const fn min_remaining(mut self, min_remaining: Duration) -> Self {
        self.min_remaining = min_remaining;
        self
    }
}

impl<S, D: Clone> Layer<S> for AdmitLayer<D> {
    type Service = Admit<S, D>;

    fn layer(&self, inner: S) -> Self::Service {
        Admit::new(inner, self.deadlines.clone()).min_remaining(self.min_remaining)
    }
}
