use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use donjon_layer::{Layer, LayerFn, layer_fn};
use donjon_service::Service;

use super::erase::{BoxingSend, CloneService, SendFuture};

/// A clonable [`Service`] whose type is erased.
///
/// Like [`BoxService`](crate::util::BoxService), but `Clone` (each clone is
/// a clone of the inner service, starting without any readiness
/// reservation, as every clone does). It is `Send` but not `Sync`; see
/// [`BoxCloneSyncService`](crate::util::BoxCloneSyncService) when `Sync` is
/// needed.
///
/// Boxing costs one allocation when the service is boxed or cloned, and one
/// per request: each response future is boxed.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::util::BoxCloneService;
///
/// # futures::executor::block_on(async {
/// let service: BoxCloneService<u32, u32, BoxError> =
///     service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) }).boxed_clone();
/// let clone = service.clone();
/// assert_eq!(service.oneshot(1).await?, 2);
/// assert_eq!(clone.oneshot(2).await?, 3);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub struct BoxCloneService<T, U, E> {
    inner: Box<dyn CloneService<T, U, E> + Send>,
}

impl<T, U, E> BoxCloneService<T, U, E> {
    /// Boxes `inner`.
    pub fn new<S>(inner: S) -> Self
    where
        S: Service<T, Response = U, Error = E> + Clone + Send + 'static,
        S::Future: Send + 'static,
    {
        BoxCloneService {
            inner: Box::new(BoxingSend(inner)),
        }
    }

    /// Returns a layer that boxes the services it wraps.
    pub fn layer<S>() -> LayerFn<fn(S) -> Self>
    where
        S: Service<T, Response = U, Error = E> + Clone + Send + 'static,
        S::Future: Send + 'static,
    {
        layer_fn(Self::new)
    }
}

impl<T, U, E> Service<T> for BoxCloneService<T, U, E> {
    type Response = U;
    type Error = E;
    type Future = SendFuture<U, E>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: T) -> Self::Future {
        self.inner.call(request)
    }
}

impl<T, U, E> Clone for BoxCloneService<T, U, E> {
    fn clone(&self) -> Self {
        BoxCloneService {
            inner: self.inner.clone_box(),
        }
    }
}

impl<T, U, E> fmt::Debug for BoxCloneService<T, U, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxCloneService")
    }
}

/// A [`Layer`] whose type is erased, making a [`BoxCloneService`] out of the
/// services it wraps.
///
/// Cloning it is cheap (a reference count).
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Layer, ServiceBuilder, ServiceExt, service_fn};
/// use donjon::util::{BoxCloneServiceLayer, ServiceFn};
///
/// type Inner = ServiceFn<fn(u32) -> std::future::Ready<Result<u32, BoxError>>>;
///
/// let layer: BoxCloneServiceLayer<Inner, u32, u32, BoxError> =
///     BoxCloneServiceLayer::new(ServiceBuilder::new().map_response(|n: u32| n * 3));
/// # futures::executor::block_on(async {
/// let inner: Inner = service_fn(|n| std::future::ready(Ok(n)));
/// let service = layer.layer(inner);
/// assert_eq!(service.clone().oneshot(2).await?, 6);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub struct BoxCloneServiceLayer<In, T, U, E> {
    boxed: Arc<dyn Layer<In, Service = BoxCloneService<T, U, E>> + Send + Sync + 'static>,
}

impl<In, T, U, E> BoxCloneServiceLayer<In, T, U, E> {
    /// Boxes `inner_layer`; the services it makes are boxed in turn.
    pub fn new<L>(inner_layer: L) -> Self
    where
        L: Layer<In> + Send + Sync + 'static,
        L::Service: Service<T, Response = U, Error = E> + Send + Clone + 'static,
        <L::Service as Service<T>>::Future: Send + 'static,
    {
        let layer = layer_fn(move |inner: In| BoxCloneService::new(inner_layer.layer(inner)));
        BoxCloneServiceLayer {
            boxed: Arc::new(layer),
        }
    }
}

impl<In, T, U, E> Layer<In> for BoxCloneServiceLayer<In, T, U, E> {
    type Service = BoxCloneService<T, U, E>;

    fn layer(&self, inner: In) -> Self::Service {
        self.boxed.layer(inner)
    }
}

impl<In, T, U, E> Clone for BoxCloneServiceLayer<In, T, U, E> {
    fn clone(&self) -> Self {
        BoxCloneServiceLayer {
            boxed: Arc::clone(&self.boxed),
        }
    }
}

impl<In, T, U, E> fmt::Debug for BoxCloneServiceLayer<In, T, U, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxCloneServiceLayer")
    }
}
