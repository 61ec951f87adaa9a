//! The response future of [`Ejectable`](super::Ejectable).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project::pin_project;

use super::{Detector, EndpointId};
use crate::classify::Classify;

/// The response future of [`Ejectable`](super::Ejectable): the inner
/// service's, whose result is classified and reported to the detector when
/// it finishes, then returned unchanged.
///
/// Dropped before it finishes, it reports nothing.
#[pin_project]
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture<F, C> {
    #[pin]
    inner: F,
    /// Where to report, until reported.
    report: Option<(Detector<C>, EndpointId)>,
}

impl<F, C> ResponseFuture<F, C> {
    pub(super) fn new(inner: F, detector: Detector<C>, id: EndpointId) -> Self {
        ResponseFuture {
            inner,
            report: Some((detector, id)),
        }
    }
}

impl<F, C, Res, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Res, E>>,
    C: Classify<Res, E>,
{
    type Output = Result<Res, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some((detector, id)) = this.report.take() {
            detector.report(id, &result);
        }
        Poll::Ready(result)
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("endpoint", &self.report.as_ref().map(|(_, id)| *id))
            .finish_non_exhaustive()
    }
}
