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

/// A service driven to readiness elsewhere (in a spawned task), to be
/// handed back once ready.
pub(crate) type Driver<S> = Pin<Box<dyn Future<Output = Result<S, BoxError>> + Send + Sync>>;

/// Moves a service that is not ready somewhere it is driven to readiness
/// without being polled from here.
pub(crate) type Spawner<S> = fn(S) -> Driver<S>;

/// Where a pending service is.
enum Stage<S> {
    /// Here, polled when the cache is.
    Here(S),
    /// Away, driven by a spawned task.
    Away(Driver<S>),
}

/// How a pending service ended.
pub(super) enum Outcome<K, S> {
    Ready(K, S, CancelRx),
    Cancelled,
    Failed(K, BoxError),
}

/// A service being driven to readiness.
pub(super) struct Pending<K, S, Req> {
    parts: Option<(K, Stage<S>, CancelRx)>,
    spawner: Option<Spawner<S>>,
    _request: PhantomData<fn(Req)>,
}

// The service is polled through `&mut` only, never pinned.
impl<K, S, Req> Unpin for Pending<K, S, Req> {}

impl<K, S, Req> Pending<K, S, Req> {
    pub(super) fn new(key: K, service: S, cancel: CancelRx, spawner: Option<Spawner<S>>) -> Self {
        Pending {
            parts: Some((key, Stage::Here(service), cancel)),
            spawner,
            _request: PhantomData,
        }
    }

    #[cfg(feature = "balance")]
    pub(super) fn set_spawner(&mut self, spawner: Spawner<S>) {
        self.spawner = Some(spawner);
    }
}

impl<K, S, Req> Future for Pending<K, S, Req>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Output = Outcome<K, S>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let (_, _, cancel) = this.parts.as_mut().expect("polled after completion");
        // Cancellation is checked first, so a cancelled service's readiness
        // (and its error) is never looked at.
        if cancel.is_cancelled(cx) {
            this.parts = None;
            return Poll::Ready(Outcome::Cancelled);
        }
        loop {
            let (_, stage, _) = this.parts.as_mut().expect("parts are present");
            let readiness = match stage {
                Stage::Here(service) => match service.poll_ready(cx) {
                    Poll::Ready(result) => result.map_err(Into::into),
                    Poll::Pending => {
                        let Some(spawn) = this.spawner else {
                            return Poll::Pending;
                        };
                        let Some((key, Stage::Here(service), cancel)) = this.parts.take() else {
                            unreachable!("the service was just polled here")
                        };
                        this.parts = Some((key, Stage::Away(spawn(service)), cancel));
                        continue;
                    }
                },
                Stage::Away(driver) => match driver.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(service)) => {
                        *stage = Stage::Here(service);
                        Ok(())
                    }
                    Poll::Ready(Err(error)) => Err(error),
                },
            };
            let (key, stage, cancel) = this.parts.take().expect("parts are present");
            return Poll::Ready(match (readiness, stage) {
                (Ok(()), Stage::Here(service)) => Outcome::Ready(key, service, cancel),
                (Ok(()), Stage::Away(_)) => unreachable!("a ready service is here"),
                (Err(error), _) => Outcome::Failed(key, error),
            });
        }
    }
}

impl<K: fmt::Debug, S: fmt::Debug, Req> fmt::Debug for Pending<K, S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parts {
            Some((key, Stage::Here(service), _)) => f
                .debug_struct("Pending")
                .field("key", key)
                .field("service", service)
                .finish(),
            Some((key, Stage::Away(_), _)) => f
                .debug_struct("Pending")
                .field("key", key)
                .field(
                    "service",
                    &format_args!("(being driven to readiness in a task)"),
                )
                .finish(),
            None => f.write_str("Pending(done)"),
        }
    }
}
