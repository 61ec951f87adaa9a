use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_service::Service;
use futures_core::Stream;
use futures_util::stream::{FuturesOrdered, FuturesUnordered};
use pin_project::pin_project;

use super::CallAllUnordered;
use super::common::CallAllCore;

/// A stream of responses, made by calling a service with each request of a
/// stream of requests, in order.
///
/// Returned by [`ServiceExt::call_all`](crate::ServiceExt::call_all). Several
/// requests may be in flight at once (as many as the service accepts), and
/// responses come out in the order of the requests; see
/// [`unordered`](CallAll::unordered) to get them as they finish.
///
/// A request is taken from the stream only when the service can be asked
/// for readiness with it in hand, so a stream that has nothing to send
/// never holds any of the service's capacity.
///
/// # Errors
///
/// A failed response is yielded as an `Err` item, and the stream goes on. If
/// the service itself fails (its `poll_ready` returns an error), that error
/// is yielded, no more requests are sent, the responses already in flight
/// are still yielded, and then the stream ends.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use futures::{StreamExt, stream};
///
/// # futures::executor::block_on(async {
/// let double = service_fn(|n: u32| async move { Ok::<_, BoxError>(n * 2) });
/// let responses: Vec<u32> = double
///     .call_all(stream::iter([1, 2, 3]))
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// assert_eq!(responses, [2, 4, 6]);
/// # });
/// ```
#[pin_project]
#[must_use = "streams do nothing unless polled"]
pub struct CallAll<S, St>
where
    S: Service<St::Item>,
    St: Stream,
{
    #[pin]
    core: CallAllCore<S, St, FuturesOrdered<S::Future>>,
}

impl<S, St> CallAll<S, St>
where
    S: Service<St::Item>,
    St: Stream,
{
    /// Creates a stream of the responses of `service` to each request of
    /// `stream`.
    pub fn new(service: S, stream: St) -> CallAll<S, St> {
        CallAll {
            core: CallAllCore::new(service, stream),
        }
    }

    /// Returns the service, dropping the stream and any response in flight.
    ///
    /// # Panics
    ///
    /// If the service was taken out with [`take_service`](CallAll::take_service).
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

    /// Turns this into a stream that yields responses as they finish,
    /// whatever the order of their requests.
    ///
    /// # Panics
    ///
    /// If responses are already in flight, or the request stream has ended:
    /// call it before polling the stream, or while nothing is in flight.
    pub fn unordered(self) -> CallAllUnordered<S, St> {
        CallAllUnordered::from_core(self.core.with_queue::<FuturesUnordered<S::Future>>())
    }
}

impl<S, St> Stream for CallAll<S, St>
where
    S: Service<St::Item>,
    St: Stream,
{
    type Item = Result<S::Response, S::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().core.poll_next(cx)
    }
}

impl<S, St> fmt::Debug for CallAll<S, St>
where
    S: Service<St::Item> + fmt::Debug,
    St: Stream + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallAll")
            .field("inner", &self.core)
            .finish()
    }
}
