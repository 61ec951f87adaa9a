//! An application written for tower, built on donjon.
//!
//! It serves HTTP with axum behind tower-http's and tower's layers, and calls
//! three gRPC backends through one tonic `Channel` balanced over all of them,
//! everything on loopback. Its manifest patches `tower`, `tower-service` and
//! `tower-layer` to donjon's stand-ins, so every one of those crates runs on
//! donjon: the app checks that it does (tower's types are donjon's, and
//! tonic's channel emits the events of donjon's balancer and buffer) and that
//! everything works, and
//! exits non-zero, saying what failed, if not.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderValue, StatusCode, header::HeaderName};
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http;
use tonic::server::NamedService;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};
use tower::{BoxError, Service, ServiceBuilder};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};

/// How many gRPC backends the channel balances over.
const BACKENDS: usize = 3;
/// How many gRPC calls go through the channel.
const CALLS: usize = 300;
/// The gRPC method the backends serve.
const HELLO: &str = "/patched.Greeter/Hello";

// tower's types are donjon's: each of these compiles only if the two paths
// name one type (or one trait).
type TowerBalance = tower::balance::p2c::Balance<tower::discover::ServiceList<Vec<()>>, ()>;
type DonjonBalance = donjon::balance::p2c::Balance<donjon::discover::ServiceList<Vec<()>>, ()>;
const _: fn(TowerBalance) -> DonjonBalance = |balance| balance;
const _: fn(tower::buffer::Buffer<(), ()>) -> donjon::buffer::Buffer<(), ()> = |buffer| buffer;
fn _tower_services_are_donjon_services<S: tower::Service<()>>(
    service: S,
) -> impl donjon::Service<()> {
    service
}

#[tokio::main]
async fn main() {
    let events = Events::record();

    let http = serve_http().await;
    let served_by = http_get(http).await;

    let mut backends = Vec::new();
    for id in 0..BACKENDS {
        backends.push(serve_grpc(id).await);
    }
    let answers = call_balanced(&backends).await;
    // The channel is gone: its buffer's worker, if donjon's, says it ends.
    let buffer_ended = events.wait_for("donjon::buffer").await;

    let balancer_events = events.seen("donjon::balance");
    let tower_events = events.seen("tower::");
    println!("axum behind tower-http and tower layers: x-served-by = {served_by}");
    println!("tonic channel over {BACKENDS} backends, {CALLS} calls: {answers:?}");
    println!("events from donjon's balancer: {balancer_events:?}");
    println!("events from donjon's buffer: {buffer_ended:?}");
    assert_eq!(
        served_by, "donjon",
        "tower-http's SetResponseHeader did not run"
    );
    assert_eq!(
        answers.values().sum::<usize>(),
        CALLS,
        "some gRPC calls went unanswered"
    );
    assert_eq!(
        answers.len(),
        BACKENDS,
        "the balanced channel left a backend without a call: {answers:?}"
    );
    assert!(
        !balancer_events.is_empty(),
        "tonic's balanced channel emitted no event from donjon's balancer: it does not run on donjon"
    );
    assert!(
        tower_events.is_empty(),
        "events came from tower's own code, which the patch should have replaced: {tower_events:?}"
    );
    println!("patched-app: ok");
}

/// The targets of the `tracing` events emitted so far, at every level.
#[derive(Clone, Default)]
struct Events {
    targets: Arc<Mutex<BTreeSet<String>>>,
    new_target: Arc<Notify>,
}

impl Events {
    /// Installs the global subscriber that records them.
    fn record() -> Events {
        let events = Events::default();
        let subscriber = tracing_subscriber::registry().with(events.clone());
        tracing::subscriber::set_global_default(subscriber).expect("a second global subscriber");
        events
    }

