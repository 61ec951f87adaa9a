//! A deadline that travels across two hops over HTTP: the caller gives the
//! first hop its remaining time in a `grpc-timeout` header; the first hop
//! does its own share of the work and gives what is left to the second in
//! the same header; the second gives up when the caller has, however long
//! its own timeout.
//!
//! ```text
//! caller ──grpc-timeout: 300m──▶ hop a ──(100 ms of its own work)──grpc-timeout: 200m──▶ hop b
//! ```
//!
//! - [`hop_a`] reads the header into a [`Deadline`] in the request's
//!   extensions ([`DeadlineFromHeaderLayer`]), works, then calls hop b with
//!   the deadline in the outgoing request's extensions, through a
//!   [`DeadlineToHeader`] that writes the time left back into the header.
//!   It keeps no timeout of its own: it relays what hop b answers.
//! - [`hop_b`] reads the header too, refuses at once a request whose time
//!   is already up ([`Admit`](donjon::deadline::Admit): its handler never
//!   runs), and ends the work of the others at the earlier of its own
//!   timeout (a minute) and the caller's deadline.
//!
//! Run it with `cargo run -p donjon-examples --bin deadline-chain`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use donjon::deadline::error::DeadlineExceeded;
use donjon::deadline::grpc_timeout::InvalidTimeout;
use donjon::deadline::{
    AdmitLayer, Deadline, DeadlineFromHeaderLayer, DeadlineToHeader, FromExtensions,
};
use donjon::timeout::TimeoutLayer;
use donjon::timeout::error::Elapsed;
use donjon::{BoxError, ServiceBuilder, ServiceExt, service_fn};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

/// Hop b's own timeout: far longer than any caller waits.
pub const HOP_B_TIMEOUT: Duration = Duration::from_secs(60);

/// What hop b's handler saw: the work it started, and the work that was
/// dropped before it finished (its caller gave up).
#[derive(Debug, Default)]
pub struct Work {
    started: AtomicUsize,
    abandoned: AtomicUsize,
}

impl Work {
    /// The requests whose work started.
    pub fn started(&self) -> usize {
        self.started.load(Ordering::Relaxed)
    }

    /// The requests whose work was dropped unfinished.
    pub fn abandoned(&self) -> usize {
        self.abandoned.load(Ordering::Relaxed)
    }
}

/// Counts the work dropped before it finished.
struct Abandoned(Arc<Work>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.abandoned.fetch_add(1, Ordering::Relaxed);
    }
}

/// Answers the errors of the deadline stack: 504 when the time is up, 400
/// for a malformed `grpc-timeout`.
async fn handle_error(error: BoxError) -> (StatusCode, String) {
    if error.is::<DeadlineExceeded>() {
        (StatusCode::GATEWAY_TIMEOUT, format!("hop b: {error}\n"))
    } else if error.is::<Elapsed>() {
        (
            StatusCode::GATEWAY_TIMEOUT,
            "hop b: out of time (its caller's deadline or its own timeout)\n".to_owned(),
        )
    } else if error.is::<InvalidTimeout>() {
        (StatusCode::BAD_REQUEST, format!("{error}\n"))
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n"))
    }
}

/// Hop b: `/work` works for an hour, unless its caller's deadline (or hop
/// b's own timeout) ends it first.
pub fn hop_b(work: Arc<Work>) -> Router {
    let deadlines = ServiceBuilder::new()
        .tower_layer(HandleErrorLayer::new(handle_error))
        .layer(DeadlineFromHeaderLayer::new())
        .layer(AdmitLayer::new(FromExtensions))
        .layer(TimeoutLayer::new(HOP_B_TIMEOUT).with_deadlines(FromExtensions))
        .into_tower_layer();
    Router::new()
        .route(
            "/work",
            get(move || {
                let work = Arc::clone(&work);
                async move {
                    work.started.fetch_add(1, Ordering::Relaxed);
                    let abandoned = Abandoned(Arc::clone(&work));
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    std::mem::forget(abandoned);
                    "done\n"
                }
            }),
        )
        .layer(deadlines)
        .with_state(())
}

/// The client hop a calls hop b with.
type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Hop a: `/` does `own_work` of its own, then asks hop b's `/work` (at
/// `hop_b`, a base URL) with the caller's deadline, and relays its answer.
pub fn hop_a(hop_b: String, own_work: Duration) -> Router {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let state = Arc::new((hop_b, own_work, client));
    let deadlines = ServiceBuilder::new()
        .tower_layer(HandleErrorLayer::new(handle_error))
        .layer(DeadlineFromHeaderLayer::new())
        .into_tower_layer();
    Router::new()
        .route("/", get(front))
        .layer(deadlines)
        .with_state(state)
}

/// Hop a's handler.
async fn front(
    State(state): State<Arc<(String, Duration, HttpClient)>>,
    request: Request,
) -> Response {
    let (hop_b, own_work, client) = &*state;
    tokio::time::sleep(*own_work).await;

    let mut outgoing = http::Request::get(format!("{hop_b}/work"))
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    // The caller's deadline goes with the request; the header layer turns
    // it into the time left.
    if let Some(deadline) = request.extensions().get::<Deadline>() {
        outgoing.extensions_mut().insert(*deadline);
    }
    let client = client.clone();
    let to_b = DeadlineToHeader::new(service_fn(move |request| client.request(request)));
    match to_b.oneshot(outgoing).await {
        Ok(answer) => {
            let status = answer.status();
            let body = answer
                .into_body()
                .collect()
                .await
                .map(|body| body.to_bytes())
                .unwrap_or_default();
            (status, Body::from(body)).into_response()
        }
        Err(error) => (StatusCode::BAD_GATEWAY, format!("hop b: {error}\n")).into_response(),
    }
}

/// Serves `router` on a loopback port, from a spawned task; returns its
/// base URL.
///
/// # Panics
///
/// If no loopback port can be bound.
pub async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the server runs")
    });
    base
}

/// Asks hop a (at base URL `a`), with `grpc_timeout` as the caller's time
/// left if given: the status and the body of the answer.
///
/// # Panics
///
/// If hop a does not answer.
pub async fn ask(a: &str, grpc_timeout: Option<&str>) -> (StatusCode, String) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::get(format!("{a}/"));
    if let Some(value) = grpc_timeout {
        request = request.header("grpc-timeout", value);
    }
    let request = request.body(Empty::new()).expect("a valid request");
    let answer = client.request(request).await.expect("hop a answers");
    let status = answer.status();
    let body = answer
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}
