//! The future a [`Mock`](super::Mock) returns from `call`.
//!
//! Each call hands the test a [`SendResponse`](super::SendResponse) through
//! the [`Handle`](super::Handle); the [`ResponseFuture`] stays pending until
//! the test answers with it.
//!
//! # Examples
//!
//! ```
//! use donjon_service::Service;
//! use donjon_test::mock;
//! use tokio_test::{assert_pending, assert_ready_ok, task};
//!
//! let (mut service, mut handle) = mock::pair::<&str, usize>();
//! let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! assert!(service.poll_ready(&mut cx).is_ready());
//!
//! let mut response = task::spawn(service.call("four"));
//! assert_pending!(response.poll());
//!
//! let (request, send_response) = tokio_test::assert_ready!(handle.poll_request()).unwrap();
//! send_response.send_response(request.len());
//! assert!(response.is_woken());
//! assert_eq!(assert_ready_ok!(response.poll()), 4);
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use super::error::Closed;

/// The boxed error every mock failure is reported as.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Resolves to the response (or error) the test sends for one mock call.
///
/// # Errors
///
/// Resolves to an error when the test answers with
/// [`SendResponse::send_error`](super::SendResponse::send_error), and to a
/// boxed [`Closed`] when the [`SendResponse`](super::SendResponse) is dropped
/// unanswered or the [`Handle`](super::Handle) was already gone at `call`.
///
/// # Cancellation
///
/// Dropping the future releases nothing but its end of the response channel;
/// an answer sent afterwards is discarded.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<T> {
    /// `None` when the call happened after the handle was dropped.
    rx: Option<oneshot::Receiver<Result<T, BoxError>>>,
}

impl<T> ResponseFuture<T> {
    /// A future waiting for the answer sent through `rx`.
    pub(crate) fn new(rx: oneshot::Receiver<Result<T, BoxError>>) -> Self {
        ResponseFuture { rx: Some(rx) }
    }

    /// A future that resolves to [`Closed`] straight away.
    pub(crate) fn closed() -> Self {
        ResponseFuture { rx: None }
    }
}

impl<T> Future for ResponseFuture<T> {
    type Output = Result<T, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(Err(Closed::new().into()));
        };
        match Pin::new(rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(answer)) => Poll::Ready(answer),
            // The `SendResponse` was dropped without an answer.
            Poll::Ready(Err(_)) => Poll::Ready(Err(Closed::new().into())),
        }
    }
}

impl<T> fmt::Debug for ResponseFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The shape of a derived `Debug`, without needing `T: Debug`.
        let rx = if self.rx.is_some() {
            format_args!("Some(..)")
        } else {
            format_args!("None")
        };
        f.debug_struct("ResponseFuture").field("rx", &rx).finish()
    }
}
