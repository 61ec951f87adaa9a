use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tracing::{debug, trace};

use super::ResponseFuture;
use crate::BoxError;

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
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: a failed connection attempt
/// (through the next response future), the make-service's readiness error
/// (from `poll_ready`), and the connection's response errors.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning
/// `Ready(Ok(()))`.
pub struct Reconnect<M, Target>
where
    M: Service<Target>,
{
    mk_service: M,
    state: State<M::Future, M::Response>,
    target: Target,
    /// A failed connection attempt, reported by the next call.
    error: Option<M::Error>,
}

enum State<F, S> {
    Idle,
    Connecting(F),
    Connected(S),
}

impl<M, Target> Reconnect<M, Target>
where
    M: Service<Target>,
{
    /// Creates a service that connects to `target` with `mk_service` on its
    /// first `poll_ready`.
    pub const fn new(mk_service: M, target: Target) -> Self {
        Reconnect {
            mk_service,
            state: State::Idle,
            target,
            error: None,
        }
    }

    /// Creates a service that starts with the connection `init_conn`, and
    /// reconnects to `target` with `mk_service` when it fails.
    pub const fn with_connection(init_conn: M::Response, mk_service: M, target: Target) -> Self {
        Reconnect {
            mk_service,
            state: State::Connected(init_conn),
            target,
            error: None,
        }
    }
}

impl<M, Target, S, Request> Service<Request> for Reconnect<M, Target>
where
    M: Service<Target, Response = S>,
    S: Service<Request>,
    M::Future: Unpin,
    BoxError: From<M::Error> + From<S::Error>,
    Target: Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, M::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        loop {
            match &mut self.state {
                State::Idle => {
                    ready!(self.mk_service.poll_ready(cx))?;
                    trace!("reconnect: connecting");
                    let connecting = self.mk_service.call(self.target.clone());
                    self.state = State::Connecting(connecting);
                }
                State::Connecting(connecting) => match ready!(Pin::new(connecting).poll(cx)) {
                    Ok(connection) => {
                        trace!("reconnect: connected");
                        self.state = State::Connected(connection);
                    }
                    Err(error) => {
                        debug!("reconnect: connection attempt failed");
                        self.state = State::Idle;
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

    fn call(&mut self, request: Request) -> Self::Future {
        if let Some(error) = self.error.take() {
            return ResponseFuture::failed(error);
        }
        match &mut self.state {
            State::Connected(connection) => ResponseFuture::new(connection.call(request)),
            _ => panic!("service not ready; poll_ready must be called first"),
        }
    }
}

impl<M, Target> fmt::Debug for Reconnect<M, Target>
where
    M: Service<Target> + fmt::Debug,
    M::Future: fmt::Debug,
    M::Response: fmt::Debug,
    Target: fmt::Debug,
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
            State::Connecting(future) => f.debug_tuple("Connecting").field(future).finish(),
            State::Connected(connection) => f.debug_tuple("Connected").field(connection).finish(),
        }
    }
}
