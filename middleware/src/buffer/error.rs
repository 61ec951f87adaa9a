//! The errors of [`Buffer`](super::Buffer).

use std::fmt;
use std::sync::Arc;

use crate::BoxError;
pub use crate::overloaded::Overloaded;

/// The error of every request to a [`Buffer`](super::Buffer) whose inner
/// service has failed: its `poll_ready` returned an error, or it panicked.
///
/// Every request waiting in the queue, and every later one, gets this error;
/// its [`source`](std::error::Error::source) is the inner service's error
/// (or a [`Panicked`] carrying the panic's message).
#[derive(Debug)]
pub struct ServiceError {
    inner: Arc<BoxError>,
}

impl ServiceError {
    pub(crate) fn new(inner: BoxError) -> ServiceError {
        ServiceError {
            inner: Arc::new(inner),
        }
    }

    /// Another handle on the same error, for another caller.
    pub(crate) fn share(&self) -> ServiceError {
        ServiceError {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "buffered service failed: {}", self.inner)
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&**self.inner)
    }
}

/// The error of requests to a [`Buffer`](super::Buffer) whose worker has
/// gone away without the inner service failing: the worker was dropped, or
/// its runtime shut down.
pub struct Closed {
    _private: (),
}

impl Closed {
    pub(crate) fn new() -> Self {
        Closed { _private: () }
    }
}

impl fmt::Debug for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Closed")
    }
}

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("buffer's worker closed unexpectedly")
    }
}

impl std::error::Error for Closed {}

/// The cause of a [`ServiceError`] when the inner service panicked in its
/// `poll_ready` or `call`.
///
/// # Examples
///
/// ```
/// use donjon::BoxError;
/// use donjon::buffer::error::{Panicked, ServiceError};
///
/// fn panic_message(error: &BoxError) -> Option<&str> {
///     let failed = error.downcast_ref::<ServiceError>()?;
///     let cause = std::error::Error::source(failed)?;
///     Some(cause.downcast_ref::<Panicked>()?.message())
/// }
/// # let _ = panic_message;
/// ```
#[derive(Debug)]
pub struct Panicked {
    message: String,
}

impl Panicked {
    pub(crate) fn new(message: String) -> Self {
        Panicked { message }
    }

    /// The panic's message, or a placeholder when its payload was not a
    /// string.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the service panicked: {}", self.message)
    }
}

impl std::error::Error for Panicked {}
