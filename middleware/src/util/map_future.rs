use std::future::Future;
use std::task::{Context, Poll};

use donjon_service::Service;

closure_middleware! {
    /// Hands each response future of the inner service to a closure, and
    /// answers with the future the closure returns.
    ///
    /// The most general of the mapping combinators: the closure can wrap the
    /// future (to time it, to box it, to attach a span) as well as map what
    /// it yields. Errors from `poll_ready` are converted with `From`.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceExt, service_fn};
    ///
    /// # futures::executor::block_on(async {
    /// let service = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) })
    ///     .map_future(|future| async move {
    ///         // Code here runs around the inner future.
    ///         let n = future.await?;
    ///         Ok::<_, BoxError>(n + 1)
    ///     });
    /// assert_eq!(service.oneshot(1).await?, 2);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct MapFuture;

    /// A [`Layer`](crate::Layer) that wraps services in a [`MapFuture`].
    pub struct MapFutureLayer;
}

impl<Req, S, F, Res, E, Fut> Service<Req> for MapFuture<S, F>
where
    S: Service<Req>,
    F: FnMut(S::Future) -> Fut,
    E: From<S::Error>,
    Fut: Future<Output = Result<Res, E>>,
{
    type Response = Res;
    type Error = E;
    type Future = Fut;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx).map_err(From::from)
    }

    #[inline]
    fn call(&mut self, req: Req) -> Fut {
        (self.f)(self.inner.call(req))
    }
}
