use std::future::Future;
use std::task::{Context, Poll};

use donjon_service::Service;
use futures_util::FutureExt;

closure_middleware! {
    /// Runs an asynchronous closure on each outcome, success or error, and
    /// answers with what it produces.
    ///
    /// Like [`MapResult`](crate::util::MapResult), but the closure returns a
    /// future. Errors from `poll_ready` do not go through it: they are
    /// converted with `Into`.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceExt, service_fn};
    ///
    /// # futures::executor::block_on(async {
    /// let lookup = service_fn(|key: &'static str| async move {
    ///     if key == "known" { Ok("value".to_owned()) } else { Err(BoxError::from("missing")) }
    /// })
    /// // Fall back to a default, which could itself take a request to fetch.
    /// .then(|result: Result<String, BoxError>| async move {
    ///     Ok::<_, BoxError>(result.unwrap_or_else(|_| "default".to_owned()))
    /// });
    /// assert_eq!(lookup.oneshot("other").await?, "default");
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct Then;

    /// A [`Layer`](crate::Layer) that wraps services in a [`Then`].
    pub struct ThenLayer;
}

impl<S, F, Req, Res, E, Fut> Service<Req> for Then<S, F>
where
    S: Service<Req>,
    S::Error: Into<E>,
    F: FnOnce(Result<S::Response, S::Error>) -> Fut + Clone,
    Fut: Future<Output = Result<Res, E>>,
{
    type Response = Res;
    type Error = E;
    type Future = ThenFuture<S::Future, Fut, F>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        ThenFuture::new(self.inner.call(request).then(self.f.clone()))
    }
}

opaque_future! {
    /// The response future of [`Then`].
    pub struct ThenFuture<F1, F2, N>(futures_util::future::Then<F1, F2, N>);
}
