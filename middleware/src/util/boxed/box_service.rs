use futures_util::lock::Mutex;
use std::fmt;
use std::task::{Context, Poll};

use donjon_layer::{LayerFn, layer_fn};
use donjon_service::Service;

use super::erase::{BoxingSend, SendFuture};

type Erased<Req, Res, E> =
    dyn Service<Req, Response = Res, Error = E, Future = SendFuture<Res, E>> + Send;

/// A [`Service`](crate::Service) whose type is erased: any `Send` service with the given
/// request, response and error types.
///
/// Use it to name the type of a stack of middleware (in a struct field, a
/// function's return type, or to put different services in one
/// collection). It is `Send` and `Sync`, and not `Clone`; see
/// [`BoxCloneService`](crate::util::BoxCloneService) for a clonable one.
///
/// Boxing costs one allocation when the service is boxed, and one per
/// request: each response future is boxed as a
/// `Pin<Box<dyn Future + Send>>`.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::util::BoxService;
///
/// fn make(double: bool) -> BoxService<u32, u32, BoxError> {
///     if double {
///         service_fn(|n: u32| async move { Ok::<_, BoxError>(n * 2) }).boxed()
///     } else {
///         BoxService::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }))
///     }
/// }
///
/// # futures::executor::block_on(async {
/// assert_eq!(make(true).oneshot(2).await?, 4);
/// assert_eq!(make(false).oneshot(2).await?, 2);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub struct BoxService<Req, Res, E> {
    // The mutex is never locked: it is there because `Mutex<X>` is `Sync`
    // when `X` is only `Send`, and `get_mut` reaches the service without
    // locking since every access goes through `&mut self`. futures' mutex,
    // unlike std's, has no poison flag to check on the way.
    inner: Mutex<Box<Erased<Req, Res, E>>>,
}

impl<Req, Res, E> BoxService<Req, Res, E> {
    /// Boxes `inner`.
    pub fn new<S>(inner: S) -> Self
    where
        S: Service<Req, Response = Res, Error = E> + Send + 'static,
        S::Future: Send + 'static,
    {
        BoxService {
            inner: Mutex::new(Box::new(BoxingSend(inner))),
        }
    }

    /// Returns a layer that boxes the services it wraps.
    pub fn layer<S>() -> LayerFn<fn(S) -> Self>
    where
        S: Service<Req, Response = Res, Error = E> + Send + 'static,
        S::Future: Send + 'static,
    {
        layer_fn(Self::new)
    }

    fn service(&mut self) -> &mut Erased<Req, Res, E> {
        &mut **self.inner.get_mut()
    }
}

impl<Req, Res, E> Service<Req> for BoxService<Req, Res, E> {
    type Response = Res;
    type Error = E;
    type Future = SendFuture<Res, E>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.service().poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        self.service().call(request)
    }
}

impl<Req, Res, E> fmt::Debug for BoxService<Req, Res, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxService")
    }
}

boxed_layer! {
    /// A [`Layer`](crate::Layer) whose type is erased: it makes a [`BoxService`] out of the
    /// services it wraps.
    ///
    /// Use it to name the type of a layer, or to choose layers at run time.
    /// Cloning it is cheap (a reference count).
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::{BoxError, Layer, ServiceBuilder, ServiceExt, service_fn};
    /// use donjon::util::{BoxLayer, ServiceFn};
    ///
    /// type Inner = ServiceFn<fn(u32) -> std::future::Ready<Result<u32, BoxError>>>;
    ///
    /// fn pick(offset: u32) -> BoxLayer<Inner, u32, u32, BoxError> {
    ///     BoxLayer::new(ServiceBuilder::new().map_request(move |n: u32| n + offset))
    /// }
    ///
    /// # futures::executor::block_on(async {
    /// let inner: Inner = service_fn(|n| std::future::ready(Ok(n)));
    /// assert_eq!(pick(10).layer(inner).oneshot(1).await?, 11);
    /// # Ok::<(), BoxError>(())
    /// # }).unwrap();
    /// ```
    pub struct BoxLayer makes BoxService where made: [Send + 'static];
}
