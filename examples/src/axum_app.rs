//! An axum application with donjon layers and tower-http layers in one
//! stack: tower-http's `TraceLayer` and a `SetResponseHeaderLayer` (which
//! marks every response with `x-served-by: donjon`) outside, donjon's load
//! shedding, concurrency limit and timeout inside, and axum's
//! `HandleErrorLayer` turning donjon's errors into responses.
//!
//! Run it with `cargo run -p donjon-examples --bin axum-app`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::routing::get;
use donjon::limit::GlobalConcurrencyLimitLayer;
use donjon::load_shed::error::Overloaded;
use donjon::timeout::error::Elapsed;
use donjon::{BoxError, ServiceBuilder};
use tokio::sync::{Notify, Semaphore};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

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
/// at once), and none longer than `timeout` (504).
pub fn app(hold: Arc<Hold>, concurrency: usize, timeout: Duration) -> Router {
    let limits = ServiceBuilder::new()
        .tower_layer(HandleErrorLayer::new(handle_error))
        .load_shed()
        // axum applies a layer to each route on its own: a global limit is
        // shared by all of them, where `concurrency_limit` would give each
        // route its own.
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
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-served-by"),
            HeaderValue::from_static("donjon"),
        ))
        .layer(TraceLayer::new_for_http())
}
