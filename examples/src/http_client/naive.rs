//! The naive client the flagship compares against: round-robin, nothing else.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use donjon::{BoxError, Service};
use http::{Request, Response};

use super::Endpoint;

/// Sends each request to the next endpoint in turn: no timeout, no retry,
/// no limit, no notion of health. What many clients do.
#[derive(Debug, Clone)]
pub struct RoundRobin {
    endpoints: Vec<Endpoint>,
    next: Arc<AtomicUsize>,
}

impl RoundRobin {
    /// Goes round `endpoints`.
    ///
    /// # Panics
    ///
    /// If `endpoints` is empty.
    pub fn new(endpoints: Vec<Endpoint>) -> Self {
        assert!(
            !endpoints.is_empty(),
            "RoundRobin needs at least one endpoint"
        );
        RoundRobin {
            endpoints,
            next: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Service<Request<Bytes>> for RoundRobin {
    type Response = Response<Bytes>;
    type Error = BoxError;
    type Future = <Endpoint as Service<Request<Bytes>>>::Future;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // hyper-util's client is always ready: it queues for a connection
        // inside the response future.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.endpoints.len();
        self.endpoints[index].call(request)
    }
}
