use std::task::{Context, Poll};

use donjon_service::Service;
use futures_util::TryFutureExt;

closure_middleware! {
    /// Rewrites each error with a closure, whether it comes from `poll_ready`
    /// or from a response.
    ///
    /// The closure runs once per error and may change its type; responses and
    /// readiness are otherwise the inner service's.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{ServiceExt, service_fn};
    ///
    /// # futures::executor::block_on(async {
    /// let parse = service_fn(|text: &'static str| async move { text.parse::<u8>() })
    ///     .map_err(|error| format!("not a byte: {error}"));
    /// assert_eq!(
    ///     parse.oneshot("300").await.unwrap_err(),
    ///     "not a byte: number too large to fit in target type",
    /// );
    /// # });
    /// ```
    pub struct MapErr;

    /// A [`Layer`](crate::Layer) that wraps services in a [`MapErr`].
    pub struct MapErrLayer;
}

impl<S, F, Req, E> Service<Req> for MapErr<S, F>
where
    S: Service<Req>,
    F: FnOnce(S::Error) -> E + Clone,
{
    type Response = S::Response;
    type Error = E;
    type Future = MapErrFuture<S::Future, F>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx).map_err(self.f.clone())
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        MapErrFuture::new(self.inner.call(request).map_err(self.f.clone()))
    }
}

opaque_future! {
    /// The response future of [`MapErr`].
    pub struct MapErrFuture<F, N>(futures_util::future::MapErr<F, N>);
}
