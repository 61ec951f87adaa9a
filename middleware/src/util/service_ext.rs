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
pub trait ServiceExt<Req>: Service<Req> {
    /// Waits for the service to be ready, then gives back `&mut self` to
    /// call it: `service.ready().await?.call(request)`.
    fn ready(&mut self) -> Ready<'_, Self, Req>
    where
        Self: Sized,
    {
        Ready::new(self)
    }

    /// Waits for the service to be ready, then gives the service back.
    fn ready_oneshot(self) -> ReadyOneshot<Self, Req>
    where
        Self: Sized,
    {
        ReadyOneshot::new(self)
    }

    /// Waits for the service to be ready, calls it with `req`, and
    /// resolves to the response; the service is consumed.
    fn oneshot(self, req: Req) -> Oneshot<Self, Req>
    where
        Self: Sized,
    {
        Oneshot::new(self, req)
    }

    /// Calls the service with every request of the stream `reqs`, yielding
    /// the responses in order; see [`CallAll`].
    fn call_all<St>(self, reqs: St) -> CallAll<Self, St>
    where
        Self: Sized,
        St: Stream<Item = Req>,
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
    fn map_response<F, Res>(self, f: F) -> MapResponse<Self, F>
    where
        Self: Sized,
        F: FnOnce(Self::Response) -> Res + Clone,
    {
        MapResponse::new(self, f)
    }

    /// Rewrites each error with `f`; see [`MapErr`].
    fn map_err<F, E>(self, f: F) -> MapErr<Self, F>
    where
        Self: Sized,
        F: FnOnce(Self::Error) -> E + Clone,
    {
        MapErr::new(self, f)
    }

    /// Rewrites each outcome, success or error, with `f`; see
    /// [`MapResult`].
    fn map_result<F, Res, E>(self, f: F) -> MapResult<Self, F>
    where
        Self: Sized,
        E: From<Self::Error>,
        F: FnOnce(Result<Self::Response, Self::Error>) -> Result<Res, E> + Clone,
    {
        MapResult::new(self, f)
    }

    /// Rewrites each request with `f` before it reaches the service; see
    /// [`MapRequest`].
    fn map_request<F, NewReq>(self, f: F) -> MapRequest<Self, F>
    where
        Self: Sized,
        F: FnMut(NewReq) -> Req,
    {
        MapRequest::new(self, f)
    }

    /// Checks each request with `filter` before it reaches the service; see
    /// [`Filter`](crate::filter::Filter).
    #[cfg(feature = "filter")]
    #[cfg_attr(docsrs, doc(cfg(feature = "filter")))]
    fn filter<F, NewReq>(self, filter: F) -> crate::filter::Filter<Self, F>
    where
        Self: Sized,
        F: crate::filter::Predicate<NewReq>,
    {
        crate::filter::Filter::new(self, filter)
    }

    /// Checks each request with the asynchronous `filter` before it reaches
    /// the service; see [`AsyncFilter`](crate::filter::AsyncFilter).
    #[cfg(feature = "filter")]
    #[cfg_attr(docsrs, doc(cfg(feature = "filter")))]
    fn filter_async<F, NewReq>(self, filter: F) -> crate::filter::AsyncFilter<Self, F>
    where
        Self: Sized,
        F: crate::filter::AsyncPredicate<NewReq>,
    {
        crate::filter::AsyncFilter::new(self, filter)
    }

    /// Runs the asynchronous `f` on each outcome, success or error; see
    /// [`Then`].
    fn then<F, Res, E, Fut>(self, f: F) -> Then<Self, F>
    where
        Self: Sized,
        E: From<Self::Error>,
        F: FnOnce(Result<Self::Response, Self::Error>) -> Fut + Clone,
        Fut: Future<Output = Result<Res, E>>,
    {
        Then::new(self, f)
    }

    /// Hands each response future to `f` and answers with the future it
    /// returns; see [`MapFuture`].
    fn map_future<F, Fut, Res, E>(self, f: F) -> MapFuture<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Future) -> Fut,
        E: From<Self::Error>,
        Fut: Future<Output = Result<Res, E>>,
    {
        MapFuture::new(self, f)
    }

    /// Moves the service into a [`Buffer`](crate::buffer::Buffer) of `bound`
    /// requests, whose worker is spawned on the current tokio runtime; see
    /// [`Buffer::new`](crate::buffer::Buffer::new).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or if `bound` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceExt, service_fn};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), BoxError> {
    /// let service = service_fn(|n: u32| async move { Ok::<_, BoxError>(n * 2) }).buffered(16);
    /// // A buffer is `Clone` whatever the service under it.
    /// assert_eq!(service.clone().oneshot(21).await?, 42);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "buffer")]
    #[cfg_attr(docsrs, doc(cfg(feature = "buffer")))]
    fn buffered(self, bound: usize) -> crate::buffer::Buffer<Req, Self::Future>
    where
        Self: Sized + Send + 'static,
        Self::Future: Send + 'static,
        Self::Error: Into<crate::BoxError> + Send + Sync,
        Req: Send + 'static,
    {
        crate::buffer::Buffer::new(self, bound)
    }

    /// Retries the service's requests as `policy` decides; see
    /// [`Retry`](crate::retry::Retry).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::{Ready, ready};
    /// use donjon::{BoxError, ServiceExt, service_fn};
    /// use donjon::retry::Policy;
    ///
    /// /// Retries a failed request once.
    /// #[derive(Clone)]
    /// struct Once(bool);
    ///
    /// impl<Res, E> Policy<u32, Res, E> for Once {
    ///     type Future = Ready<()>;
    ///     fn retry(&mut self, _: &mut u32, result: &mut Result<Res, E>) -> Option<Ready<()>> {
    ///         (result.is_err() && !std::mem::replace(&mut self.0, true)).then(|| ready(()))
    ///     }
    ///     fn clone_request(&mut self, request: &u32) -> Option<u32> {
    ///         Some(*request)
    ///     }
    /// }
    ///
    /// # futures::executor::block_on(async {
    /// let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    /// let counted = calls.clone();
    /// let service = service_fn(move |n: u32| {
    ///     let first = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
    ///     async move { if first { Err::<u32, BoxError>("flaky".into()) } else { Ok(n) } }
    /// })
    /// .retry(Once(false));
    /// assert_eq!(service.oneshot(7).await?, 7, "the second attempt succeeds");
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    #[cfg(feature = "retry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "retry")))]
    fn retry<P>(self, policy: P) -> crate::retry::Retry<P, Self>
    where
        Self: Sized,
    {
        crate::retry::Retry::new(policy, self)
    }

    /// Erases the service's type into a [`BoxService`]; each response
    /// future is boxed (one allocation per request).
    fn boxed(self) -> BoxService<Req, Self::Response, Self::Error>
    where
        Self: Sized + Send + 'static,
        Self::Future: Send + 'static,
    {
        BoxService::new(self)
    }

    /// Erases the service's type into a clonable [`BoxCloneService`]; each
    /// response future is boxed (one allocation per request).
    fn boxed_clone(self) -> BoxCloneService<Req, Self::Response, Self::Error>
    where
        Self: Clone + Sized + Send + 'static,
        Self::Future: Send + 'static,
    {
        BoxCloneService::new(self)
    }
}

impl<S: ?Sized, Req> ServiceExt<Req> for S where S: Service<Req> {}
