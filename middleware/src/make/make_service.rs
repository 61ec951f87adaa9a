use std::convert::Infallible;
use std::fmt;
use std::future::{Future, ready};
use std::marker::PhantomData;
use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::SharedFuture;
use crate::sealed::Sealed;

/// Makes services for targets: a `Service<Target>` whose responses are
/// `Service<Request>`s.
///
/// Implemented for every such service; it cannot be implemented otherwise.
/// Its methods name the two roles apart, and
/// [`into_service`](MakeService::into_service) /
/// [`as_service`](MakeService::as_service) turn it back into a plain
/// `Service<Target>` for the `ServiceExt` methods.
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
pub trait MakeService<Target, Request>: Sealed<(Target, Request)> {
    /// The response of the services made.
    type Response;

    /// The error of the services made.
    type Error;

    /// The services made.
    type Service: Service<Request, Response = Self::Response, Error = Self::Error>;

    /// The error of a failure to make a service.
    type MakeError;

    /// The future of a service.
    type Future: Future<Output = Result<Self::Service, Self::MakeError>>;

    /// Reports whether a service can be made now; see
    /// [`Service::poll_ready`].
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::MakeError>>;

    /// Makes the service for `target`.
    fn make_service(&mut self, target: Target) -> Self::Future;

    /// Turns this into a `Service<Target>`, consuming it.
    fn into_service(self) -> IntoService<Self, Request>
    where
        Self: Sized,
    {
        IntoService {
            make: self,
            _request: PhantomData,
        }
    }

    /// Borrows this as a `Service<Target>`.
    fn as_service(&mut self) -> AsService<'_, Self, Request>
    where
        Self: Sized,
    {
        AsService {
            make: self,
            _request: PhantomData,
        }
    }
}

impl<M, S, Target, Request> Sealed<(Target, Request)> for M
where
    M: Service<Target, Response = S>,
    S: Service<Request>,
{
}

impl<M, S, Target, Request> MakeService<Target, Request> for M
where
    M: Service<Target, Response = S>,
    S: Service<Request>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Service = S;
    type MakeError = M::Error;
    type Future = M::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::MakeError>> {
        Service::poll_ready(self, cx)
    }

    fn make_service(&mut self, target: Target) -> Self::Future {
        Service::call(self, target)
    }
}

/// A [`MakeService`] turned back into a `Service<Target>`; see
/// [`MakeService::into_service`].
pub struct IntoService<M, Request> {
    make: M,
    _request: PhantomData<fn(Request)>,
}

impl<M: Clone, Request> Clone for IntoService<M, Request> {
    fn clone(&self) -> Self {
        IntoService {
            make: self.make.clone(),
            _request: PhantomData,
        }
    }
}

impl<M: fmt::Debug, Request> fmt::Debug for IntoService<M, Request> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoService")
            .field("make", &self.make)
            .finish()
    }
}

impl<M, S, Target, Request> Service<Target> for IntoService<M, Request>
where
    M: Service<Target, Response = S>,
    S: Service<Request>,
{
    type Response = M::Response;
    type Error = M::Error;
    type Future = M::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.make.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, target: Target) -> Self::Future {
        self.make.call(target)
    }
}

/// A borrowed [`MakeService`] seen as a `Service<Target>`; see
/// [`MakeService::as_service`].
pub struct AsService<'a, M, Request> {
    make: &'a mut M,
    _request: PhantomData<fn(Request)>,
}

impl<M: fmt::Debug, Request> fmt::Debug for AsService<'_, M, Request> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsService")
            .field("make", &self.make)
            .finish()
    }
}

impl<M, S, Target, Request> Service<Target> for AsService<'_, M, Request>
where
    M: Service<Target, Response = S>,
    S: Service<Request>,
{
    type Response = M::Response;
    type Error = M::Error;
    type Future = M::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.make.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, target: Target) -> Self::Future {
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
