use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tokio::time::Sleep;

use super::breaker::Shared;
use super::config::Config;
use super::future::ResponseFuture;
use super::handle::Handle;
use super::layer::CircuitBreakerLayer;
use super::ticket::{Admission, Decision, Ticket, Waiter};
use crate::BoxError;
use crate::classify::{Classify, ErrorsAreFailures};

/// Stops calling the inner service while it keeps failing, and lets a few
/// probe requests through from time to time to find out when it is back.
///
/// `poll_ready` asks the breaker first. While it is closed (or disabled),
/// that is one atomic read, and the inner service's readiness follows.
/// While it is open, forced open, or half-open with every probe slot taken,
/// the [`OpenBehavior`](super::OpenBehavior) decides: fail fast (the
/// default), or stay `Pending`. Half-open, `poll_ready` takes a probe slot
/// and keeps it while the inner service is not ready. `call` starts the
/// request; its response future classifies the result with `C` (by default
/// [`ErrorsAreFailures`]) and records the outcome when it is ready.
///
/// Clones share the breaker (and start without a reservation); so does the
/// [`Handle`] returned by [`handle`](Self::handle). Each service that a
/// [`CircuitBreakerLayer`] wraps gets a breaker of its own.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: the inner service's errors (from
/// `poll_ready` or the response) as they are, and
/// [`CircuitOpen`](super::error::CircuitOpen) for a request refused while
/// the circuit is open:
///
/// ```
/// # use donjon::BoxError;
/// use donjon::circuit_breaker::error::CircuitOpen;
///
/// # let error: BoxError = Box::new(std::fmt::Error);
/// if let Some(open) = error.downcast_ref::<CircuitOpen>() {
///     println!("try again in {:?}", open.retry_after());
/// }
/// ```
///
/// An error from the inner service's `poll_ready` is not an outcome: it is
/// not recorded, and a probe slot taken for the call is given back.
///
/// # Backpressure
///
/// While closed, the inner service's. While open, with
/// [`OpenBehavior::NotReady`](super::OpenBehavior::NotReady), `poll_ready`
/// stays `Pending` (without polling the inner service) and wakes the caller
/// when the breaker moves to half-open or is changed by hand; half-open, a
/// caller finding every probe slot taken waits for one to free up or for
/// the probes' verdict. With [`OpenBehavior::FailFast`](super::OpenBehavior::FailFast),
/// the breaker never makes a caller wait.
///
/// # Cancellation
///
/// A response future dropped before it is ready counts as nothing: its
/// outcome is not recorded, and a probe's slot is given back so another
/// probe can go. So is a probe slot reserved by `poll_ready` when the
/// service is dropped before `call`.
///
/// # Panics
///
/// `call` panics unless the last `poll_ready` returned `Ready(Ok(()))`.
/// With [`OpenBehavior::NotReady`](super::OpenBehavior::NotReady),
/// `poll_ready` needs a tokio runtime with its time driver enabled while the
/// breaker is open.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, Service, ServiceExt};
/// use donjon::circuit_breaker::{CircuitBreaker, Config, State};
/// use donjon::circuit_breaker::error::CircuitOpen;
/// # mod backend {
/// #     use std::future::{Ready, ready};
/// #     use std::task::{Context, Poll};
/// #     pub struct Backend;
/// #     impl donjon::Service<&'static str> for Backend {
/// #         type Response = &'static str;
/// #         type Error = &'static str;
/// #         type Future = Ready<Result<&'static str, &'static str>>;
/// #         fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), &'static str>> {
/// #             Poll::Ready(Ok(()))
/// #         }
/// #         fn call(&mut self, request: &'static str) -> Self::Future {
/// #             ready(if request == "fail" { Err("backend down") } else { Ok(request) })
/// #         }
/// #     }
/// # }
/// # use backend::Backend;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// let config = Config::new()
///     .with_consecutive_failures(2)
///     .with_open_duration(Duration::from_secs(10));
/// let mut breaker = CircuitBreaker::new(Backend, config);
/// let handle = breaker.handle();
///
/// for _ in 0..2 {
///     assert!(breaker.ready().await?.call("fail").await.is_err());
/// }
/// assert_eq!(handle.state(), State::Open);
///
/// // While open, requests fail at once, without reaching the backend.
/// let error = breaker.ready().await?.call("hello").await.unwrap_err();
/// let open = error.downcast_ref::<CircuitOpen>().unwrap();
/// assert_eq!(open.retry_after(), Some(Duration::from_secs(10)));
///
/// // Ten seconds later, a probe goes through and closes the circuit.
/// tokio::time::advance(Duration::from_secs(10)).await;
/// let ready = breaker.ready().await?;
/// assert_eq!(handle.state(), State::HalfOpen);
/// assert_eq!(ready.call("hello").await?, "hello");
/// assert_eq!(handle.state(), State::Closed);
/// # Ok(())
/// # }
/// ```
pub struct CircuitBreaker<S, C = ErrorsAreFailures> {
    inner: S,
    classify: C,
    shared: Arc<Shared>,
    /// What `poll_ready` decided for the next call. A probe slot is kept
    /// while the inner service is not ready.
    reserved: Option<Admission>,
    /// Whether the last `poll_ready` returned `Ready(Ok(()))`.
    ready: bool,
    /// This clone's place among the waiters, once it has waited.
    waiter: Option<Waiter>,
    /// The timer for the end of the open period, once this clone has
    /// waited for one (not-ready mode); reused afterwards.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<S> CircuitBreaker<S> {
    /// Wraps `inner` in a new breaker configured by `config`, counting
    /// every error as a failure and every response as a success.
    pub fn new(inner: S, config: Config) -> Self {
        CircuitBreaker::with_classifier(inner, config, ErrorsAreFailures)
    }

