use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tokio::time::Sleep;
use tracing::{debug, trace, warn};

use super::ResponseFuture;
use super::error::Exhausted;
use crate::BoxError;
use crate::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};

/// Connects with a make-service, forwards requests to the connection, and
/// reconnects when the connection fails.
///
/// - With no connection, `poll_ready` waits for the make-service to be
///   ready and starts connecting to the target (a clone of it).
/// - While connecting, `poll_ready` is `Pending`. If the attempt fails,
///   `poll_ready` returns `Ready(Ok(()))` anyway and the **next call**
///   fails with the connection error; the `poll_ready` after that tries
///   again.
/// - Connected, `poll_ready` forwards to the connection. If the
///   connection's readiness fails, it is dropped and a new connection is
///   started at once; that error is only logged (at `debug` level).
///
/// By default a failed attempt is followed by the next one as soon as
/// `poll_ready` is called again, with no limit. Two settings change that
/// (tower #60, #244):
///
/// - [`with_backoff`](Reconnect::with_backoff) spaces the attempts that
///   follow a failed one by the delays of an
///   [`ExponentialBackoff`](crate::retry::backoff::ExponentialBackoff):
///   `poll_ready` is `Pending` for the delay, then connects. A connection
///   that succeeds starts the delays over; the first attempt after a lost
///   connection is made at once.
/// - [`with_max_attempts`](Reconnect::with_max_attempts) gives up after that
///   many failed attempts in a row: the call after the last one fails with
///   its error, as always, and from then on `poll_ready` fails with
///   [`Exhausted`](super::error::Exhausted).
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: a failed connection attempt
/// (through the next response future), the make-service's readiness error
/// (from `poll_ready`), [`Exhausted`](super::error::Exhausted) once the
/// attempts allowed are spent (from `poll_ready`), and the connection's
/// response errors.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning
/// `Ready(Ok(()))`.
pub struct Reconnect<M, T>
where
    M: Service<T>,
{
    mk_service: M,
    state: State<M::Future, M::Response>,
    target: T,
    /// A failed connection attempt, reported by the next call.
    error: Option<M::Error>,
    /// Failed connection attempts since the last connection.
    failures: u32,
    /// The attempts allowed in a row, if bounded.
    max_attempts: Option<u32>,
    /// The delays between attempts, if set, and the current sequence.
    backoff: Option<(ExponentialBackoffMaker, ExponentialBackoff)>,
}

enum State<F, S> {
    /// Connects at the next `poll_ready`.
    Idle,
    /// Waits before the next attempt.
    Waiting(Pin<Box<Sleep>>),
    Connecting(F),
    Connected(S),
    /// No attempt is left.
    Exhausted,
}

impl<M, T> Reconnect<M, T>
where
    M: Service<T>,
{
    /// Creates a service that connects to `target` with `mk_service` on its
    /// first `poll_ready`.
    pub const fn new(mk_service: M, target: T) -> Self {
        Reconnect {
            mk_service,
            state: State::Idle,
            target,
            error: None,
            failures: 0,
            max_attempts: None,
            backoff: None,
        }
    }

    /// Creates a service that starts with the connection `init_conn`, and
    /// reconnects to `target` with `mk_service` when it fails.
    pub const fn with_connection(init_conn: M::Response, mk_service: M, target: T) -> Self {
        Reconnect {
            mk_service,
            state: State::Connected(init_conn),
            target,
            error: None,
            failures: 0,
            max_attempts: None,
            backoff: None,
        }
    }

    /// Waits before each attempt that follows a failed one, for the delays
    /// of the backoffs `backoff` makes (a fresh one after each
    /// connection).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use donjon::{BoxError, service_fn};
    /// use donjon::reconnect::Reconnect;
    /// use donjon::retry::backoff::ExponentialBackoffMaker;
    /// use donjon::util::rng::HasherRng;
    ///
    /// let connect = service_fn(|target: &'static str| Box::pin(async move {
    ///     Ok::<_, BoxError>(service_fn(move |text: String| async move {
    ///         Ok::<_, BoxError>(format!("{target} got {text}"))
    ///     }))
    /// }));
    /// // 100 ms after a failed attempt, then 200 ms, 400 ms... up to 10 s,
    /// // each with up to half as much again at random; at most 8 in a row.
    /// let backoff = ExponentialBackoffMaker::new(
    ///     Duration::from_millis(100),
    ///     Duration::from_secs(10),
    ///     0.5,
    ///     HasherRng::default(),
    /// )?;
    /// let service = Reconnect::new(connect, "db:5432")
    ///     .with_backoff(backoff)
    ///     .with_max_attempts(8);
    /// # let _ = service;
    /// # Ok::<(), BoxError>(())
    /// ```
    pub fn with_backoff(mut self, mut backoff: ExponentialBackoffMaker) -> Self {
        let current = backoff.make_backoff();
        self.backoff = Some((backoff, current));
        self
    }

    /// Gives up after `attempts` failed connection attempts in a row:
    /// `poll_ready` then fails with [`Exhausted`] for good.
    ///
    /// # Panics
    ///
    /// If `attempts` is 0.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        assert!(
            attempts > 0,
            "Reconnect::with_max_attempts needs at least one attempt"
        );
        self.max_attempts = Some(attempts);
        self
    }

    /// Where to go after a failed attempt: on to the next, at once or after
    /// the backoff's delay, or nowhere once the attempts are spent.
    fn after_failure(&mut self) -> State<M::Future, M::Response> {
        self.failures = self.failures.saturating_add(1);
        if self.max_attempts.is_some_and(|max| self.failures >= max) {
            return State::Exhausted;
        }
        match &mut self.backoff {
            Some((_, current)) => State::Waiting(Box::pin(current.next_backoff())),
            None => State::Idle,
        }
    }

    /// A connection was made: the failures and the delays start over.
    fn connected(&mut self) {
        self.failures = 0;
        if let Some((maker, current)) = &mut self.backoff {
            *current = maker.make_backoff();
        }
    }
}

