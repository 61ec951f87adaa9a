use std::task::{Context, Poll};

use donjon_service::Service;
use futures_util::FutureExt;
use futures_util::future::Map;

closure_middleware! {
    /// Rewrites each outcome, success or error, with a closure.
    ///
    /// The closure sees the whole `Result` of each call, so it can turn an
    /// error into a response or a response into an error. Errors from
    /// `poll_ready` do not go through it: they are converted with `From`.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{ServiceExt, service_fn};
    ///
    /// # futures::executor::block_on(async {
    /// // Treat an unparsable number as zero.
    /// let parse = service_fn(|text: &'static str| async move { text.parse::<u8>() })
    ///     .map_result(|result| Ok::<_, std::num::ParseIntError>(result.unwrap_or(0)));
    /// assert_eq!(parse.oneshot("x").await, Ok(0));
    /// # });
    /// ```
    pub struct MapResult;

    /// A [`Layer`](crate::Layer) that wraps services in a [`MapResult`].
    pub struct MapResultLayer;
}

impl<S, F, Req, Res, E> Service<Req> for MapResult<S, F>
where
    S: Service<Req>,
    E: From<S::Error>,
    F: FnOnce(Result<S::Response, S::Error>) -> Result<Res, E> + Clone,
{
    type Response = Res;
    type Error = E;
    type Future = MapResultFuture<S::Future, F>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        MapResultFuture::new(self.inner.call(request).map(self.f.clone()))
    }
}

opaque_future! {
    /// The response future of [`MapResult`].
    pub struct MapResultFuture<F, N>(Map<F, N>);
}
