//! [`Overloaded`], the error of a request refused at once, and
//! [`ResponseFuture`], the future that answers with it or with the inner
//! response: shared by `load_shed`, the refusing concurrency limit and
//! `priority`, so that one check recognises all three.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project::pin_project;

use crate::BoxError;

/// The error of a request refused at once because the service had no room
/// for it.
///
/// [`LoadShed`](crate::load_shed::LoadShed) returns it for a request the
/// service was not ready for, and
/// [`TryConcurrencyLimit`](crate::limit::TryConcurrencyLimit) for a request
/// over its limit, `PriorityShed` for a request whose class has filled
/// its share, and a concurrency limit or a buffer whose
/// [`QueueDiscipline`](crate::limit::QueueDiscipline) refused a caller
/// that waited too long, each boxed in a
/// [`BoxError`](crate::BoxError): recognise it
/// with `error.is::<Overloaded>()`. It is one type under every path,
/// `load_shed::error::Overloaded`, `limit::try_concurrency::error::Overloaded`
/// and `priority::error::Overloaded`.
#[derive(Default)]
pub struct Overloaded(());

impl Overloaded {
    /// Creates the error.
    pub const fn new() -> Self {
        Overloaded(())
    }
}

impl fmt::Debug for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Overloaded")
    }
}

impl fmt::Display for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("service overloaded")
    }
}

impl std::error::Error for Overloaded {}

/// The response future of a middleware that refuses requests at once: the
/// inner response (its error boxed), or [`Overloaded`] at once for a request
/// refused.
///
/// It is one type under every path, `load_shed::future::ResponseFuture`
/// (`LoadShed`'s, over the inner future),
/// `limit::try_concurrency::future::ResponseFuture` (`TryConcurrencyLimit`'s,
/// over a `ConcurrencyLimit`'s future, which holds the permit until the
/// response is ready) and `priority::future::ResponseFuture`
/// (`PriorityShed`'s, over a future holding the request's slot).
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[cfg_attr(
    not(any(feature = "limit", feature = "load-shed", feature = "priority")),
    allow(unreachable_pub, reason = "the buffer uses only the error")
)]
pub struct ResponseFuture<F> {
    /// `None` for a refused request.
    #[pin]
    called: Option<F>,
}

#[cfg_attr(
    not(any(feature = "limit", feature = "load-shed", feature = "priority")),
    allow(dead_code, reason = "the buffer uses only the error")
)]
impl<F> ResponseFuture<F> {
    /// The future of a request that reached the inner service.
    pub(crate) fn called(future: F) -> Self {
        ResponseFuture {
            called: Some(future),
        }
    }

    /// The future of a request refused at once.
    pub(crate) fn overloaded() -> Self {
        ResponseFuture { called: None }
    }
}

impl<F, Res, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().called.as_pin_mut() {
            Some(future) => future.poll(cx).map_err(Into::into),
            None => Poll::Ready(Err(Overloaded::new().into())),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}
