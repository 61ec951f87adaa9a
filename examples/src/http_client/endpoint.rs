//! One server address as a service, on top of hyper-util's client: a donjon
//! service for the donjon stacks, a tower service for the tower stack.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use donjon::tower_compat::{DonjonService, IntoDonjon};
use donjon::{BoxError, Service};
use futures::future::BoxFuture;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

/// The hyper-util client every endpoint shares (one connection pool, keyed
/// by address).
pub type HyperClient = Client<HttpConnector, Full<Bytes>>;

/// Builds the shared hyper-util client.
pub fn hyper_client() -> HyperClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// When each attempt sent to one endpoint started, in order.
///
/// Shared by an endpoint's clones; an attempt is logged when the endpoint
/// is called, whether or not it then connects.
#[derive(Debug, Default)]
pub struct AttemptLog {
    times: Mutex<Vec<Instant>>,
}

impl AttemptLog {
    /// The attempts logged so far.
    pub fn count(&self) -> u64 {
        self.lock().len() as u64
    }

    /// When each attempt started, in order.
    pub fn times(&self) -> Vec<Instant> {
        self.lock().clone()
    }

    /// Logs an attempt starting now. The clock is read under the lock, so
    /// that the times stay in order when several threads log at once.
    fn record(&self) {
        let mut times = self.lock();
        times.push(Instant::now());
    }

    /// The list, even if a thread panicked while holding it: pushing an
    /// instant cannot leave it half-changed.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Instant>> {
        self.times.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Sends requests to one server address and reads each response whole.
///
/// The request's URI only needs a path: the endpoint fills in the scheme and
/// its address. hyper-util's client speaks `tower_service::Service`;
/// [`IntoDonjon::into_donjon`] makes it a donjon service, which forwards
/// readiness unchanged, for the endpoint's [`donjon::Service`]
/// implementation. The endpoint also implements [`tower::Service`] by
/// calling hyper-util's client directly, so that a stack built from the
/// `tower` crate runs no donjon code. Either way it logs the attempts sent to
/// it, including those that fail to connect.
#[derive(Debug, Clone)]
pub struct Endpoint {
    client: DonjonService<HyperClient>,
    authority: Authority,
    attempts: Arc<AttemptLog>,
}

impl Endpoint {
    /// An endpoint for `addr`, sending through `client`.
    pub fn new(client: HyperClient, addr: SocketAddr) -> Self {
        let authority = addr
            .to_string()
            .parse()
            .expect("a socket address is a valid URI authority");
        Endpoint {
            client: client.into_donjon(),
            authority,
            attempts: Arc::new(AttemptLog::default()),
        }
    }

    /// The log of attempts sent to this endpoint, shared by its clones.
    pub fn attempts(&self) -> Arc<AttemptLog> {
        Arc::clone(&self.attempts)
    }

    /// Logs an attempt and turns `request` into one for hyper-util, aimed at
    /// this endpoint's address.
    fn prepare(&self, request: Request<Bytes>) -> Request<Full<Bytes>> {
        self.attempts.record();
        let (mut parts, body) = request.into_parts();
        parts.uri = self.aim(parts.uri);
        Request::from_parts(parts, Full::new(body))
    }

    /// `uri` aimed at this endpoint's address.
    fn aim(&self, uri: Uri) -> Uri {
        let mut parts = uri.into_parts();
        parts.scheme = Some(Scheme::HTTP);
        parts.authority = Some(self.authority.clone());
        if parts.path_and_query.is_none() {
            parts.path_and_query = Some(PathAndQuery::from_static("/"));
        }
        Uri::from_parts(parts).expect("scheme, authority and path make a valid URI")
    }
}

/// Waits for hyper-util's response and reads its body whole.
fn read_whole(response: ResponseFuture) -> BoxFuture<'static, Result<Response<Bytes>, BoxError>> {
    Box::pin(async move {
        let (parts, body) = response.await?.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Response::from_parts(parts, body))
    })
}

impl Service<Request<Bytes>> for Endpoint {
    type Response = Response<Bytes>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Bytes>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.client.poll_ready(cx).map_err(BoxError::from)
    }

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let request = self.prepare(request);
        read_whole(self.client.call(request))
    }
}

impl tower::Service<Request<Bytes>> for Endpoint {
    type Response = Response<Bytes>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Bytes>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower::Service::poll_ready(self.client.get_mut(), cx).map_err(BoxError::from)
    }

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let request = self.prepare(request);
        read_whole(tower::Service::call(self.client.get_mut(), request))
    }
}
