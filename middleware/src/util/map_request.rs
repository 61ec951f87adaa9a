use std::task::{Context, Poll};

use donjon_service::Service;

closure_middleware! {
    /// Rewrites each request with a closure before passing it to the inner
    /// service.
    ///
    /// The closure may change the request's type: a `MapRequest<S, F>` over an
    /// `S: Service<InnerReq>` with `F: FnMut(Req) -> InnerReq` is a `Service<Req>`.
    /// Readiness, responses and errors are the inner service's.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceExt, service_fn};
    ///
    /// # futures::executor::block_on(async {
    /// let length = service_fn(|text: String| async move { Ok::<_, BoxError>(text.len()) })
    ///     .map_request(|n: u32| n.to_string());
    /// assert_eq!(length.oneshot(1234).await?, 4);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct MapRequest;

    /// A [`Layer`](crate::Layer) that wraps services in a [`MapRequest`].
    pub struct MapRequestLayer;
}

impl<S, F, Req, InnerReq> Service<Req> for MapRequest<S, F>
where
    S: Service<InnerReq>,
    F: FnMut(Req) -> InnerReq,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> S::Future {
        self.inner.call((self.f)(request))
    }
}
