use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use donjon::{BoxError, Service};
use tokio::time::{Instant, Sleep, sleep_until};

use super::future::ResponseFuture;
use super::lease::Permit;
use super::semaphore::{Acquired, RedisSemaphore};
use crate::error::StoreError;

type AcquireFuture = Pin<Box<dyn Future<Output = Acquired> + Send>>;

/// A concurrency limit shared by a fleet: at most `max` requests in flight
/// across every process whose limiters use the same [`RedisSemaphore`].
///
/// Each request holds a lease of the semaphore, from `poll_ready` until its
/// response is ready. While the request is in flight, its response future
/// renews the lease every third of the lease time, so that a request may
/// last longer than a lease; a process that dies stops renewing, and its
/// leases expire. Use it to protect a resource the whole fleet shares (a
/// database, a partner's API) from more concurrent requests than it takes.
///
/// # Backpressure
///
/// `poll_ready` takes a lease (a round trip to Redis), then polls the inner
/// service. When every permit is held it is `Pending`, and tries again
/// when the earliest lease expires or after the
/// [retry interval](super::RedisSemaphoreBuilder::with_retry_interval),
/// whichever comes first: a permit given back by another process is seen
/// at the next try, not at once. Waiting limiters are not served in order.
///
/// The lease is not renewed between `poll_ready` and `call`: a service
/// kept ready for longer than the lease time (by a buffer, say) may have
/// lost its lease when it is called. The response future renews it at its
/// first poll then, and if it was lost, warns and lets the request go on.
///
/// # Errors
///
/// When Redis is slow or fails, the semaphore's
/// [`OnFailure`](crate::OnFailure) policy applies: the request goes through
/// without a lease (fail open), waits for a permit of an in-process limit
/// of `max / replicas` (local), or fails (fail closed). In the last case
/// `poll_ready` still returns `Ready(Ok(()))`, without polling the inner
/// service, and `call` returns a [`StoreError`] without reaching it: an
/// error from `poll_ready` would tell a balancer that the service itself is
/// broken. The inner service's errors are converted into [`BoxError`].
///
/// # Cancellation
///
/// A response future dropped before it completes gives its lease back at
/// once, as does a service dropped while holding one for its next call,
/// and a `poll_ready` given up while Redis was granting one. Giving back
/// is a command sent from a task spawned on the current tokio runtime (or,
/// outside any, on the one the semaphore was built on), bounded by the
/// call timeout; without a runtime, if that runtime ends before the task
/// runs, or if Redis does not answer, the lease expires at the end of the
/// lease time.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning `Ready(Ok(()))`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
/// use donjon_redis::{GlobalConcurrencyLimit, RedisSemaphore};
/// # use donjon_test::redis::RedisServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// # let server = RedisServer::start();
/// let connection = donjon_redis::connect(&server.url()).await?;
/// // One export at a time, across the fleet.
/// let semaphore = RedisSemaphore::builder(connection, "exports", 1).build()?;
/// let export = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
/// let mut first = GlobalConcurrencyLimit::new(export, semaphore.clone());
/// let mut second = GlobalConcurrencyLimit::new(export, semaphore);
///
/// let response = first.ready().await?.call(1);
/// // The permit is held until the response is ready: the second waits.
/// let wait = tokio::time::timeout(Duration::from_millis(200), second.ready()).await;
/// assert!(wait.is_err());
/// assert_eq!(response.await?, 1);
/// assert_eq!(second.ready().await?.call(2).await?, 2);
/// # Ok(())
/// # }
/// ```
pub struct GlobalConcurrencyLimit<S> {
    inner: S,
    semaphore: RedisSemaphore,
    state: State,
    /// The wait before trying again, kept from one wait to the next.
    sleep: Option<Pin<Box<Sleep>>>,
}

enum State {
    Idle,
    Acquiring(AcquireFuture),
    Waiting,
    Ready(Permit),
    Failed(StoreError),
}

impl<S> GlobalConcurrencyLimit<S> {
    /// Wraps `inner`, each request holding a permit of `semaphore`.
    pub fn new(inner: S, semaphore: RedisSemaphore) -> Self {
        GlobalConcurrencyLimit {
            inner,
            semaphore,
            state: State::Idle,
            sleep: None,
        }
    }

    /// The semaphore the permits are taken from.
    pub fn semaphore(&self) -> &RedisSemaphore {
        &self.semaphore
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service, giving back the permit held for the next
    /// call, if any.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Takes a permit for the next call: `Ready` once one is held, or
    /// Redis failed and the policy is to fail.
    fn poll_permit(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match &mut self.state {
                State::Idle => {
                    let shared = Arc::clone(&self.semaphore.shared);
                    self.state = State::Acquiring(Box::pin(shared.acquire()));
                }
                State::Acquiring(acquiring) => {
                    self.state = match ready!(acquiring.as_mut().poll(cx)) {
                        Acquired::Granted(permit) => State::Ready(permit),
                        Acquired::Failed(error) => State::Failed(error),
                        Acquired::Refused(wait) => {
                            let wait = wait.min(self.semaphore.shared.retry_interval());
                            let until = Instant::now() + wait;
                            match &mut self.sleep {
                                Some(sleep) => sleep.as_mut().reset(until),
                                None => self.sleep = Some(Box::pin(sleep_until(until))),
                            }
                            State::Waiting
                        }
                    };
                }
                State::Waiting => {
                    if let Some(sleep) = &mut self.sleep {
                        ready!(sleep.as_mut().poll(cx));
                    }
                    self.state = State::Idle;
                }
                State::Ready(_) | State::Failed(_) => return Poll::Ready(()),
            }
        }
    }
}

impl<S, Request> Service<Request> for GlobalConcurrencyLimit<S>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        ready!(self.poll_permit(cx));
        match self.state {
            State::Ready(_) => self.inner.poll_ready(cx).map_err(Into::into),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Ready(permit) => ResponseFuture::called(self.inner.call(request), permit),
            State::Failed(error) => ResponseFuture::failed(error),
            state => {
                self.state = state;
                panic!(
                    "GlobalConcurrencyLimit called without a permit; poll_ready must return \
                     Ready(Ok(())) before each call"
                )
            }
        }
    }
}

impl<S: Clone> Clone for GlobalConcurrencyLimit<S> {
    /// A limiter on the same semaphore, holding no permit.
    fn clone(&self) -> Self {
        GlobalConcurrencyLimit::new(self.inner.clone(), self.semaphore.clone())
    }
}

impl<S: fmt::Debug> fmt::Debug for GlobalConcurrencyLimit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle => "idle",
            State::Acquiring(_) => "acquiring",
            State::Waiting => "waiting",
            State::Ready(_) => "holding a permit",
            State::Failed(_) => "redis failed",
        };
        f.debug_struct("GlobalConcurrencyLimit")
            .field("inner", &self.inner)
            .field("semaphore", &self.semaphore)
            .field("state", &state)
            .finish()
    }
}
