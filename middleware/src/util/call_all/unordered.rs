use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_service::Service;
use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use pin_project::pin_project;

use super::common::CallAllCore;

/// A stream of responses, made by calling a service with each request of a
/// stream of requests, yielding each response as soon as it finishes.
///
/// Made by [`CallAll::unordered`](crate::util::CallAll::unordered); behaves
/// as [`CallAll`](crate::util::CallAll) does except for the order of the
/// responses.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use futures::{StreamExt, stream};
///
/// # futures::executor::block_on(async {
/// let square = service_fn(|n: u32| async move { Ok::<_, BoxError>(n * n) });
/// let mut responses: Vec<u32> = square
///     .call_all(stream::iter([1, 2, 3]))
///     .unordered()
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// responses.sort();
/// assert_eq!(responses, [1, 4, 9]);
/// # });
/// ```
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct CallAllUnordered<S, St>
where
    S: Service<St::Item>,
    St: Stream,
{
    #[pin]
    core: CallAllCore<S, St, FuturesUnordered<S::Future>>,
}

impl<S, St> CallAllUnordered<S, St>
where
    S: Service<St::Item>,
    St: Stream,
{
    /// Creates a stream of the responses of `service` to each request of
    /// `stream`, in the order they finish.
    pub fn new(service: S, stream: St) -> CallAllUnordered<S, St> {
        CallAllUnordered {
            core: CallAllCore::new(service, stream),
        }
    }

    pub(super) fn from_core(core: CallAllCore<S, St, FuturesUnordered<S::Future>>) -> Self {
        CallAllUnordered { core }
    }

    /// Returns the service, dropping the stream and any response in flight.
    ///
    /// # Panics
    ///
    /// If the service was taken out with
    /// [`take_service`](CallAllUnordered::take_service).
    pub fn into_inner(self) -> S {
        self.core.into_inner()
    }

    /// Takes the service out, leaving the stream in place.
    ///
    /// # Panics
    ///
    /// If the service was already taken. Polling the stream afterwards
    /// panics too, since it has no service to call.
    pub fn take_service(self: Pin<&mut Self>) -> S {
        self.project().core.take_service()
    }
}

impl<S, St> Stream for CallAllUnordered<S, St>
where
    S: Service<St::Item>,
    St: Stream,
{
    type Item = Result<S::Response, S::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().core.poll_next(cx)
    }
}

impl<S, St> fmt::Debug for CallAllUnordered<S, St>
where
    S: Service<St::Item> + fmt::Debug,
    St: Stream + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallAllUnordered")
            .field("inner", &self.core)
            .finish()
    }
}
