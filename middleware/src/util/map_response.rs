use std::task::{Context, Poll};

use donjon_service::Service;
use futures_util::TryFutureExt;
use futures_util::future::MapOk;

closure_middleware! {
    /// Rewrites each successful response with a closure.
    ///
    /// The closure runs once per successful response and may change its type;
    /// errors and readiness are the inner service's.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceExt, service_fn};
    ///
    /// # futures::executor::block_on(async {
    /// let shout = service_fn(|text: &'static str| async move { Ok::<_, BoxError>(text.to_owned()) })
    ///     .map_response(|text| text.to_uppercase());
    /// assert_eq!(shout.oneshot("hey").await?, "HEY");
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct MapResponse;

    /// A [`Layer`](crate::Layer) that wraps services in a [`MapResponse`].
    pub struct MapResponseLayer;
}

impl<S, F, Req, Res> Service<Req> for MapResponse<S, F>
where
    S: Service<Req>,
    F: FnOnce(S::Response) -> Res + Clone,
{
    type Response = Res;
    type Error = S::Error;
    type Future = MapResponseFuture<S::Future, F>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        MapResponseFuture::new(self.inner.call(request).map_ok(self.f.clone()))
    }
}

opaque_future! {
    /// The response future of [`MapResponse`].
    pub struct MapResponseFuture<F, N>(MapOk<F, N>);
}
