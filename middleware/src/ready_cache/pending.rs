//! A service being driven to readiness, and the signal that cancels it.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use donjon_service::Service;
use futures_util::task::AtomicWaker;

use crate::BoxError;

/// The signal shared by a pending service's future and the cache.
#[derive(Debug, Default)]
struct Signal {
    cancelled: AtomicBool,
    waker: AtomicWaker,
}

/// The cache's end: cancels the pending service.
#[derive(Debug)]
pub(super) struct CancelTx(Arc<Signal>);

/// The future's end: tells whether it was cancelled.
#[derive(Debug)]
pub(super) struct CancelRx(Arc<Signal>);

pub(super) fn cancel_pair() -> (CancelTx, CancelRx) {
    let signal = Arc::new(Signal::default());
    (CancelTx(Arc::clone(&signal)), CancelRx(signal))
}

impl CancelTx {
    /// Cancels the pending service, waking whoever polls it so that it is
    /// dropped.
    pub(super) fn cancel(self) {
        self.0.cancelled.store(true, Ordering::Release);
        self.0.waker.wake();
    }
}

impl CancelRx {
    fn is_cancelled(&self, cx: &mut Context<'_>) -> bool {
        if self.0.cancelled.load(Ordering::Acquire) {
            return true;
        }
        self.0.waker.register(cx.waker());
        self.0.cancelled.load(Ordering::Acquire)
    }
}

/// How a pending service ended.
pub(super) enum Outcome<K, S> {
    Ready(K, S, CancelRx),
    Cancelled,
    Failed(K, BoxError),
}

/// A service being driven to readiness.
pub(super) struct Pending<K, S, Req> {
    parts: Option<(K, S, CancelRx)>,
    _request: PhantomData<fn(Req)>,
}

// The service is polled through `&mut` only, never pinned.
impl<K, S, Req> Unpin for Pending<K, S, Req> {}

impl<K, S, Req> Pending<K, S, Req> {
    pub(super) fn new(key: K, service: S, cancel: CancelRx) -> Self {
        Pending {
            parts: Some((key, service, cancel)),
            _request: PhantomData,
        }
    }
}

impl<K, S, Req> Future for Pending<K, S, Req>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Output = Outcome<K, S>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (_, service, cancel) = self.parts.as_mut().expect("polled after completion");
        // Cancellation is checked first, so a cancelled service's readiness
        // (and its error) is never looked at.
        if cancel.is_cancelled(cx) {
            self.parts = None;
            return Poll::Ready(Outcome::Cancelled);
        }
        let readiness = service.poll_ready(cx);
        match readiness {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                let (key, service, cancel) = self.parts.take().expect("parts are present");
                Poll::Ready(match result {
                    Ok(()) => Outcome::Ready(key, service, cancel),
                    Err(error) => Outcome::Failed(key, error.into()),
                })
            }
        }
    }
}

impl<K: fmt::Debug, S: fmt::Debug, Req> fmt::Debug for Pending<K, S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parts {
            Some((key, service, _)) => f
                .debug_struct("Pending")
                .field("key", key)
                .field("service", service)
                .finish(),
            None => f.write_str("Pending(done)"),
        }
    }
}
