use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;

/// A future that waits for a service to be ready, then gives the service
/// back by value.
///
/// Returned by [`ServiceExt::ready_oneshot`](crate::ServiceExt::ready_oneshot).
/// It resolves to `Ok(service)` once `poll_ready` returns `Ready(Ok(()))`
/// (the service may hold a reservation for its next call), or to the error
/// `poll_ready` returned.
///
/// # Panics
///
/// Polling it again after it resolved panics.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
///
/// # futures::executor::block_on(async {
/// let service = service_fn(|n: u8| async move { Ok::<_, BoxError>(n) });
/// let mut ready = service.ready_oneshot().await?;
/// assert_eq!(ready.call(3).await?, 3);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadyOneshot<S, Req> {
    inner: Option<S>,
    _request: PhantomData<fn() -> Req>,
}

// The service is never pinned: it is polled through `&mut` and moved out.
impl<S, Req> Unpin for ReadyOneshot<S, Req> {}

impl<S, Req> ReadyOneshot<S, Req>
where
    S: Service<Req>,
{
    /// Creates a future that waits for `service` to be ready.
    pub const fn new(service: S) -> Self {
        ReadyOneshot {
            inner: Some(service),
            _request: PhantomData,
        }
    }
}

impl<S, Req> Future for ReadyOneshot<S, Req>
where
    S: Service<Req>,
{
    type Output = Result<S, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let service = self.inner.as_mut().expect("poll after Poll::Ready");
        ready!(service.poll_ready(cx))?;
        Poll::Ready(Ok(self.inner.take().expect("poll after Poll::Ready")))
    }
}

impl<S: fmt::Debug, Req> fmt::Debug for ReadyOneshot<S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyOneshot")
            .field("inner", &self.inner)
            .finish()
    }
}

/// A future that waits for a service to be ready, then gives back a
/// mutable reference to it.
///
/// Returned by [`ServiceExt::ready`](crate::ServiceExt::ready); the usual way
/// to call a service by hand is `service.ready().await?.call(request)`.
///
/// # Panics
///
/// Polling it again after it resolved panics.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
///
/// # futures::executor::block_on(async {
/// let mut service = service_fn(|n: u8| async move { Ok::<_, BoxError>(n + 1) });
/// let answer = service.ready().await?.call(41).await?;
/// assert_eq!(answer, 42);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Ready<'a, S, Req>(ReadyOneshot<&'a mut S, Req>);

impl<S, Req> Unpin for Ready<'_, S, Req> {}

impl<'a, S, Req> Ready<'a, S, Req>
where
    S: Service<Req>,
{
    /// Creates a future that waits for `service` to be ready.
    pub fn new(service: &'a mut S) -> Self {
        Ready(ReadyOneshot::new(service))
    }
}

impl<'a, S, Req> Future for Ready<'a, S, Req>
where
    S: Service<Req>,
{
    type Output = Result<&'a mut S, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<S: fmt::Debug, Req> fmt::Debug for Ready<'_, S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ready").field(&self.0).finish()
    }
}
