use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_service::Service;
use futures_core::TryFuture;
use futures_util::TryFutureExt;
use futures_util::future::ErrInto;
use pin_project::pin_project;

closure_middleware! {
    /// Runs an asynchronous closure on each successful response, and answers
    /// with what it produces.
    ///
    /// An error from the inner service skips the closure and is converted
    /// with `Into` into the closure's error type, as are errors from
    /// `poll_ready`.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, ServiceExt, service_fn};
    ///
    /// # futures::executor::block_on(async {
    /// let fetch = service_fn(|id: u32| async move { Ok::<_, BoxError>(format!("user {id}")) })
    ///     // A second asynchronous step, run only on success.
    ///     .and_then(|user: String| async move { Ok::<_, BoxError>(user.len()) });
    /// assert_eq!(fetch.oneshot(7).await?, "user 7".len());
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct AndThen;

    /// A [`Layer`](crate::Layer) that wraps services in an [`AndThen`].
    pub struct AndThenLayer;
}

impl<S, F, Req, Fut> Service<Req> for AndThen<S, F>
where
    S: Service<Req>,
    S::Error: Into<Fut::Error>,
    F: FnOnce(S::Response) -> Fut + Clone,
    Fut: TryFuture,
{
    type Response = Fut::Ok;
    type Error = Fut::Error;
    type Future = AndThenFuture<S::Future, Fut, F>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let future = self.inner.call(request).err_into().and_then(self.f.clone());
        AndThenFuture { inner: future }
    }
}

/// The response future of [`AndThen`].
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct AndThenFuture<F1, F2: TryFuture, N> {
    #[pin]
    inner: futures_util::future::AndThen<ErrInto<F1, F2::Error>, F2, N>,
}

impl<F1, F2: TryFuture, N> fmt::Debug for AndThenFuture<F1, F2, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AndThenFuture")
            .field(&format_args!("..."))
            .finish()
    }
}

impl<F1, F2, N, Res, E> Future for AndThenFuture<F1, F2, N>
where
    F1: Future<Output = Result<Res, E>>,
    E: Into<F2::Error>,
    F2: TryFuture,
    N: FnOnce(Res) -> F2,
{
    type Output = Result<F2::Ok, F2::Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.try_poll(cx)
    }
}
