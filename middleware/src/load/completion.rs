//! When a request stops counting toward an endpoint's load.
//!
//! A load measure hands out a handle per request, and the request counts as
//! in flight as long as the handle lives. A [`TrackCompletion`] policy
//! decides what happens to the handle when the response arrives:
//! [`CompleteOnResponse`] drops it at once; a custom policy can move it
//! into the response, so that, say, a streaming body keeps counting until
//! it is dropped.
//!
//! # Examples
//!
//! ```
//! use donjon::load::completion::TrackCompletion;
//!
//! /// Keeps the handle with the response, until the response is dropped.
//! #[derive(Clone)]
//! struct UntilDropped;
//!
//! struct Tracked<H, Res> {
//!     value: Res,
//!     _handle: H,
//! }
//!
//! impl<H, Res> TrackCompletion<H, Res> for UntilDropped {
//!     type Output = Tracked<H, Res>;
//!     fn track_completion(&self, handle: H, value: Res) -> Tracked<H, Res> {
//!         Tracked { value, _handle: handle }
//!     }
//! }
//!
//! let tracked = UntilDropped.track_completion("a handle", 42);
//! assert_eq!(tracked.value, 42);
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project::pin_project;

/// Decides what happens to a request's load handle when its response
/// arrives.
pub trait TrackCompletion<H, Res>: Clone {
    /// What the response becomes.
    type Output;

    /// Takes the response `value` and the request's `handle`; the request
    /// stops counting when `handle` is dropped.
    fn track_completion(&self, handle: H, value: Res) -> Self::Output;
}

/// Stops counting a request as soon as its response arrives.
///
/// Build it with `CompleteOnResponse::default()`.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct CompleteOnResponse;

impl<H, Res> TrackCompletion<H, Res> for CompleteOnResponse {
    type Output = Res;

    fn track_completion(&self, handle: H, value: Res) -> Res {
        drop(handle);
        value
    }
}

/// A response future that hands the request's load handle to a
/// [`TrackCompletion`] policy when the response arrives.
///
/// On an error, the handle is dropped with the future.
#[pin_project]
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TrackCompletionFuture<F, C, H> {
    #[pin]
    future: F,
    handle: Option<H>,
    completion: C,
}

impl<F, C, H> TrackCompletionFuture<F, C, H> {
    /// Wraps `future`, holding `handle` until `completion` takes it.
    pub const fn new(completion: C, handle: H, future: F) -> Self {
        TrackCompletionFuture {
            future,
            handle: Some(handle),
            completion,
        }
    }
}

impl<F, C, H, Res, E> Future for TrackCompletionFuture<F, C, H>
where
    F: Future<Output = Result<Res, E>>,
    C: TrackCompletion<H, Res>,
{
    type Output = Result<C::Output, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let value = ready!(this.future.poll(cx))?;
        let handle = this.handle.take().expect("polled after completion");
        Poll::Ready(Ok(this.completion.track_completion(handle, value)))
    }
}
