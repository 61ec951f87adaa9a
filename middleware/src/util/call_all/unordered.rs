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
pub struct CallAllUnordered<Svc, S>
where
    Svc: Service<S::Item>,
    S: Stream,
{
    #[pin]
    core: CallAllCore<Svc, S, FuturesUnordered<Svc::Future>>,
}

impl<Svc, S> CallAllUnordered<Svc, S>
where
    Svc: Service<S::Item>,
    S: Stream,
{
    /// Creates a stream of the responses of `service` to each request of
    /// `stream`, in the order they finish.
    pub fn new(service: Svc, stream: S) -> CallAllUnordered<Svc, S> {
        CallAllUnordered {
            core: CallAllCore::new(service, stream),
        }
    }

    pub(super) fn from_core(core: CallAllCore<Svc, S, FuturesUnordered<Svc::Future>>) -> Self {
        CallAllUnordered { core }
    }

    /// Returns the service, dropping the stream and any response in flight.
    ///
    /// # Panics
    ///
    /// If the service was taken out with
    /// [`take_service`](CallAllUnordered::take_service).
    pub fn into_inner(self) -> Svc {
        self.core.into_inner()
    }

    /// Takes the service out, leaving the stream in place.
    ///
    /// # Panics
    ///
    /// If the service was already taken. Polling the stream afterwards
    /// panics too, since it has no service to call.
    pub fn take_service(self: Pin<&mut Self>) -> Svc {
        self.project().core.take_service()
    }
}

impl<Svc, S> Stream for CallAllUnordered<Svc, S>
where
    Svc: Service<S::Item>,
    S: Stream,
{
    type Item = Result<Svc::Response, Svc::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().core.poll_next(cx)
    }
}

impl<Svc, S> fmt::Debug for CallAllUnordered<Svc, S>
where
    Svc: Service<S::Item> + fmt::Debug,
    S: Stream + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallAllUnordered")
            .field("inner", &self.core)
            .finish()
    }
}
