use std::future::Future;

use donjon_service::Service;
use futures_core::Stream;

use super::{
    AndThen, BoxCloneService, BoxService, CallAll, MapErr, MapFuture, MapRequest, MapResponse,
    MapResult, Oneshot, Ready, ReadyOneshot, Then,
};

/// Extra methods for every [`Service`]: waiting for readiness, calling once,
/// and wrapping in the `util` combinators.
///
/// Each method is a thin constructor of the type it returns; see that type
/// for details.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
///
/// # futures::executor::block_on(async {
/// let mut service = service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) })
///     .map_request(|text: &str| text.len() as u32)
///     .map_response(|n| n * 10);
///
/// // Wait for readiness and call, keeping the service.
/// assert_eq!(service.ready().await?.call("abc").await?, 40);
/// // Or hand the service over for a single call.
/// assert_eq!(service.oneshot("").await?, 10);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub trait ServiceExt<Request>: Service<Request> {
    /// Waits for the service to be ready, then gives back `&mut self` to
    /// call it: `service.ready().await?.call(request)`.
    fn ready(&mut self) -> Ready<'_, Self, Request>
    where
        Self: Sized,
    {
        Ready::new(self)
    }

    /// Waits for the service to be ready, then gives the service back.
    fn ready_oneshot(self) -> ReadyOneshot<Self, Request>
    where
        Self: Sized,
    {
        ReadyOneshot::new(self)
    }

    /// Waits for the service to be ready, calls it with `req`, and
    /// resolves to the response; the service is consumed.
    fn oneshot(self, req: Request) -> Oneshot<Self, Request>
    where
        Self: Sized,
    {
        Oneshot::new(self, req)
    }

    /// Calls the service with every request of the stream `reqs`, yielding
    /// the responses in order; see [`CallAll`].
    fn call_all<S>(self, reqs: S) -> CallAll<Self, S>
    where
        Self: Sized,
        S: Stream<Item = Request>,
    {
        CallAll::new(self, reqs)
    }

    /// Runs the asynchronous `f` on each successful response; see
    /// [`AndThen`].
    fn and_then<F>(self, f: F) -> AndThen<Self, F>
    where
        Self: Sized,
        F: Clone,
    {
        AndThen::new(self, f)
    }

    /// Rewrites each successful response with `f`; see [`MapResponse`].
    fn map_response<F, Response>(self, f: F) -> MapResponse<Self, F>
    where
        Self: Sized,
        F: FnOnce(Self::Response) -> Response + Clone,
    {
        MapResponse::new(self, f)
    }

    /// Rewrites each error with `f`; see [`MapErr`].
    fn map_err<F, Error>(self, f: F) -> MapErr<Self, F>
    where
        Self: Sized,
        F: FnOnce(Self::Error) -> Error + Clone,
    {
        MapErr::new(self, f)
    }

    /// Rewrites each outcome, success or error, with `f`; see
    /// [`MapResult`].
    fn map_result<F, Response, Error>(self, f: F) -> MapResult<Self, F>
    where
        Self: Sized,
        Error: From<Self::Error>,
        F: FnOnce(Result<Self::Response, Self::Error>) -> Result<Response, Error> + Clone,
    {
        MapResult::new(self, f)
    }

    /// Rewrites each request with `f` before it reaches the service; see
    /// [`MapRequest`].
    fn map_request<F, NewRequest>(self, f: F) -> MapRequest<Self, F>
    where
        Self: Sized,
        F: FnMut(NewRequest) -> Request,
    {
        MapRequest::new(self, f)
    }

    /// Checks each request with `filter` before it reaches the service; see
    /// [`Filter`](crate::filter::Filter).
    #[cfg(feature = "filter")]
    #[cfg_attr(docsrs, doc(cfg(feature = "filter")))]
    fn filter<F, NewRequest>(self, filter: F) -> crate::filter::Filter<Self, F>
    where
        Self: Sized,
        F: crate::filter::Predicate<NewRequest>,
    {
        crate::filter::Filter::new(self, filter)
    }

    /// Checks each request with the asynchronous `filter` before it reaches
    /// the service; see [`AsyncFilter`](crate::filter::AsyncFilter).
    #[cfg(feature = "filter")]
    #[cfg_attr(docsrs, doc(cfg(feature = "filter")))]
    fn filter_async<F, NewRequest>(self, filter: F) -> crate::filter::AsyncFilter<Self, F>
    where
        Self: Sized,
        F: crate::filter::AsyncPredicate<NewRequest>,
    {
        crate::filter::AsyncFilter::new(self, filter)
    }

    /// Runs the asynchronous `f` on each outcome, success or error; see
    /// [`Then`].
    fn then<F, Response, Error, Fut>(self, f: F) -> Then<Self, F>
    where
        Self: Sized,
        Error: From<Self::Error>,
        F: FnOnce(Result<Self::Response, Self::Error>) -> Fut + Clone,
        Fut: Future<Output = Result<Response, Error>>,
    {
        Then::new(self, f)
    }

    /// Hands each response future to `f` and answers with the future it
    /// returns; see [`MapFuture`].
    fn map_future<F, Fut, Response, Error>(self, f: F) -> MapFuture<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Future) -> Fut,
        Error: From<Self::Error>,
        Fut: Future<Output = Result<Response, Error>>,
    {
        MapFuture::new(self, f)
    }

    /// Erases the service's type into a [`BoxService`]; each response
    /// future is boxed (one allocation per request).
    fn boxed(self) -> BoxService<Request, Self::Response, Self::Error>
    where
        Self: Sized + Send + 'static,
        Self::Future: Send + 'static,
    {
        BoxService::new(self)
    }

    /// Erases the service's type into a clonable [`BoxCloneService`]; each
    /// response future is boxed (one allocation per request).
    fn boxed_clone(self) -> BoxCloneService<Request, Self::Response, Self::Error>
    where
        Self: Clone + Sized + Send + 'static,
        Self::Future: Send + 'static,
    {
        BoxCloneService::new(self)
    }
}

impl<T: ?Sized, Request> ServiceExt<Request> for T where T: Service<Request> {}