impl<M, T, S, Req> Service<Req> for Reconnect<M, T>
where
    M: Service<T, Response = S>,
    S: Service<Req>,
    M::Future: Unpin,
    BoxError: From<M::Error> + From<S::Error>,
    T: Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, M::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        loop {
            match &mut self.state {
                State::Waiting(delay) => {
                    ready!(delay.as_mut().poll(cx));
                    self.state = State::Idle;
                }
                State::Exhausted => {
                    return Poll::Ready(Err(Exhausted::new(self.failures).into()));
                }
                State::Idle => {
                    ready!(self.mk_service.poll_ready(cx))?;
                    trace!("reconnect: connecting");
                    let connecting = self.mk_service.call(self.target.clone());
                    self.state = State::Connecting(connecting);
                }
                State::Connecting(connecting) => match ready!(Pin::new(connecting).poll(cx)) {
                    Ok(connection) => {
                        debug!(failures = self.failures, "reconnect: connected");
                        self.connected();
                        self.state = State::Connected(connection);
                    }
                    Err(error) => {
                        self.state = self.after_failure();
                        if matches!(self.state, State::Exhausted) {
                            warn!(
                                failures = self.failures,
                                "reconnect: connection attempt failed; giving up"
                            );
                        } else {
                            debug!(
                                failures = self.failures,
                                backoff = self.backoff.is_some(),
                                "reconnect: connection attempt failed"
                            );
                        }
                        self.error = Some(error);
                        // The next call reports the failure.
                        return Poll::Ready(Ok(()));
                    }
                },
                State::Connected(connection) => match connection.poll_ready(cx) {
                    Poll::Ready(Ok(())) => return Poll::Ready(Ok(())),
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(error)) => {
                        let error = BoxError::from(error);
                        debug!(%error, "reconnect: connection failed; reconnecting");
                        self.state = State::Idle;
                    }
                },
            }
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        if let Some(error) = self.error.take() {
            return ResponseFuture::failed(error);
        }
        match &mut self.state {
            State::Connected(connection) => ResponseFuture::new(connection.call(request)),
            _ => panic!("service not ready; poll_ready must be called first"),
        }
    }
}

impl<M, T> fmt::Debug for Reconnect<M, T>
where
    M: Service<T> + fmt::Debug,
    M::Future: fmt::Debug,
    M::Response: fmt::Debug,
    T: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconnect")
            .field("mk_service", &self.mk_service)
            .field("state", &self.state)
            .field("target", &self.target)
            .finish()
    }
}

impl<F: fmt::Debug, S: fmt::Debug> fmt::Debug for State<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Idle => f.write_str("Idle"),
            State::Waiting(_) => f.write_str("Waiting"),
            State::Exhausted => f.write_str("Exhausted"),
            State::Connecting(future) => f.debug_tuple("Connecting").field(future).finish(),
            State::Connected(connection) => f.debug_tuple("Connected").field(connection).finish(),
        }
    }
}
