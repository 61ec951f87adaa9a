use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::ResponseFuture;
use crate::BoxError;

/// Rejects requests at once with [`Overloaded`](super::error::Overloaded) when the inner service is
/// not ready, instead of making the caller wait.
///
/// `poll_ready` polls the inner service once and reports ready either way;
/// the next `call` then goes to the inner service if it was ready, or fails
/// with [`Overloaded`](super::error::Overloaded) without touching it. Each readiness of the inner
/// service serves one call.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: [`Overloaded`](super::error::Overloaded) for shed requests,
/// the inner service's errors (from `poll_ready` or the response) as they
/// are.
///
/// # Backpressure
///
/// None reaches the caller: that is the point. The inner service's readiness
/// is still polled, so its wake-ups are registered, but a caller is never
/// left `Pending` by this layer.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Service, ServiceExt};
/// use donjon::load_shed::LoadShed;
///
/// # futures::executor::block_on(async {
/// let mut service = LoadShed::new(donjon::service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }));
/// assert_eq!(service.ready().await?.call(7).await?, 7);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct LoadShed<S> {
    inner: S,
    /// Whether the last `poll_ready` found the inner service ready.
    inner_ready: bool,
}

impl<S> LoadShed<S> {
    /// Wraps `inner`.
    pub const fn new(inner: S) -> Self {
        LoadShed {
            inner,
            inner_ready: false,
        }
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for LoadShed<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if !self.inner_ready {
            match self.inner.poll_ready(cx) {
                Poll::Ready(Ok(())) => self.inner_ready = true,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                Poll::Pending => {}
            }
        }
        // Ready either way: a call made now is either served or shed.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        if std::mem::take(&mut self.inner_ready) {
            ResponseFuture::called(self.inner.call(request))
        } else {
            ResponseFuture::overloaded()
        }
    }
}

impl<S: Clone> Clone for LoadShed<S> {
    fn clone(&self) -> Self {
        // A clone has not polled the inner service yet.
        LoadShed::new(self.inner.clone())
    }
}
