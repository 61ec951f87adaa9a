//! [`Mock`]: the service half of a mock pair.

use std::fmt;
use std::task::{Context, Poll};

use donjon_service::Service;
use tokio::sync::{mpsc, oneshot};

use super::error::Closed;
use super::future::ResponseFuture;
use super::handle::SendResponse;
use super::state::{BoxError, Shared};

/// What a mock sends to its handle for each call.
pub(super) type Request<T, U> = (T, SendResponse<U>);

/// A [`Service`] whose requests are received, and answered, by the test
/// through the matching [`Handle`](super::Handle).
///
/// Create one with [`pair`](super::pair), or wrapped in a
/// [`Spawn`](super::Spawn) with [`spawn`](super::spawn()). Its readiness is
/// controlled by the handle:
///
/// - [`Handle::allow`](super::Handle::allow) sets how many more calls are
///   accepted (unlimited at first). With none left, `poll_ready` returns
///   `Pending` and parks the task until `allow` gives more.
/// - [`Handle::send_error`](super::Handle::send_error) makes the next
///   `poll_ready` of any clone fail with that error.
/// - Once the handle is dropped, `poll_ready` fails with [`Closed`].
///
/// `poll_ready` reserves the next call for this clone without spending the
/// allowance; `call` spends it. Several clones may therefore reserve against
/// the same last allowed call. Clones share the handle but never a
/// reservation.
///
/// # Errors
///
/// `poll_ready` returns the error given to `Handle::send_error`, or a boxed
/// [`Closed`] once the handle is dropped. The response future resolves to
/// whatever the test sends (see [`ResponseFuture`]).
///
/// # Panics
///
/// [`call`](Service::call) panics when this clone has not seen
/// `poll_ready` return `Ready(Ok(()))` since its last call, unless the handle
/// is gone (then the future resolves to [`Closed`]).
///
/// # Examples
///
/// ```
/// use donjon_test::mock;
/// use tokio_test::{assert_pending, assert_ready_ok, task};
///
/// let (mock, mut handle) = mock::pair::<u32, u32>();
/// let mut service = mock::Spawn::new(mock);
///
/// handle.allow(0);
/// assert_pending!(service.poll_ready());
/// handle.allow(1);
/// assert!(service.is_woken());
/// assert_ready_ok!(service.poll_ready());
///
/// let mut response = task::spawn(service.call(20));
/// let (n, send_response) = tokio_test::assert_ready!(handle.poll_request()).unwrap();
/// send_response.send_response(n + 1);
/// assert_eq!(assert_ready_ok!(response.poll()), 21);
///
/// // The single allowed call has been spent.
/// assert_pending!(service.poll_ready());
/// ```
pub struct Mock<T, U> {
    /// Identifies this clone's parked waker.
    id: u64,
    tx: mpsc::UnboundedSender<Request<T, U>>,
    state: Shared,
    /// Whether `poll_ready` reserved the next call for this clone.
    reserved: bool,
}

impl<T, U> Mock<T, U> {
    /// The first mock of a pair (id 0).
    pub(super) fn new(tx: mpsc::UnboundedSender<Request<T, U>>, state: Shared) -> Self {
        Mock {
            id: 0,
            tx,
            state,
            reserved: false,
        }
    }
}

impl<T, U> Service<T> for Mock<T, U> {
    type Response = U;
    type Error = BoxError;
    type Future = ResponseFuture<U>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let mut state = self.state.lock();
        if state.closed {
            return Poll::Ready(Err(Closed::new().into()));
        }
        if let Some(err) = state.next_error.take() {
            return Poll::Ready(Err(err));
        }
        if self.reserved {
            return Poll::Ready(Ok(()));
        }
        if state.rem > 0 {
            // The allowance is spent by `call`, not here.
            self.reserved = true;
            return Poll::Ready(Ok(()));
        }
        state.parked.insert(self.id, cx.waker().clone());
        Poll::Pending
    }

    fn call(&mut self, req: T) -> Self::Future {
        let mut state = self.state.lock();
        if state.closed {
            return ResponseFuture::closed();
        }
        if !self.reserved {
            state.unready_calls += 1;
            // Release the lock first so the panic does not poison it.
            drop(state);
            panic!("service not ready; poll_ready must be called first");
        }
        self.reserved = false;
        if state.rem > 0 {
            state.rem -= 1;
        }
        drop(state);

        let (tx, rx) = oneshot::channel();
        // If the handle went away meanwhile, the request (and its
        // `SendResponse`) is dropped here and the future resolves to `Closed`.
        let _ = self.tx.send((req, SendResponse::new(tx)));
        ResponseFuture::new(rx)
    }
}

impl<T, U> Clone for Mock<T, U> {
    fn clone(&self) -> Self {
        let id = {
            let mut state = self.state.lock();
            let id = state.next_id;
            state.next_id += 1;
            id
        };
        Mock {
            id,
            tx: self.tx.clone(),
            state: self.state.clone(),
            reserved: false,
        }
    }
}

impl<T, U> Drop for Mock<T, U> {
    fn drop(&mut self) {
        // The waker is dropped after the lock is released.
        let waker = self.state.lock().parked.remove(&self.id);
        drop(waker);
    }
}

impl<T, U> fmt::Debug for Mock<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mock")
            .field("id", &self.id)
            .field("reserved", &self.reserved)
            .finish_non_exhaustive()
    }
}
