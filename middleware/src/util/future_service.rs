use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;

/// Makes a [`Service`] out of a future that resolves to a service.
///
/// The service is not ready until the future has produced the inner service
/// and that service is ready. Useful when building a service needs
/// asynchronous work (connecting, say) but the caller wants a service now.
///
/// The future must be `Unpin`; box and pin it (`Box::pin(fut)`) if it is not.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::util::future_service;
///
/// # futures::executor::block_on(async {
/// let connect = Box::pin(async {
///     // ... connect to something, then:
///     Ok::<_, BoxError>(service_fn(|n: u32| async move { Ok::<_, BoxError>(n * 2) }))
/// });
/// let service = future_service(connect);
/// assert_eq!(service.oneshot(21).await?, 42);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
pub fn future_service<F, S, Req, E>(future: F) -> FutureService<F, S>
where
    F: Future<Output = Result<S, E>> + Unpin,
    S: Service<Req, Error = E>,
{
    FutureService::new(future)
}

/// A [`Service`] that first waits for a future to produce the service it
/// forwards to; see [`future_service`].
///
/// # Errors
///
/// An error from the future is returned by `poll_ready`.
///
/// # Panics
///
/// `call` panics if the inner service does not exist yet, which only happens
/// when `poll_ready` did not return `Ready(Ok(()))` first.
#[derive(Clone)]
pub struct FutureService<F, S> {
    state: State<F, S>,
}

#[derive(Clone)]
enum State<F, S> {
    Future(F),
    Service(S),
}

impl<F, S> FutureService<F, S> {
    /// Creates a service that waits for `future` to produce its inner
    /// service.
    ///
    /// [`future_service`] does the same and lets the compiler check the
    /// bounds at once.
    pub const fn new(future: F) -> Self {
        FutureService {
            state: State::Future(future),
        }
    }
}

impl<F, S: fmt::Debug> fmt::Debug for FutureService<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The state stays on one line even in `{:#?}`, as tower prints it.
        f.debug_struct("FutureService")
            .field("state", &format_args!("{:?}", self.state))
            .finish()
    }
}

impl<F, S: fmt::Debug> fmt::Debug for State<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Future(_) => f
                .debug_tuple("State::Future")
                .field(&format_args!("<{}>", type_name::<F>()))
                .finish(),
            State::Service(service) => f.debug_tuple("State::Service").field(service).finish(),
        }
    }
}

impl<F, S, Req, E> Service<Req> for FutureService<F, S>
where
    F: Future<Output = Result<S, E>> + Unpin,
    S: Service<Req, Error = E>,
{
    type Response = S::Response;
    type Error = E;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        loop {
            match &mut self.state {
                State::Future(future) => {
                    let service = ready!(Pin::new(future).poll(cx))?;
                    self.state = State::Service(service);
                }
                State::Service(service) => return service.poll_ready(cx),
            }
        }
    }

    fn call(&mut self, req: Req) -> S::Future {
        match &mut self.state {
            State::Service(service) => service.call(req),
            State::Future(_) => {
                panic!("FutureService::call was called before FutureService::poll_ready")
            }
        }
    }
}
