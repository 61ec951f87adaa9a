use std::convert::Infallible;
use std::fmt;
use std::future::{Future, ready};
use std::marker::PhantomData;
use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::SharedFuture;
use crate::sealed::Sealed;

/// Makes services for targets: a `Service<T>` whose responses are
/// `Service<Req>`s.
///
/// Implemented for every such service; it cannot be implemented otherwise.
/// Its methods name the two roles apart, and
/// [`into_service`](MakeService::into_service) /
/// [`as_service`](MakeService::as_service) turn it back into a plain
/// `Service<T>` for the `ServiceExt` methods.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, MakeService, ServiceExt, service_fn};
///
/// # futures::executor::block_on(async {
/// // Makes a greeter per language.
/// let make_greeter = service_fn(|language: &'static str| async move {
///     let hello = if language == "fr" { "bonjour" } else { "hello" };
///     Ok::<_, BoxError>(service_fn(move |name: String| async move {
///         Ok::<_, BoxError>(format!("{hello} {name}"))
///     }))
/// });
///
/// let greeter = MakeService::<&str, String>::into_service(make_greeter).oneshot("fr").await?;
/// assert_eq!(greeter.oneshot("Ada".to_string()).await?, "bonjour Ada");
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub trait MakeService<T, Req>: Sealed<(T, Req)> {
    /// The response of the services made.
    type Response;

    /// The error of the services made.
    type Error;

    /// The services made.
    type Service: Service<Req, Response = Self::Response, Error = Self::Error>;

    /// The error of a failure to make a service.
    type MakeError;

    /// The future of a service.
    type Future: Future<Output = Result<Self::Service, Self::MakeError>>;

    /// Reports whether a service can be made now; see
    /// [`Service::poll_ready`].
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::MakeError>>;

    /// Makes the service for `target`.
    fn make_service(&mut self, target: T) -> Self::Future;

    /// Turns this into a `Service<T>`, consuming it.
    fn into_service(self) -> IntoService<Self, Req>
    where
        Self: Sized,
    {
        IntoService {
            make: self,
            _request: PhantomData,
        }
    }

    /// Borrows this as a `Service<T>`.
    fn as_service(&mut self) -> AsService<'_, Self, Req>
    where
        Self: Sized,
    {
        AsService {
            make: self,
            _request: PhantomData,
        }
    }
}

impl<M, S, T, Req> Sealed<(T, Req)> for M
where
    M: Service<T, Response = S>,
    S: Service<Req>,
{
}

impl<M, S, T, Req> MakeService<T, Req> for M
where
    M: Service<T, Response = S>,
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Service = S;
    type MakeError = M::Error;
    type Future = M::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::MakeError>> {
        Service::poll_ready(self, cx)
    }

    fn make_service(&mut self, target: T) -> Self::Future {
        Service::call(self, target)
    }
}

/// A [`MakeService`] turned back into a `Service<T>`; see
/// [`MakeService::into_service`].
pub struct IntoService<M, Req> {
    make: M,
    _request: PhantomData<fn(Req)>,
}

impl<M: Clone, Req> Clone for IntoService<M, Req> {
    fn clone(&self) -> Self {
        IntoService {
            make: self.make.clone(),
            _request: PhantomData,
        }
    }
}

impl<M: fmt::Debug, Req> fmt::Debug for IntoService<M, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoService")
            .field("make", &self.make)
            .finish()
    }
}

impl<M, S, T, Req> Service<T> for IntoService<M, Req>
where
    M: Service<T, Response = S>,
    S: Service<Req>,
{
    type Response = M::Response;
    type Error = M::Error;
    type Future = M::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.make.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, target: T) -> Self::Future {
        self.make.call(target)
    }
}

/// A borrowed [`MakeService`] seen as a `Service<T>`; see
/// [`MakeService::as_service`].
pub struct AsService<'a, M, Req> {
    make: &'a mut M,
    _request: PhantomData<fn(Req)>,
}

impl<M: fmt::Debug, Req> fmt::Debug for AsService<'_, M, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsService")
            .field("make", &self.make)
            .finish()
    }
}

impl<M, S, T, Req> Service<T> for AsService<'_, M, Req>
where
    M: Service<T, Response = S>,
    S: Service<Req>,
{
    type Response = M::Response;
    type Error = M::Error;
    type Future = M::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.make.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, target: T) -> Self::Future {
        self.make.call(target)
    }
}

/// A [`MakeService`] that answers every target with a clone of one
/// service.
///
/// Always ready; never fails.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, MakeService, service_fn};
/// use donjon::make::Shared;
///
/// # futures::executor::block_on(async {
/// let mut make = Shared::new(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
/// let _for_first_connection = make.make_service("10.0.0.1:4000").await.unwrap();
/// let _for_second_connection = make.make_service("10.0.0.2:4000").await.unwrap();
/// # });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Shared<S> {
    service: S,
}

impl<S> Shared<S> {
    /// Creates a make-service answering with clones of `service`.
    pub const fn new(service: S) -> Self {
        Shared { service }
    }
}

impl<S: Clone, T> Service<T> for Shared<S> {
    type Response = S;
    type Error = Infallible;
    type Future = SharedFuture<S>;

    #[inline]
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, _target: T) -> Self::Future {
        SharedFuture::new(ready(Ok(self.service.clone())))
    }
}
