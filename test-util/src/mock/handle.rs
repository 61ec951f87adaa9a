//! [`Handle`] and [`SendResponse`]: the test's half of a mock pair.

use std::fmt;
use std::task::{Context, Poll, Waker};

use tokio::sync::{mpsc, oneshot};

use super::service::Request;
use super::state::{BoxError, Shared, wake_all};

/// The test's end of a [`Mock`](super::Mock): receives its requests and
/// controls its readiness.
///
/// All clones of the mock share one handle. Dropping the handle closes the
/// mock: every clone's `poll_ready` then fails with
/// [`Closed`](super::error::Closed), and parked clones are woken to see it.
///
/// # Examples
///
/// ```
/// use donjon_test::{assert_request_eq, mock};
/// use tokio_test::{assert_ready_ok, task};
///
/// # tokio_test::block_on(async {
/// let (mut service, mut handle) = mock::spawn::<&str, &str>();
///
/// assert_ready_ok!(service.poll_ready());
/// let mut response = task::spawn(service.call("ping"));
///
/// assert_request_eq!(handle, "ping").send_response("pong");
/// assert_eq!(assert_ready_ok!(response.poll()), "pong");
/// # });
/// ```
pub struct Handle<T, U> {
    rx: mpsc::UnboundedReceiver<Request<T, U>>,
    state: Shared,
}

impl<T, U> Handle<T, U> {
    /// The handle of a new pair.
    pub(super) fn new(rx: mpsc::UnboundedReceiver<Request<T, U>>, state: Shared) -> Self {
        Handle { rx, state }
    }

    /// Takes the next request if one is queued, without waiting.
    ///
    /// Returns `Ready(Some(..))` with the request and the [`SendResponse`]
    /// that answers it, `Pending` when the queue is empty, and `Ready(None)`
    /// once every clone of the mock is dropped and the queue is drained.
    ///
    /// The queue is polled with a context of its own whose waker does
    /// nothing, so a `Pending` here arranges no wake-up for the caller; use
    /// [`next_request`](Self::next_request) to wait.
    pub fn poll_request(&mut self) -> Poll<Option<(T, SendResponse<U>)>> {
        let mut cx = Context::from_waker(Waker::noop());
        self.rx.poll_recv(&mut cx)
    }

    /// Waits for the next request.
    ///
    /// Resolves to the request and the [`SendResponse`] that answers it, or
    /// to `None` once every clone of the mock is dropped and the queue is
    /// drained.
    pub async fn next_request(&mut self) -> Option<(T, SendResponse<U>)> {
        self.rx.recv().await
    }

    /// Sets how many more calls the mock accepts, replacing the previous
    /// allowance (it does not add to it).
    ///
    /// A positive `num` wakes every clone parked in `poll_ready`. With
    /// `allow(0)`, a clone that has not reserved a call yet gets `Pending`
    /// from `poll_ready`; reservations already taken still stand.
    pub fn allow(&mut self, num: u64) {
        let parked = {
            let mut state = self.state.lock();
            state.rem = num;
            if num > 0 {
                state.take_parked()
            } else {
                Vec::new()
            }
        };
        wake_all(parked);
    }

    /// How many times a clone of the mock was called without having seen
    /// `poll_ready` return `Ready(Ok(()))`, that is, how many times it
    /// panicked for that reason.
    pub(crate) fn unready_calls(&self) -> u64 {
        self.state.lock().unready_calls
    }

    /// Makes the next `poll_ready` of any clone of the mock fail with `e`.
    ///
    /// Only the first clone to poll sees the error; later polls carry on as
    /// before. Every parked clone is woken so that one of them picks it up.
    /// Sending another error before the first is seen replaces it.
    pub fn send_error<E: Into<BoxError>>(&mut self, e: E) {
        let parked = {
            let mut state = self.state.lock();
            state.next_error = Some(e.into());
            state.take_parked()
        };
        wake_all(parked);
    }
}

impl<T, U> Drop for Handle<T, U> {
    fn drop(&mut self) {
        let parked = {
            let mut state = self.state.lock();
            state.closed = true;
            state.take_parked()
        };
        wake_all(parked);
    }
}

impl<T, U> fmt::Debug for Handle<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Answers one request received through a [`Handle`].
///
/// Both methods consume it; an answer to a response future that was dropped
/// meanwhile is discarded. Dropping it unanswered resolves the response
/// future to [`Closed`](super::error::Closed).
///
/// # Examples
///
/// ```
/// use donjon_test::{assert_request_eq, mock};
/// use tokio_test::{assert_ready_err, assert_ready_ok, task};
///
/// # tokio_test::block_on(async {
/// let (mut service, mut handle) = mock::spawn::<&str, &str>();
///
/// assert_ready_ok!(service.poll_ready());
/// let mut response = task::spawn(service.call("divide by zero"));
///
/// assert_request_eq!(handle, "divide by zero").send_error("undefined");
/// assert_eq!(assert_ready_err!(response.poll()).to_string(), "undefined");
/// # });
/// ```
pub struct SendResponse<T> {
    tx: oneshot::Sender<Result<T, BoxError>>,
}

impl<T> SendResponse<T> {
    /// Wraps the sending end of one call's response channel.
    pub(super) fn new(tx: oneshot::Sender<Result<T, BoxError>>) -> Self {
        SendResponse { tx }
    }

    /// Resolves the response future to `Ok(response)`.
    pub fn send_response(self, response: T) {
        // The caller may have dropped its future; that is not an error here.
        let _ = self.tx.send(Ok(response));
    }

    /// Resolves the response future to `Err(err)`.
    pub fn send_error<E: Into<BoxError>>(self, err: E) {
        // The caller may have dropped its future; that is not an error here.
        let _ = self.tx.send(Err(err.into()));
    }
}

impl<T> fmt::Debug for SendResponse<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendResponse").finish_non_exhaustive()
    }
}
