//! [`PendingRequests`]: a service's load is the number of its requests in
//! flight.

use std::fmt;
#[cfg(feature = "discover")]
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use donjon_service::Service;
#[cfg(feature = "discover")]
use futures_core::Stream;
#[cfg(feature = "discover")]
use pin_project::pin_project;

use super::Load;
use super::completion::{CompleteOnResponse, TrackCompletion, TrackCompletionFuture};
#[cfg(feature = "discover")]
use crate::discover::{Change, Discover};

/// Measures a service's load as the number of its requests in flight.
///
/// Each call hands out a [`Handle`]; the request counts until its handle is
/// dropped, which the [`TrackCompletion`] policy decides (by default, when
/// the response arrives). A dropped response future drops its handle.
///
/// # Examples
///
/// See the [`load`](crate::load) module.
#[derive(Debug)]
pub struct PendingRequests<S, C = CompleteOnResponse> {
    service: S,
    requests: Arc<()>,
    completion: C,
}

/// The number of requests in flight.
#[derive(Clone, Copy, Debug, Default, PartialOrd, PartialEq, Ord, Eq)]
pub struct Count(usize);

#[cfg(feature = "balance")]
impl crate::balance::slow_start::AsF64 for Count {
    /// The requests in flight.
    #[allow(
        clippy::cast_precision_loss,
        reason = "counts of requests in flight stay far below 2^52"
    )]
    fn as_f64(&self) -> f64 {
        self.0 as f64
    }
}

/// Counts one request in flight for as long as it lives.
pub struct Handle(#[allow(dead_code, reason = "held for its reference count")] Arc<()>);

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handle")
    }
}

impl<S, C> PendingRequests<S, C> {
    /// Wraps `service`, counting its requests in flight; `completion`
    /// decides when a request stops counting.
    pub fn new(service: S, completion: C) -> Self {
        PendingRequests {
            service,
            requests: Arc::new(()),
            completion,
        }
    }

    fn handle(&self) -> Handle {
        Handle(Arc::clone(&self.requests))
    }
}

impl<S, C> Load for PendingRequests<S, C> {
    type Metric = Count;

    fn load(&self) -> Count {
        // Every handle holds one reference besides our own.
        Count(Arc::strong_count(&self.requests) - 1)
    }
}

impl<S, C, Req> Service<Req> for PendingRequests<S, C>
where
    S: Service<Req>,
    C: TrackCompletion<Handle, S::Response>,
{
    type Response = C::Output;
    type Error = S::Error;
    type Future = TrackCompletionFuture<S::Future, C, Handle>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.service.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        TrackCompletionFuture::new(
            self.completion.clone(),
            self.handle(),
            self.service.call(request),
        )
    }
}

/// Wraps each service a [`Discover`] finds in a
/// [`PendingRequests`].
#[cfg(feature = "discover")]
#[pin_project]
#[derive(Debug)]
pub struct PendingRequestsDiscover<D, C = CompleteOnResponse> {
    #[pin]
    discover: D,
    completion: C,
}

#[cfg(feature = "discover")]
impl<D, C> PendingRequestsDiscover<D, C> {
    /// Wraps `discover`; `completion` decides when a request stops
    /// counting.
    ///
    /// The `Req` type is only there to check the services' bounds; it is
    /// inferred when they serve one request type.
    pub const fn new<Req>(discover: D, completion: C) -> Self
    where
        D: Discover,
        D::Service: Service<Req>,
        C: TrackCompletion<Handle, <D::Service as Service<Req>>::Response>,
    {
        PendingRequestsDiscover {
            discover,
            completion,
        }
    }
}

#[cfg(feature = "discover")]
impl<D, C> Stream for PendingRequestsDiscover<D, C>
where
    D: Discover,
    C: Clone,
{
    type Item = Result<Change<D::Key, PendingRequests<D::Service, C>>, D::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let completion = this.completion;
        this.discover.poll_discover(cx).map(|change| {
            change.map(|change| {
                change.map(|change| {
                    change.map_service(|service| PendingRequests::new(service, completion.clone()))
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::future::{Ready, ready};

    use futures::FutureExt;

    use super::*;

    struct Answer;

    impl Service<()> for Answer {
        type Response = ();
        type Error = ();
        type Future = Ready<Result<(), ()>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, (): ()) -> Self::Future {
            ready(Ok(()))
        }
    }

    #[test]
    fn counts_requests_until_their_responses_arrive() {
        let mut service = PendingRequests::new(Answer, CompleteOnResponse);
        assert_eq!(service.load(), Count(0));
        let first = service.call(());
        assert_eq!(service.load(), Count(1));
        let second = service.call(());
        assert_eq!(service.load(), Count(2));
        first.now_or_never().expect("ready").expect("ok");
        assert_eq!(service.load(), Count(1));
        drop(second);
        assert_eq!(service.load(), Count(0));
    }

    /// Keeps the handle as the response.
    #[derive(Clone)]
    struct KeepHandle;

    impl TrackCompletion<Handle, ()> for KeepHandle {
        type Output = Handle;
        fn track_completion(&self, handle: Handle, (): ()) -> Handle {
            handle
        }
    }

    #[test]
    fn a_handle_kept_in_the_response_counts_until_the_response_is_dropped() {
        let mut service = PendingRequests::new(Answer, KeepHandle);
        let response = service.call(()).now_or_never().expect("ready").expect("ok");
        assert_eq!(service.load(), Count(1));
        let another = service.call(()).now_or_never().expect("ready").expect("ok");
        assert_eq!(service.load(), Count(2));
        drop(response);
        assert_eq!(service.load(), Count(1));
        drop(another);
        assert_eq!(service.load(), Count(0));
    }
}
