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
pub fn service_fn<T>(f: T) -> ServiceFn<T> {
    ServiceFn { f }
}

/// A [`Service`] made from a closure; see [`service_fn`].
#[derive(Copy, Clone)]
pub struct ServiceFn<T> {
    f: T,
}

impl<T> fmt::Debug for ServiceFn<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceFn")
            .field("f", &format_args!("{}", type_name::<T>()))
            .finish()
    }
}

impl<T, F, Request, R, E> Service<Request> for ServiceFn<T>
where
    T: FnMut(Request) -> F,
    F: Future<Output = Result<R, E>>,
{
    type Response = R;
    type Error = E;
    type Future = F;

    #[inline]
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), E>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, req: Request) -> F {
        (self.f)(req)
    }
}
