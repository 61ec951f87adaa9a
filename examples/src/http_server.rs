//! An HTTP server (hyper) whose handler is wrapped in a donjon stack: load
//! shedding, a rate limit, a concurrency limit and a timeout.
//!
//! When the service is at its concurrency or rate limit, the load shedder
//! answers `503 Service Unavailable` at once instead of queueing; a request
//! that takes longer than the timeout gets `504 Gateway Timeout`. Run it
//! with `cargo run -p donjon-examples --bin http-server`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use donjon::load_shed::error::Overloaded;
use donjon::timeout::error::Elapsed;
use donjon::tower_compat::IntoTower;
use donjon::{BoxError, Service, ServiceBuilder, service_fn};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

/// The limits the stack applies.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests per `per`.
    pub rate: u64,
    /// The rate limit's window.
    pub per: Duration,
    /// The longest a request may take.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            concurrency: 64,
            rate: 1_000,
            per: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
        }
    }
}

/// A response with a status and a text body.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

/// Turns the stack's errors into HTTP answers.
fn to_response(
    result: Result<Response<Full<Bytes>>, BoxError>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    Ok(match result {
        Ok(response) => response,
        Err(error) if error.is::<Overloaded>() => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded, try again later\n",
        ),
        Err(error) if error.is::<Elapsed>() => text(StatusCode::GATEWAY_TIMEOUT, "timed out\n"),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
    })
}

/// The application: `/` answers at once; `/hold` answers once `release` is
/// notified (the tests use it to keep requests in flight; run by hand, it
/// waits for ever, so it shows the timeout), counting itself in `holding`
/// meanwhile.
fn handler(
    release: Arc<Notify>,
    holding: Arc<watch::Sender<usize>>,
) -> impl Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send,
> + Clone
+ Send {
    service_fn(move |request: Request<Incoming>| {
        let release = Arc::clone(&release);
        let holding = Arc::clone(&holding);
        async move {
            Ok(match request.uri().path() {
                "/" => text(StatusCode::OK, "hello\n"),
                "/hold" => {
                    let released = release.notified();
                    holding.send_modify(|count| *count += 1);
                    released.await;
                    holding.send_modify(|count| *count -= 1);
                    text(StatusCode::OK, "released\n")
                }
                _ => text(StatusCode::NOT_FOUND, "not found\n"),
            })
        }
    })
}

/// A running server: its address, and the signal that releases `/hold`
/// requests.
#[derive(Debug)]
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Releases the `/hold` requests waiting (`notify_waiters`).
    pub release: Arc<Notify>,
    /// How many `/hold` requests are being held.
    pub holding: watch::Receiver<usize>,
}

/// Serves on `listener` with `limits`, in a spawned task, until the runtime
/// ends.
pub fn spawn(listener: TcpListener, limits: Limits) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    let release = Arc::new(Notify::new());
    let (holding, holding_count) = watch::channel(0);
    // One stack, cloned per connection and per request: the clones share
    // the concurrency limit's semaphore and the rate limit's budget.
    let stack = ServiceBuilder::new()
        .map_result(to_response)
        .load_shed()
        .rate_limit(limits.rate, limits.per)
        .concurrency_limit(limits.concurrency)
        .timeout(limits.timeout)
        .service(handler(Arc::clone(&release), Arc::new(holding)));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _peer)) = listener.accept().await else {
                continue;
            };
            let service = TowerToHyperService::new(stack.clone().into_tower());
            tokio::spawn(async move {
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                // A connection closed by the client is not our concern.
                let _ = connection.await;
            });
        }
    });
    Ok(Server {
        addr,
        release,
        holding: holding_count,
    })
}
