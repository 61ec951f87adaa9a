//! [`Failure`]: what the fallback service receives.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::BoxError;

/// An error shared between the fallback, which receives it, and a
/// [`FallbackFailed`](super::error::FallbackFailed), which reports it if the
/// fallback fails too. It displays, and has the source, of the error it
/// shares; [`get`](SharedError::get) reaches the error itself, to downcast.
#[derive(Clone)]
pub struct SharedError {
    inner: Arc<dyn Error + Send + Sync>,
}

impl SharedError {
    pub(super) fn new(error: BoxError) -> Self {
        SharedError {
            inner: Arc::from(error),
        }
    }

    /// The shared error, to downcast.
    pub fn get(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.inner
    }
}

impl fmt::Debug for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl Error for SharedError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.inner.source()
    }
}

/// A failed call, handed to the fallback service: the request (when it was
/// kept) and what the inner service gave, an error or a response that
/// counted as a failure.
#[derive(Debug)]
pub struct Failure<Req, Res> {
    request: Option<Req>,
    outcome: Result<Res, SharedError>,
}

impl<Req, Res> Failure<Req, Res> {
    pub(super) fn new(request: Option<Req>, outcome: Result<Res, SharedError>) -> Self {
        Failure { request, outcome }
    }

    /// The request, if it was kept (see [`KeepRequest`](super::KeepRequest)).
    pub fn request(&self) -> Option<&Req> {
        self.request.as_ref()
    }

    /// The inner service's error, if it failed with one.
    pub fn error(&self) -> Option<&SharedError> {
        self.outcome.as_ref().err()
    }

    /// The inner service's response, if it answered with one that counted
    /// as a failure.
    pub fn response(&self) -> Option<&Res> {
        self.outcome.as_ref().ok()
    }

    /// The request and the outcome, by value.
    pub fn into_parts(self) -> (Option<Req>, Result<Res, SharedError>) {
        (self.request, self.outcome)
    }
}