    /// Returns a layer that wraps each service in a breaker of its own,
    /// configured by `config`.
    pub fn layer(config: Config) -> CircuitBreakerLayer {
        CircuitBreakerLayer::new(config)
    }
}

impl<S, C> CircuitBreaker<S, C> {
    /// Wraps `inner` in a new breaker configured by `config`, with
    /// `classify` deciding what each finished call counts as.
    ///
    /// `classify` is cloned into each response future, so it should be
    /// cheap to clone (a closure without captures, or capturing an `Arc`).
    pub fn with_classifier(inner: S, config: Config, classify: C) -> Self {
        CircuitBreaker {
            inner,
            classify,
            shared: Shared::new(config),
            reserved: None,
            ready: false,
            waiter: None,
            timer: None,
        }
    }

    /// Returns a handle on the breaker: its state, its figures, and manual
    /// control.
    pub fn handle(&self) -> Handle {
        Handle::new(Arc::clone(&self.shared))
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

    /// Asks the breaker what the next call may do, waiting (not-ready
    /// mode) for the open period to end, a probe slot, or a change by hand.
    fn poll_admit(&mut self, cx: &mut Context<'_>) -> Poll<Admission> {
        let mut timer_fired = false;
        loop {
            let until = match self.shared.admit(cx, &mut self.waiter) {
                Decision::Admit(admission) => return Poll::Ready(admission),
                Decision::Wait { until: None } => return Poll::Pending,
                Decision::Wait { until: Some(until) } => until,
            };
            if timer_fired {
                // The timer fired but the clock reads earlier: look again
                // on the next poll rather than spin.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let timer = match &mut self.timer {
                Some(timer) if timer.deadline() == until => timer,
                slot => crate::time::reset_sleep(slot, until),
            };
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            timer_fired = true;
        }
    }
}

impl<S, C, Req> Service<Req> for CircuitBreaker<S, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.ready = false;
        let keep = matches!(&self.reserved, Some(Admission::Probe(ticket)) if ticket.is_current());
        if !keep {
            // Anything else holds nothing worth keeping (a stale probe slot
            // is not counted any more): ask again, at once from the state
            // word while closed or disabled (written in place: this is the
            // hot path).
            if let Some(admission) = self.shared.admit_at_once() {
                self.reserved = Some(admission);
            } else {
                self.reserved = None;
                let admission = ready!(self.poll_admit(cx));
                let refused = matches!(admission, Admission::Refused(_));
                self.reserved = Some(admission);
                if refused {
                    // Fail fast: the inner service is not needed.
                    self.ready = true;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => {
                self.ready = true;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => {
                self.reserved = None;
                Poll::Ready(Err(error.into()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        assert!(
            std::mem::take(&mut self.ready),
            "CircuitBreaker called before it was ready; poll_ready must return Ready(Ok(())) \
             before each call"
        );
        let admission = self
            .reserved
            .take()
            .expect("a ready circuit breaker holds an admission");
        let ticket = match admission {
            Admission::Refused(error) => return ResponseFuture::refused(error),
            Admission::Untracked => return ResponseFuture::called(self.inner.call(request), None),
            Admission::Closed { epoch } => Ticket::start_closed(&self.shared, epoch),
            Admission::Probe(mut ticket) => {
                ticket.start();
                ticket
            }
        };
        let response = self.inner.call(request);
        ResponseFuture::called(response, Some((ticket, self.classify.clone())))
    }
}

impl<S: Clone, C: Clone> Clone for CircuitBreaker<S, C> {
    /// Another service sharing the same breaker, without this one's
    /// reservation.
    fn clone(&self) -> Self {
        CircuitBreaker {
            inner: self.inner.clone(),
            classify: self.classify.clone(),
            shared: Arc::clone(&self.shared),
            reserved: None,
            ready: false,
            waiter: None,
            timer: None,
        }
    }
}

impl<S: fmt::Debug, C> fmt::Debug for CircuitBreaker<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("inner", &self.inner)
            .field("classify", &format_args!("{}", std::any::type_name::<C>()))
            .field("state", &self.shared.peek_state())
            .field("reserved", &self.reserved)
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}
