//! Test backends: small HTTP servers on loopback whose behaviour is chosen
//! by the caller (latency, a share of failures), and which can be taken down
//! while they run.
//!
//! The `http-client` and `resilient-client` examples send their requests to
//! these. Every backend answers any path; it counts the requests it receives,
//! so that a run can report how requests spread over the backends.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use donjon::service_fn;
use donjon::tower_compat::IntoTower;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::http_server::text;

/// How a backend answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    /// The shortest time it takes to answer.
    pub latency: Duration,
    /// Up to this much is added to `latency`, at random, per request.
    pub jitter: Duration,
    /// The share of requests answered `500 Internal Server Error`, at once,
    /// in `[0, 1]`.
    pub failure_share: f64,
}

impl Behaviour {
    /// Answers every request successfully after `latency`, plus up to
    /// `jitter`.
    pub const fn healthy(latency: Duration, jitter: Duration) -> Self {
        Behaviour {
            latency,
            jitter,
            failure_share: 0.0,
        }
    }

    /// Answers `failure_share` of the requests with a 500, at once.
    ///
    /// # Panics
    ///
    /// If `failure_share` is not in `[0, 1]`.
    pub fn failing(mut self, failure_share: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&failure_share),
            "a failure share is a fraction in [0, 1], got {failure_share}"
        );
        self.failure_share = failure_share;
        self
    }
}

/// A running backend. Dropping it takes it down.
#[derive(Debug)]
pub struct Backend {
    name: String,
    addr: SocketAddr,
    received: Arc<AtomicU64>,
    /// The share of requests failed, as `f64` bits; changeable while it runs.
    failure_share: Arc<AtomicU64>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Backend {
    /// Starts a backend on a free loopback port, serving in a spawned task.
    ///
    /// `seed` makes its random draws (jitter, failures) repeatable.
    ///
    /// # Errors
    ///
    /// If no loopback port can be bound.
    pub async fn start(name: &str, behaviour: Behaviour, seed: u64) -> io::Result<Backend> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let received = Arc::new(AtomicU64::new(0));
        let failure_share = Arc::new(AtomicU64::new(behaviour.failure_share.to_bits()));
        let (stop, stopped) = oneshot::channel();
        let shared = Shared {
            behaviour,
            failure_share: Arc::clone(&failure_share),
            received: Arc::clone(&received),
            seed,
        };
        tokio::spawn(serve(listener, stopped, Arc::new(shared)));
        Ok(Backend {
            name: name.to_owned(),
            addr,
            received,
            failure_share,
            stop: Mutex::new(Some(stop)),
        })
    }

    /// Its name, for reports.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many requests it has received (answered or not).
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Changes the share of requests it fails, from now on.
    ///
    /// # Panics
    ///
    /// If `failure_share` is not in `[0, 1]`.
    pub fn set_failure_share(&self, failure_share: f64) {
        assert!(
            (0.0..=1.0).contains(&failure_share),
            "a failure share is a fraction in [0, 1], got {failure_share}"
        );
        self.failure_share
            .store(failure_share.to_bits(), Ordering::Relaxed);
    }

    /// Takes it down: it stops listening, so that connecting is refused, and
    /// closes its open connections, failing the requests on them. Taking a
    /// backend down twice does nothing more.
    pub fn go_down(&self) {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            // The serving task may already be gone with its runtime.
            let _ = stop.send(());
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.go_down();
    }
}

/// Accepts connections until `stopped` fires; then the listener and every
/// connection are dropped together.
/// What a backend's connections share.
struct Shared {
    behaviour: Behaviour,
    failure_share: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    seed: u64,
}

async fn serve(listener: TcpListener, mut stopped: oneshot::Receiver<()>, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let handler = handler(Arc::clone(&shared));
                let service = TowerToHyperService::new(handler.into_tower());
                connections.spawn(async move {
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    // A connection closed by the client is not our concern.
                    let _ = connection.await;
                });
            }
            // Reap finished connections so that the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // Dropping `connections` aborts every connection task, closing its socket.
}

/// The request handler of one backend.
fn handler(
    shared: Arc<Shared>,
) -> impl donjon::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send,
> + Clone
+ Send {
    service_fn(move |_request: Request<Incoming>| {
        let number = shared.received.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::clone(&shared);
        async move {
            let behaviour = &shared.behaviour;
            let seed = shared.seed;
            let failure_share = f64::from_bits(shared.failure_share.load(Ordering::Relaxed));
            if unit_interval(seed, number) < failure_share {
                return Ok(text(StatusCode::INTERNAL_SERVER_ERROR, "failed\n"));
            }
            let jitter = behaviour
                .jitter
                .mul_f64(unit_interval(seed ^ 0x5eed, number));
            tokio::time::sleep(behaviour.latency + jitter).await;
            Ok(text(StatusCode::OK, "done\n"))
        }
    })
}

/// A repeatable draw in `[0, 1)` for request `number` of a backend seeded
/// with `seed` (splitmix64).
fn unit_interval(seed: u64, number: u64) -> f64 {
    let mut z = seed.wrapping_add(number.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    // The top 53 bits, as a fraction.
    (z >> 11) as f64 / (1u64 << 53) as f64
}
