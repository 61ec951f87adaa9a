//! One server address as a donjon service, on top of hyper-util's client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use donjon::tower_compat::{DonjonService, IntoDonjon};
use donjon::{BoxError, Service};
use futures::future::BoxFuture;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The hyper-util client every endpoint shares (one connection pool, keyed
/// by address).
pub type HyperClient = Client<HttpConnector, Full<Bytes>>;

/// Builds the shared hyper-util client.
pub fn hyper_client() -> HyperClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends requests to one server address and reads each response whole.
///
/// The request's URI only needs a path: the endpoint fills in the scheme and
/// its address. hyper-util's client speaks `tower_service::Service`;
/// [`IntoDonjon::into_donjon`] makes it a donjon service, which forwards
/// readiness unchanged. The endpoint counts the attempts sent to it,
/// including those that fail to connect.
#[derive(Debug, Clone)]
pub struct Endpoint {
    client: DonjonService<HyperClient>,
    authority: Authority,
    attempts: Arc<AtomicU64>,
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
            attempts: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The counter of attempts sent to this endpoint, shared by its clones.
    pub fn attempts(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.attempts)
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

impl Service<Request<Bytes>> for Endpoint {
    type Response = Response<Bytes>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Bytes>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.client.poll_ready(cx).map_err(BoxError::from)
    }

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let (mut parts, body) = request.into_parts();
        parts.uri = self.aim(parts.uri);
        let response = self
            .client
            .call(Request::from_parts(parts, Full::new(body)));
        Box::pin(async move {
            let (parts, body) = response.await?.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok(Response::from_parts(parts, body))
        })
    }
}
