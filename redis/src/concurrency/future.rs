//! The response future of [`GlobalConcurrencyLimit`](super::GlobalConcurrencyLimit),
//! which holds the request's lease.
//!
//! # Examples
//!
//! ```
//! use std::future::pending;
//! use std::time::Duration;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon_redis::{GlobalConcurrencyLimit, RedisSemaphore};
//! # use donjon_test::redis::RedisServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! # let server = RedisServer::start();
//! let connection = donjon_redis::connect(&server.url()).await?;
//! let semaphore = RedisSemaphore::builder(connection, "slow-jobs", 4).build()?;
//! let jobs = service_fn(|()| pending::<Result<(), BoxError>>());
//! let mut service = GlobalConcurrencyLimit::new(jobs, semaphore.clone());
//!
//! let response = service.ready().await?.call(());
//! assert_eq!(semaphore.held().await?, 1);
//! // Dropped, it gives its lease back at once.
//! drop(response);
//! while semaphore.held().await? > 0 {
//!     tokio::time::sleep(Duration::from_millis(5)).await;
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon::BoxError;
use pin_project::pin_project;

use super::lease::{Permit, Renewal};
use crate::error::StoreError;

/// The response future of
/// [`GlobalConcurrencyLimit`](super::GlobalConcurrencyLimit): the inner
/// service's response, with the request's lease renewed while it is
/// pending and given back once it is ready; or the
/// [`StoreError`] of a Redis that failed, under
/// [`OnFailure::FailClosed`](crate::OnFailure::FailClosed).
///
/// The renewals start at the first poll that finds the response pending,
/// so a response ready at once costs no timer. Each renewal is a round trip
/// bounded by the call timeout, and boxes its future (one allocation per
/// third of a lease time).
///
/// # Cancellation
///
/// Dropping it gives the lease back at once, from a task spawned on the
/// current tokio runtime (see
/// [`GlobalConcurrencyLimit`](super::GlobalConcurrencyLimit)'s
/// `# Cancellation` for when the lease expires instead). So does its
/// completion: the response is returned without waiting for Redis.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F> {
    #[pin]
    state: State<F>,
}

#[pin_project(project = StateProj)]
enum State<F> {
    Called {
        #[pin]
        future: F,
        /// Given back (dropped) once the response is ready.
        permit: Option<Permit>,
        renewal: Renewal,
    },
    Failed {
        error: Option<StoreError>,
    },
}

impl<F> ResponseFuture<F> {
    pub(super) fn called(future: F, permit: Permit) -> Self {
        let renewal = if permit.is_lease() {
            Renewal::Idle
        } else {
            Renewal::Stopped
        };
        ResponseFuture {
            state: State::Called {
                future,
                permit: Some(permit),
                renewal,
            },
        }
    }

    pub(super) fn failed(error: StoreError) -> Self {
        ResponseFuture {
            state: State::Failed { error: Some(error) },
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called {
                future,
                permit,
                renewal,
            } => {
                if let Poll::Ready(output) = future.poll(cx) {
                    *renewal = Renewal::Stopped;
                    // Gives the lease back.
                    drop(permit.take());
                    return Poll::Ready(output.map_err(Into::into));
                }
                if let Some(permit) = permit
                    && !renewal.is_stopped()
                {
                    renewal.poll(permit, cx);
                }
                Poll::Pending
            }
            StateProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .expect("a GlobalConcurrencyLimit response future was polled after it completed")
                .into())),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Called {
                permit, renewal, ..
            } => f
                .debug_struct("ResponseFuture")
                .field("permit", permit)
                .field("renewal", renewal)
                .finish_non_exhaustive(),
            State::Failed { error } => f
                .debug_struct("ResponseFuture")
                .field("error", error)
                .finish(),
        }
    }
}
