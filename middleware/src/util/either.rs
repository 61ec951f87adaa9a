use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_layer::{Identity, Layer};
use donjon_service::Service;
use pin_project::pin_project;

/// One of two services (or layers), chosen at run time.
///
/// As a [`Service`], it forwards to whichever it holds; both must have the
/// same response and error types. As a [`Layer`], it applies whichever
/// layer it holds, which is how
/// [`ServiceBuilder::option_layer`](crate::ServiceBuilder::option_layer)
/// makes a layer optional.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::util::Either;
///
/// # futures::executor::block_on(async {
/// let fast = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
/// let slow = service_fn(|n: u32| async move { Ok::<_, BoxError>(n * 1000) });
/// let pick = |big: bool| if big { Either::Right(slow) } else { Either::Left(fast) };
/// assert_eq!(pick(true).oneshot(2).await?, 2000);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Either<A, B> {
    /// The first kind.
    Left(A),
    /// The second kind.
    Right(B),
}

impl<A, B, Req> Service<Req> for Either<A, B>
where
    A: Service<Req>,
    B: Service<Req, Response = A::Response, Error = A::Error>,
{
    type Response = A::Response;
    type Error = A::Error;
    type Future = EitherResponseFuture<A::Future, B::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), A::Error>> {
        match self {
            Either::Left(service) => service.poll_ready(cx),
            Either::Right(service) => service.poll_ready(cx),
        }
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let kind = match self {
            Either::Left(service) => Kind::Left(service.call(request)),
            Either::Right(service) => Kind::Right(service.call(request)),
        };
        EitherResponseFuture { kind }
    }
}

impl<S, A, B> Layer<S> for Either<A, B>
where
    A: Layer<S>,
    B: Layer<S>,
{
    type Service = Either<A::Service, B::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        match self {
            Either::Left(layer) => Either::Left(layer.layer(inner)),
            Either::Right(layer) => Either::Right(layer.layer(inner)),
        }
    }
}

/// Turns an optional layer into a layer: `Some(layer)` applies `layer`,
/// `None` applies nothing.
///
/// # Examples
///
/// ```
/// use donjon::Layer;
/// use donjon::layer::{LayerFn, layer_fn};
/// use donjon::util::{Either, option_layer};
///
/// let double: LayerFn<fn(u32) -> u32> = layer_fn(|n| n * 2);
/// assert!(matches!(option_layer(Some(double)).layer(3), Either::Left(6)));
/// assert!(matches!(option_layer(None::<LayerFn<fn(u32) -> u32>>).layer(3), Either::Right(3)));
/// ```
pub fn option_layer<L>(layer: Option<L>) -> Either<L, Identity> {
    match layer {
        Some(layer) => Either::Left(layer),
        None => Either::Right(Identity::new()),
    }
}

/// The response future of [`Either`].
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct EitherResponseFuture<A, B> {
    #[pin]
    kind: Kind<A, B>,
}

#[pin_project(project = KindProj)]
enum Kind<A, B> {
    Left(#[pin] A),
    Right(#[pin] B),
}

impl<A, B> Future for EitherResponseFuture<A, B>
where
    A: Future,
    B: Future<Output = A::Output>,
{
    type Output = A::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<A::Output> {
        match self.project().kind.project() {
            KindProj::Left(future) => future.poll(cx),
            KindProj::Right(future) => future.poll(cx),
        }
    }
}

impl<A, B> fmt::Debug for EitherResponseFuture<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.kind {
            Kind::Left(_) => "Left",
            Kind::Right(_) => "Right",
        };
        f.debug_tuple("EitherResponseFuture")
            .field(&format_args!("{side}(...)"))
            .finish()
    }
}
