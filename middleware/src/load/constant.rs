#[cfg(feature = "discover")]
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_service::Service;
#[cfg(feature = "discover")]
use futures_core::Stream;
use pin_project::pin_project;

use super::Load;
#[cfg(feature = "discover")]
use crate::discover::{Change, Discover};

/// Gives a service a fixed [`Load`].
///
/// Also wraps a [`Discover`](crate::discover::Discover), giving every
/// service it discovers the same load.
///
/// # Examples
///
/// ```
/// use donjon::load::{Constant, Load};
///
/// let service = Constant::new(donjon::service_fn(|()| async { Ok::<_, ()>(()) }), 3);
/// assert_eq!(service.load(), 3);
/// ```
#[pin_project]
#[derive(Debug)]
pub struct Constant<S, M> {
    #[pin]
    inner: S,
    load: M,
}

impl<S, M: Copy> Constant<S, M> {
    /// Wraps `inner`, reporting `load` as its load.
    pub const fn new(inner: S, load: M) -> Self {
        Constant { inner, load }
    }
}

impl<S, M: Copy + PartialOrd> Load for Constant<S, M> {
    type Metric = M;

    fn load(&self) -> M {
        self.load
    }
}

impl<S, M, Req> Service<Req> for Constant<S, M>
where
    S: Service<Req>,
    M: Copy,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> S::Future {
        self.inner.call(request)
    }
}

#[cfg(feature = "discover")]
impl<D, M> Stream for Constant<D, M>
where
    D: Discover + Unpin,
    M: Copy,
{
    type Item = Result<Change<D::Key, Constant<D::Service, M>>, D::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let load = *this.load;
        this.inner.poll_discover(cx).map(|change| {
            change.map(|change| change.map(|change| change.map_service(|s| Constant::new(s, load))))
        })
    }
}