    /// The targets seen so far that start with `prefix`.
    fn seen(&self, prefix: &str) -> Vec<String> {
        let targets = self
            .targets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        targets
            .iter()
            .filter(|target| target.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Waits for an event whose target starts with `prefix`; panics, saying
    /// so, if none comes within a minute (a guard against hanging, far
    /// beyond the milliseconds it takes).
    async fn wait_for(&self, prefix: &str) -> Vec<String> {
        let wait = async {
            loop {
                let notified = self.new_target.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let seen = self.seen(prefix);
                if !seen.is_empty() {
                    return seen;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("no event from {prefix}: it does not run on donjon"))
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Events {
    fn on_event(&self, event: &tracing::Event<'_>, _: LayerContext<'_, S>) {
        let target = event.metadata().target();
        let mut targets = self
            .targets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !targets.contains(target) {
            targets.insert(target.to_owned());
            drop(targets);
            self.new_target.notify_waiters();
        }
    }
}

/// An axum router behind tower-http's layers and tower's load shedding and
/// concurrency limit, served on a loopback port.
async fn serve_http() -> SocketAddr {
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    HeaderName::from_static("x-served-by"),
                    HeaderValue::from_static("donjon"),
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(10),
                ))
                .layer(HandleErrorLayer::new(|error: BoxError| async move {
                    (StatusCode::SERVICE_UNAVAILABLE, error.to_string())
                }))
                .load_shed()
                .concurrency_limit(64),
        );
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the HTTP server failed")
    });
    addr
}

/// One GET of `/hello`; returns the `x-served-by` header.
async fn http_get(addr: SocketAddr) -> String {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<axum::body::Bytes>>();
    let uri = format!("http://{addr}/hello").parse().expect("a valid URI");
    let response = client.get(uri).await.expect("the HTTP request failed");
    assert_eq!(response.status(), StatusCode::OK, "GET /hello");
    let served_by = response
        .headers()
        .get("x-served-by")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the HTTP body")
        .to_bytes();
    assert_eq!(&body[..], b"hello", "GET /hello's body");
    served_by.unwrap_or_else(|| "(no header)".to_owned())
}

/// A gRPC backend answering `Hello` with its id, served on a loopback port.
async fn serve_grpc(id: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    let router = Server::builder().add_service(Greeter { id });
    tokio::spawn(async move {
        router
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await
            .expect("a gRPC server failed")
    });
    addr
}

/// `CALLS` unary calls through one channel balanced over `backends`; returns
/// how many each backend answered.
async fn call_balanced(backends: &[SocketAddr]) -> BTreeMap<String, usize> {
    let endpoints = backends
        .iter()
        .map(|addr| Endpoint::from_shared(format!("http://{addr}")).expect("a valid endpoint URI"));
    let channel = Channel::balance_list(endpoints);
    let mut grpc = tonic::client::Grpc::new(channel);
    let mut answers = BTreeMap::new();
    for call in 0..CALLS {
        grpc.ready()
            .await
            .expect("the balanced channel never became ready");
        let response = grpc
            .unary(
                Request::new(format!("call {call}")),
                http::uri::PathAndQuery::from_static(HELLO),
                Utf8,
            )
            .await
            .unwrap_or_else(|status| panic!("gRPC call {call} failed: {status}"));
        *answers.entry(response.into_inner()).or_insert(0) += 1;
    }
    answers
}

/// A gRPC service, written as tonic's generated code would be.
#[derive(Clone)]
struct Greeter {
    id: usize,
}

impl NamedService for Greeter {
    const NAME: &'static str = "patched.Greeter";
}

impl<B> Service<http::Request<B>> for Greeter
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<BoxError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let id = self.id;
        Box::pin(async move {
            if request.uri().path() != HELLO {
                return Ok(Status::unimplemented("no such method").into_http());
            }
            // The method itself, a tower service as tonic's generated code
            // expects: the balance check counts the answers by backend.
            let hello = tower::service_fn(move |_: Request<String>| async move {
                Ok::<_, Status>(Response::new(format!("backend {id}")))
            });
            Ok(tonic::server::Grpc::new(Utf8).unary(hello, request).await)
        })
    }
}

/// Messages that are UTF-8 strings: a codec that needs no protobuf compiler.
#[derive(Clone, Copy, Debug, Default)]
struct Utf8;

impl Codec for Utf8 {
    type Encode = String;
    type Decode = String;
    type Encoder = Utf8;
    type Decoder = Utf8;

    fn encoder(&mut self) -> Utf8 {
        Utf8
    }

    fn decoder(&mut self) -> Utf8 {
        Utf8
    }
}

impl Encoder for Utf8 {
    type Item = String;
    type Error = Status;

    fn encode(&mut self, item: String, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        use bytes::BufMut;
        dst.put_slice(item.as_bytes());
        Ok(())
    }
}

impl Decoder for Utf8 {
    type Item = String;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<String>, Status> {
        use bytes::Buf;
        let bytes = src.copy_to_bytes(src.remaining());
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|error| {
                Status::invalid_argument(format!("a message that is not UTF-8: {error}"))
            })
    }
}
