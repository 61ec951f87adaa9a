use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::ResponseFuture;
use crate::BoxError;

/// A service that may be missing: with `Some(service)` it forwards to it,
/// with `None` every request fails with [`None`](crate::util::error::optional::None).
///
/// Errors are boxed into a [`BoxError`]. Without a service it is always
/// ready, and each response future fails at once.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::util::Optional;
/// use donjon::util::error::optional::None as Missing;
///
/// # futures::executor::block_on(async {
/// let present = Optional::new(Some(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) })));
/// assert_eq!(present.oneshot(1).await?, 1);
///
/// let absent = Optional::new(None::<donjon::util::ServiceFn<fn(u32) -> std::future::Ready<Result<u32, BoxError>>>>);
/// assert!(absent.oneshot(1).await.unwrap_err().is::<Missing>());
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct Optional<S> {
    inner: Option<S>,
}

impl<S> Optional<S> {
    /// Wraps a service that may be missing.
    pub const fn new<Req>(inner: Option<S>) -> Optional<S>
    where
        S: Service<Req>,
        S::Error: Into<BoxError>,
    {
        Optional { inner }
    }
}

impl<S, Req> Service<Req> for Optional<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match &mut self.inner {
            Some(service) => service.poll_ready(cx).map_err(Into::into),
            None => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        ResponseFuture::new(self.inner.as_mut().map(|service| service.call(request)))
    }
}
