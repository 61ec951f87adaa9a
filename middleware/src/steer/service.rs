use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::task::{Context, Poll, ready};

use donjon_service::Service;

use super::Picker;

/// Routes each request to the service its [`Picker`] chooses.
///
/// See the [module documentation](super) for when to use it.
///
/// # Backpressure
///
/// `poll_ready` is `Ready` only once every service is ready: it polls the
/// services it has not seen ready, in order, and is `Pending` as soon as one
/// of them is. After a call, only the service that took the request needs to
/// be polled again.
///
/// # Errors
///
/// A readiness error of any service is returned as it is; responses and
/// their errors are the chosen service's.
///
/// # Panics
///
/// `call` panics if some service has not been seen ready since its last
/// call (that is, without a preceding `poll_ready` returning
/// `Ready(Ok(()))`), or if the picker returns an index out of bounds.
pub struct Steer<S, F, Req> {
    router: F,
    services: Vec<S>,
    /// Indices of the services not known to be ready, in polling order.
    not_ready: VecDeque<usize>,
    _request: PhantomData<fn(Req)>,
}

impl<S, F, Req> Steer<S, F, Req> {
    /// Creates a router over `services`, choosing with `router`.
    pub fn new(services: impl IntoIterator<Item = S>, router: F) -> Self {
        let services: Vec<S> = services.into_iter().collect();
        let not_ready = (0..services.len()).collect();
        Steer {
            router,
            services,
            not_ready,
            _request: PhantomData,
        }
    }
}

impl<S, Req, F> Service<Req> for Steer<S, F, Req>
where
    S: Service<Req>,
    F: Picker<S, Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        while let Some(&index) = self.not_ready.front() {
            ready!(self.services[index].poll_ready(cx))?;
            self.not_ready.pop_front();
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> S::Future {
        assert!(
            self.not_ready.is_empty(),
            "Steer must wait for all services to be ready. Did you forget to call poll_ready()?"
        );
        let index = self.router.pick(&request, &self.services);
        let count = self.services.len();
        let service = self.services.get_mut(index).unwrap_or_else(|| {
            panic!("Steer's picker chose service {index}, but there are only {count} services")
        });
        let future = service.call(request);
        self.not_ready.push_back(index);
        future
    }
}

impl<S: Clone, F: Clone, Req> Clone for Steer<S, F, Req> {
    fn clone(&self) -> Self {
        // The clones of the services have not been polled: none is known to
        // be ready.
        Steer::new(self.services.clone(), self.router.clone())
    }
}

impl<S: fmt::Debug, F: fmt::Debug, Req> fmt::Debug for Steer<S, F, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Steer")
            .field("router", &self.router)
            .field("services", &self.services)
            .field("not_ready", &self.not_ready)
            .finish()
    }
}
