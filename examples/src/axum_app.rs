//! An axum application with donjon layers and tower-http layers in one
//! stack: tower-http's `TraceLayer` and a `SetResponseHeaderLayer` (which
//! marks every response with `x-served-by: donjon`) outside, donjon's
//! metrics, load shedding, concurrency limit and timeout inside, and axum's
//! `HandleErrorLayer` turning donjon's errors into responses. `/metrics`
//! serves donjon's metrics to Prometheus.
//!
//! Run it with `cargo run -p donjon-examples --bin axum-app`.
//!
//! # Metrics
//!
//! The donjon stack records its requests under the name `axum-app` (see
//! [`donjon::metrics`] for every metric and label): `donjon_requests_total`,
//! `donjon_request_errors_total` by kind (a shed request is `overloaded`, a
//! timed out one `timeout`), `donjon_requests_cancelled_total`,
//! `donjon_request_duration_seconds` and `donjon_requests_in_flight`. A
//! handler's own error statuses, and the 404 of an unknown path, are
//! responses, not failures of the stack: they count as requests, never as
//! errors.
//!
//! `/metrics` renders them with `metrics-exporter-prometheus`, from a
//! [`PrometheusHandle`] the caller gives [`app`]. The app installs no
//! recorder of its own: a global recorder can be installed once per process,
//! and donjon takes each metric's handle from the recorder current when the
//! stack is built, which is when [`app`] is called. So the caller chooses:
//!
//! - a program installs [`prometheus`]'s recorder globally first, as the
//!   `axum-app` binary does, so that its own metrics (recorded through the
//!   `metrics` macros anywhere) are served too;
//! - a test builds a recorder per app and calls [`app`] inside
//!   `metrics::with_local_recorder`: each app then counts only its own
//!   traffic, however many a test binary builds.
//!
//! `/metrics` is routed outside donjon's limits: a scrape is never shed, so
//! an overloaded app still reports, and scrapes are not counted as requests.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::get;
use donjon::limit::GlobalConcurrencyLimitLayer;
use donjon::load_shed::error::Overloaded;
use donjon::timeout::error::Elapsed;
use donjon::{BoxError, ServiceBuilder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::{Notify, Semaphore};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The `name` label of the app's donjon metrics.
pub const METRICS_NAME: &str = "axum-app";

/// The upper bounds, in seconds, of the buckets of the request durations'
/// histogram: from 1 ms to 10 s.
pub const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The app's Prometheus recorder, to build or install (before [`app`] is
/// called): donjon's request durations as a histogram with
/// [`DURATION_BUCKETS`], which Prometheus can add up across instances (the
/// exporter's default, a summary, cannot be).
///
/// The recorder is built without the exporter's own HTTP listener: the app
/// serves `/metrics` itself. Without that listener nothing drains histograms
/// but a scrape, so a program also calls
/// [`PrometheusHandle::run_upkeep`] now and then (the binary does every 5 s).
pub fn prometheus() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("donjon_request_duration_seconds".into()),
            &DURATION_BUCKETS,
        )
        .expect("DURATION_BUCKETS is not empty")
}

/// The requests `/hold` keeps waiting: each one tells that it has arrived,
/// then waits to be released. A test knows the app is busy by waiting for
/// [`held`](Hold::held), never for time to pass.
#[derive(Debug)]
pub struct Hold {
    /// A permit for each request that reached `/hold`.
    arrived: Semaphore,
    release: Notify,
}

impl Hold {
    /// Holds every request to `/hold` until it is released.
    pub const fn new() -> Self {
        Hold {
            arrived: Semaphore::const_new(0),
            release: Notify::const_new(),
        }
    }

    /// Waits until one more request has reached `/hold`'s handler than the
    /// calls before this one waited for: once it returns, that request is
    /// inside the donjon stack, holding its concurrency permit.
    pub async fn held(&self) {
        self.arrived
            .acquire()
            .await
            .expect("the semaphore is never closed")
            .forget();
    }

    /// Releases one held request, or the next one to arrive if none is
    /// waiting yet.
    pub fn release_one(&self) {
        self.release.notify_one();
    }

    async fn hold(&self) {
        self.arrived.add_permits(1);
        self.release.notified().await;
    }
}

impl Default for Hold {
    fn default() -> Self {
        Hold::new()
    }
}

/// Answers donjon's errors: 503 when shed, 504 when timed out.
async fn handle_error(error: BoxError) -> (StatusCode, &'static str) {
    if error.is::<Overloaded>() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded, try again later\n",
        )
    } else if error.is::<Elapsed>() {
        (StatusCode::GATEWAY_TIMEOUT, "timed out\n")
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
    }
}

/// The application: `/` answers at once; `/hold` answers once `hold`
/// releases it. At most `concurrency` requests run at once (others get 503
/// at once), and none longer than `timeout` (504). `/metrics` renders
/// `metrics` in Prometheus' text format.
///
/// The donjon stack takes its metrics' handles from the recorder current
/// now (see the [module's docs](self)): install it, or make it the local
/// one, before calling this.
pub fn app(
    hold: Arc<Hold>,
    concurrency: usize,
    timeout: Duration,
    metrics: PrometheusHandle,
) -> Router {
    let limits = ServiceBuilder::new()
        .tower_layer(HandleErrorLayer::new(handle_error))
        // Outside the shedding, so that shed requests are counted (and
        // timed) with the others.
        .metrics(METRICS_NAME)
        .load_shed()
        // axum applies a layer to each route on its own: a global limit is
        // shared by all of them, where `concurrency_limit` would give each
        // route its own. The routes' metrics, under one name, add up.
        .layer(GlobalConcurrencyLimitLayer::new(concurrency))
        .timeout(timeout)
        .into_tower_layer();
    Router::new()
        .route("/", get(|| async { "hello\n" }))
        .route(
            "/hold",
            get(move || {
                let hold = Arc::clone(&hold);
                async move {
                    hold.hold().await;
                    "released\n"
                }
            }),
        )
        .layer(limits)
        // Added after the limits, so outside them.
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        metrics.render(),
                    )
                }
            }),
        )
        // axum wraps handlers in the layers above lazily, when the router is
        // given its state: `axum::serve` would do it for each connection,
        // building the donjon stack (and taking its metrics' handles) again
        // each time. Giving the state now builds it once, here.
        .with_state(())
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-served-by"),
            HeaderValue::from_static("donjon"),
        ))
        .layer(TraceLayer::new_for_http())
}
