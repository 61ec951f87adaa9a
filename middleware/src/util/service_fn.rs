use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::task::{Context, Poll};

use donjon_service::Service;

/// Turns an `async` closure (a closure returning a future of a `Result`)
/// into a [`Service`].
///
/// The service is always ready; each call runs the closure on the request.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
///
/// # futures::executor::block_on(async {
/// let add_one = service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) });
/// assert_eq!(add_one.oneshot(1).await?, 2);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub fn service_fn<F>(f: F) -> ServiceFn<F> {
    ServiceFn { f }
}

/// A [`Service`] made from a closure; see [`service_fn`].
#[derive(Copy, Clone)]
pub struct ServiceFn<F> {
    f: F,
}

impl<F> fmt::Debug for ServiceFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceFn")
            .field("f", &format_args!("{}", type_name::<F>()))
            .finish()
    }
}

impl<F, Fut, Req, Res, E> Service<Req> for ServiceFn<F>
where
    F: FnMut(Req) -> Fut,
    Fut: Future<Output = Result<Res, E>>,
{
    type Response = Res;
    type Error = E;
    type Future = Fut;

    #[inline]
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), E>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, req: Req) -> Fut {
        (self.f)(req)
    }
}
