//! The future of a [`RedisStore`](super::RedisStore)'s decision.
//!
//! Middleware await it for you; a store used directly answers with it when
//! Redis must decide.
//!
//! # Examples
//!
//! ```
//! use donjon::limit::gcra::Quota;
//! use donjon::limit::keyed::{Answer, Decision, RateStore};
//! use donjon_redis::RedisStore;
//! # use donjon_test::redis::RedisServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), donjon::BoxError> {
//! # let server = RedisServer::start();
//! let store = RedisStore::new(donjon_redis::connect(&server.url()).await?);
//! let Answer::Later(decision) = store.acquire("tenant-9", Quota::per_second(100)?) else {
//!     panic!("without batching, every decision is Redis's");
//! };
//! assert_eq!(decision.await?, Decision::Allowed);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon::limit::keyed::Decision;

use crate::error::StoreError;

/// A decision of a [`RedisStore`](super::RedisStore) that needs Redis: its
/// [`RateStore::acquire`](donjon::limit::keyed::RateStore::acquire) answers
/// [`Answer::Later`](donjon::limit::keyed::Answer::Later) with it.
///
/// It completes within the store's call timeout (plus the time a local
/// fallback takes to decide, which does not wait), with the decision of
/// Redis or, when Redis could not decide, of the store's
/// [`OnFailure`](crate::OnFailure) policy.
///
/// It is `Send` and `Unpin`, and boxes its state: one allocation per round
/// trip to Redis, next to the several a round trip costs anyway (redis-rs
/// boxes each command's future, and the key's name is an owned string).
///
/// # Cancellation
///
/// Dropping it stops waiting for Redis; a request that reached Redis may
/// still be counted there against the key's limit.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct AcquireFuture {
    inner: Pin<Box<dyn Future<Output = Result<Decision, StoreError>> + Send>>,
}

impl AcquireFuture {
    pub(super) fn new<F>(future: F) -> Self
    where
        F: Future<Output = Result<Decision, StoreError>> + Send + 'static,
    {
        AcquireFuture {
            inner: Box::pin(future),
        }
    }
}

impl Future for AcquireFuture {
    type Output = Result<Decision, StoreError>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl fmt::Debug for AcquireFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireFuture").finish_non_exhaustive()
    }
}
