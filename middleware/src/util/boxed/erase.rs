//! The private machinery behind the boxed services: an adapter that boxes
//! each response future, and the object-safe traits that let a boxed
//! service be cloned.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_service::Service;

/// A boxed response future that can cross threads.
pub(super) type SendFuture<Res, E> = Pin<Box<dyn Future<Output = Result<Res, E>> + Send>>;

/// A boxed response future that stays on its thread.
pub(super) type LocalFuture<Res, E> = Pin<Box<dyn Future<Output = Result<Res, E>>>>;

/// Forwards to `S`, boxing each response future as a [`SendFuture`].
#[derive(Clone)]
pub(super) struct BoxingSend<S>(pub(super) S);

impl<S, Req> Service<Req> for BoxingSend<S>
where
    S: Service<Req>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = SendFuture<S::Response, S::Error>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        Box::pin(self.0.call(request))
    }
}

/// Forwards to `S`, boxing each response future as a [`LocalFuture`].
pub(super) struct BoxingLocal<S>(pub(super) S);

impl<S, Req> Service<Req> for BoxingLocal<S>
where
    S: Service<Req>,
    S::Future: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = LocalFuture<S::Response, S::Error>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        Box::pin(self.0.call(request))
    }
}

/// A service with boxed futures that can clone itself into a new box.
pub(super) trait CloneService<Req, Res, E>:
    Service<Req, Response = Res, Error = E, Future = SendFuture<Res, E>>
{
    fn clone_box(&self) -> Box<dyn CloneService<Req, Res, E> + Send>;
}

impl<S, Req, Res, E> CloneService<Req, Res, E> for S
where
    S: Service<Req, Response = Res, Error = E, Future = SendFuture<Res, E>>
        + Clone
        + Send
        + 'static,
{
    fn clone_box(&self) -> Box<dyn CloneService<Req, Res, E> + Send> {
        Box::new(self.clone())
    }
}

/// A [`CloneService`] that is `Sync` as well.
pub(super) trait CloneSyncService<Req, Res, E>:
    Service<Req, Response = Res, Error = E, Future = SendFuture<Res, E>>
{
    fn clone_box(&self) -> Box<dyn CloneSyncService<Req, Res, E> + Send + Sync>;
}

impl<S, Req, Res, E> CloneSyncService<Req, Res, E> for S
where
    S: Service<Req, Response = Res, Error = E, Future = SendFuture<Res, E>>
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn clone_box(&self) -> Box<dyn CloneSyncService<Req, Res, E> + Send + Sync> {
        Box::new(self.clone())
    }
}
