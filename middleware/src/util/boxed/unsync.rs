use std::fmt;
use std::task::{Context, Poll};

use donjon_layer::{LayerFn, layer_fn};
use donjon_service::Service;

use super::erase::{BoxingLocal, LocalFuture};

/// A [`Service`] whose type is erased, for services and futures that are
/// not `Send`.
///
/// Like [`BoxService`](crate::util::BoxService) without the `Send`
/// requirement, and so neither `Send` nor `Sync` itself. Each response
/// future is boxed: one allocation per request.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::util::UnsyncBoxService;
///
/// # futures::executor::block_on(async {
/// let shared = Rc::new(5); // not Send
/// let service = UnsyncBoxService::new(service_fn(move |n: u32| {
///     let shared = Rc::clone(&shared);
///     async move { Ok::<_, BoxError>(n + *shared) }
/// }));
/// assert_eq!(service.oneshot(1).await?, 6);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub struct UnsyncBoxService<Req, Res, E> {
    inner: Box<dyn Service<Req, Response = Res, Error = E, Future = LocalFuture<Res, E>>>,
}

impl<Req, Res, E> UnsyncBoxService<Req, Res, E> {
    /// Boxes `inner`.
    pub fn new<S>(inner: S) -> Self
    where
        S: Service<Req, Response = Res, Error = E> + 'static,
        S::Future: 'static,
    {
        UnsyncBoxService {
            inner: Box::new(BoxingLocal(inner)),
        }
    }

    /// Returns a layer that boxes the services it wraps.
    pub fn layer<S>() -> LayerFn<fn(S) -> Self>
    where
        S: Service<Req, Response = Res, Error = E> + 'static,
        S::Future: 'static,
    {
        layer_fn(Self::new)
    }
}

impl<Req, Res, E> Service<Req> for UnsyncBoxService<Req, Res, E> {
    type Response = Res;
    type Error = E;
    type Future = LocalFuture<Res, E>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        self.inner.call(request)
    }
}

impl<Req, Res, E> fmt::Debug for UnsyncBoxService<Req, Res, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnsyncBoxService")
    }
}
