#[cfg(feature = "metrics")]
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use pin_project::pin_project;

use super::Balance;
use crate::BoxError;
use crate::discover::Discover;

/// Makes a [`Balance`] per target, from a service that makes a
/// [`Discover`] per target.
///
/// # Examples
///
/// ```
/// use donjon::balance::p2c::MakeBalance;
/// use donjon::discover::ServiceList;
/// use donjon::load::Constant;
/// use donjon::{BoxError, ServiceExt, service_fn};
///
/// # futures::executor::block_on(async {
/// // For each region, discover its endpoints (two fixed ones here).
/// let discover = service_fn(|region: &'static str| async move {
///     let endpoint = move |n: u32| {
///         Constant::new(service_fn(move |()| async move { Ok::<_, BoxError>(format!("{region}-{n}")) }), 0)
///     };
///     Ok::<_, BoxError>(ServiceList::new(vec![endpoint(1), endpoint(2)]))
/// });
/// let make = MakeBalance::new(discover);
/// let balance = make.oneshot("eu").await?;
/// assert!(balance.oneshot(()).await?.starts_with("eu-"));
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub struct MakeBalance<S, Req> {
    inner: S,
    /// The `name` label of the metrics of the balancers it makes.
    #[cfg(feature = "metrics")]
    name: Cow<'static, str>,
    _request: PhantomData<fn(Req)>,
}

impl<S, Req> MakeBalance<S, Req> {
    /// Wraps `make_discover`, a service making a discovery per target.
    pub const fn new(make_discover: S) -> Self {
        MakeBalance {
            inner: make_discover,
            #[cfg(feature = "metrics")]
            name: Cow::Borrowed(super::service::DEFAULT_NAME),
            _request: PhantomData,
        }
    }

    /// Names the balancers it makes in their metrics (the `name` label;
    /// see [`Balance`'s metrics](Balance#metrics)): `"balance"` unless set.
    /// They add up under the one name; each takes its handles from the
    /// recorder installed when it is made.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S: Clone, Req> Clone for MakeBalance<S, Req> {
    fn clone(&self) -> Self {
        MakeBalance {
            inner: self.inner.clone(),
            #[cfg(feature = "metrics")]
            name: self.name.clone(),
            _request: PhantomData,
        }
    }
}

impl<S: fmt::Debug, Req> fmt::Debug for MakeBalance<S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MakeBalance")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S, T, Req> Service<T> for MakeBalance<S, Req>
where
    S: Service<T>,
    S::Response: Discover,
    <S::Response as Discover>::Key: Hash,
    <S::Response as Discover>::Service: Service<Req>,
    <<S::Response as Discover>::Service as Service<Req>>::Error: Into<BoxError>,
{
    type Response = Balance<S::Response, Req>;
    type Error = S::Error;
    type Future = MakeFuture<S::Future, Req>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, target: T) -> Self::Future {
        MakeFuture {
            inner: self.inner.call(target),
            #[cfg(feature = "metrics")]
            name: self.name.clone(),
            _request: PhantomData,
        }
    }
}

/// The future of [`MakeBalance`]: the discovery, made into a [`Balance`].
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct MakeFuture<F, Req> {
    #[pin]
    inner: F,
    /// The `name` label of the balancer's metrics.
    #[cfg(feature = "metrics")]
    name: Cow<'static, str>,
    _request: PhantomData<fn(Req)>,
}

impl<F: fmt::Debug, Req> fmt::Debug for MakeFuture<F, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MakeFuture")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<F, D, E, Req> Future for MakeFuture<F, Req>
where
    F: Future<Output = Result<D, E>>,
    D: Discover,
    D::Key: Hash,
    D::Service: Service<Req>,
    <D::Service as Service<Req>>::Error: Into<BoxError>,
{
    type Output = Result<Balance<D, Req>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let discover = ready!(this.inner.poll(cx))?;
        #[cfg(feature = "metrics")]
        let balance = Balance::named(discover, std::mem::take(this.name));
        #[cfg(not(feature = "metrics"))]
        let balance = Balance::new(discover);
        Poll::Ready(Ok(balance))
    }
}
