use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use pin_project::pin_project;

/// A future that waits for a service to be ready, sends it one request,
/// and resolves to the response.
///
/// Returned by [`ServiceExt::oneshot`](crate::ServiceExt::oneshot). The
/// service is consumed: it is dropped once the request has been sent.
///
/// # Errors
///
/// Resolves to the error of `poll_ready` if the service fails before the
/// call, or to the error of the response future.
///
/// # Panics
///
/// Polling it again after it resolved successfully panics.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
///
/// # futures::executor::block_on(async {
/// let service = service_fn(|name: &'static str| async move { Ok::<_, BoxError>(format!("hi {name}")) });
/// assert_eq!(service.oneshot("ada").await?, "hi ada");
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Oneshot<S: Service<Req>, Req> {
    #[pin]
    state: State<S, Req>,
}

#[pin_project(project = StateProj)]
enum State<S: Service<Req>, Req> {
    NotReady(Option<(S, Req)>),
    Called(#[pin] S::Future),
    Done,
}

impl<S: Service<Req>, Req> Oneshot<S, Req> {
    /// Creates a future that sends `req` to `svc` once it is ready.
    pub const fn new(svc: S, req: Req) -> Self {
        Oneshot {
            state: State::NotReady(Some((svc, req))),
        }
    }
}

impl<S, Req> Future for Oneshot<S, Req>
where
    S: Service<Req>,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::NotReady(pair) => {
                    let (service, _) = pair.as_mut().expect("polled after complete");
                    ready!(service.poll_ready(cx))?;
                    let (mut service, request) = pair.take().expect("polled after complete");
                    let future = service.call(request);
                    state.set(State::Called(future));
                }
                StateProj::Called(future) => {
                    let output = ready!(future.poll(cx));
                    state.set(State::Done);
                    return Poll::Ready(output);
                }
                StateProj::Done => panic!("polled after complete"),
            }
        }
    }
}

impl<S, Req> fmt::Debug for Oneshot<S, Req>
where
    S: Service<Req> + fmt::Debug,
    Req: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oneshot")
            .field("state", &self.state)
            .finish()
    }
}

impl<S, Req> fmt::Debug for State<S, Req>
where
    S: Service<Req> + fmt::Debug,
    Req: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::NotReady(Some((service, request))) => f
                .debug_tuple("State::NotReady")
                .field(service)
                .field(request)
                .finish(),
            // Only seen if a `poll_ready` call panicked half-way.
            State::NotReady(None) => f.write_str("State::NotReady"),
            State::Called(_) => f.debug_tuple("State::Called").field(&"S::Future").finish(),
            State::Done => f.write_str("State::Done"),
        }
    }
}
