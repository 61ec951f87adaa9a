//! The `axum-app` example over real HTTP on loopback: donjon layers and
//! tower-http layers in one axum stack, and the metrics it serves.
//!
//! Each app gets its own Prometheus recorder (see [`start`]): the tests of
//! this binary run at once, yet each scrape counts only its own app's
//! traffic.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use donjon_examples::axum_app::{Hold, METRICS_NAME, app, prometheus};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Serves the app on a loopback port, with a recorder of its own; returns its
/// base URL and a client.
async fn start(hold: Arc<Hold>, concurrency: usize, timeout: Duration) -> (String, HttpClient) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    // Not installed globally: the app's donjon stack takes its handles from
    // this recorder while `app` runs, and `/metrics` renders it.
    let recorder = prometheus().build_recorder();
    let app = metrics::with_local_recorder(&recorder, || {
        app(hold, concurrency, timeout, recorder.handle())
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("the server runs");
    });
    (base, Client::builder(TokioExecutor::new()).build_http())
}

async fn get(client: &HttpClient, url: String) -> Response<Incoming> {
    client
        .get(url.parse().expect("a valid URI"))
        .await
        .expect("the server answers")
}

async fn body(response: Response<Incoming>) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body arrives")
        .to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn served_by(response: &Response<Incoming>) -> Option<&str> {
    response
        .headers()
        .get("x-served-by")
        .and_then(|value| value.to_str().ok())
}

/// Sends `count` requests to `path` one after the other, expecting `status`
/// for each.
async fn send(client: &HttpClient, base: &str, path: &str, count: usize, status: StatusCode) {
    for _ in 0..count {
        let response = get(client, format!("{base}{path}")).await;
        assert_eq!(response.status(), status, "GET {path}");
    }
}

/// A `/metrics` page, in Prometheus' text format.
struct Scrape(String);

impl Scrape {
    async fn of(client: &HttpClient, base: &str) -> Scrape {
        let response = get(client, format!("{base}/metrics")).await;
        assert_eq!(response.status(), StatusCode::OK);
        Scrape(body(response).await)
    }

    /// The value of the app's donjon series `metric`, labelled with the
    /// app's name and `labels` (in any order) and with nothing else.
    fn donjon(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        let mut wanted = vec![("name", METRICS_NAME)];
        wanted.extend_from_slice(labels);
        wanted.sort_unstable();
        self.0
            .lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                let (name, labels) = series.split_once('{')?;
                // None of the label values here holds a comma or a quote.
                let mut labels: Vec<(&str, &str)> = labels
                    .strip_suffix('}')?
                    .split(',')
                    .map(|label| {
                        let (key, value) = label.split_once('=')?;
                        Some((key, value.strip_prefix('"')?.strip_suffix('"')?))
                    })
                    .collect::<Option<_>>()?;
                labels.sort_unstable();
                (name == metric && labels == wanted).then(|| value.parse().ok())?
            })
            .unwrap_or_else(|| panic!("no {metric} {wanted:?} in the scrape:\n{}", self.0))
    }
}

#[tokio::test]
async fn the_tower_http_layer_marks_responses_that_went_through_donjon() {
    let (base, client) = start(Arc::new(Hold::new()), 8, Duration::from_secs(3600)).await;
    let response = get(&client, format!("{base}/")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(served_by(&response), Some("donjon"));
    assert_eq!(body(response).await, "hello\n");
}

#[tokio::test]
async fn donjon_sheds_load_inside_the_tower_http_layer() {
    let hold = Arc::new(Hold::new());
    let (base, client) = start(Arc::clone(&hold), 1, Duration::from_secs(3600)).await;

    // One request holds the only permit...
    let held = {
        let client = client.clone();
        let url = format!("{base}/hold");
        tokio::spawn(async move { get(&client, url).await.status() })
    };
    hold.held().await;
    // ...so the next one is shed by donjon, and the tower-http layer
    // outside still marks the 503.
    let shed = get(&client, format!("{base}/")).await;
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(served_by(&shed), Some("donjon"));
    assert_eq!(body(shed).await, "overloaded, try again later\n");

    // Nothing is lost: the held request completes once released.
    hold.release_one();
    assert_eq!(held.await.expect("the client task"), StatusCode::OK);
}

// With the paused clock, the runtime moves time to the next timer whenever
// it has nothing else to do: donjon's 10 s timeout passes at once.
#[tokio::test(start_paused = true)]
async fn donjons_timeout_answers_504_through_axum() {
    let (base, client) = start(Arc::new(Hold::new()), 8, Duration::from_secs(10)).await;
    let response = get(&client, format!("{base}/hold")).await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(served_by(&response), Some("donjon"));
    assert_eq!(body(response).await, "timed out\n");
}

#[tokio::test]
async fn metrics_count_the_requests_served_shed_and_timed_out() {
    const TIMEOUT: Duration = Duration::from_secs(3600);
    let hold = Arc::new(Hold::new());
    let (base, client) = start(Arc::clone(&hold), 1, TIMEOUT).await;

    // The stack's metrics exist from the start, at zero.
    let before = Scrape::of(&client, &base).await;
    assert_eq!(before.donjon("donjon_requests_total", &[]), 0.0);
    assert_eq!(before.donjon("donjon_requests_in_flight", &[]), 0.0);

    // Three requests served...
    send(&client, &base, "/", 3, StatusCode::OK).await;
    // ...then one held, with the only permit...
    let held = {
        let client = client.clone();
        let url = format!("{base}/hold");
        tokio::spawn(async move { get(&client, url).await.status() })
    };
    hold.held().await;
    // ...so that two are shed.
    send(&client, &base, "/", 2, StatusCode::SERVICE_UNAVAILABLE).await;

    // `/metrics` is outside the limits: a full app still answers a scrape,
    // which is not counted.
    let during = Scrape::of(&client, &base).await;
    assert_eq!(during.donjon("donjon_requests_total", &[]), 6.0);
    assert_eq!(during.donjon("donjon_requests_in_flight", &[]), 1.0);

    hold.release_one();
    assert_eq!(held.await.expect("the client task"), StatusCode::OK);

    // One more held and never released times out: once the clock is
    // paused, the runtime moves it to the timeout as soon as nothing else
    // runs (the real clock kept the first held request from timing out).
    tokio::time::pause();
    send(&client, &base, "/hold", 1, StatusCode::GATEWAY_TIMEOUT).await;

    let after = Scrape::of(&client, &base).await;
    assert_eq!(after.donjon("donjon_requests_total", &[]), 7.0);
    let errors = |kind| after.donjon("donjon_request_errors_total", &[("kind", kind)]);
    assert_eq!(errors("overloaded"), 2.0);
    assert_eq!(errors("timeout"), 1.0);
    for kind in [
        "circuit_open",
        "rate_limited",
        "throttled",
        "unavailable",
        "other",
    ] {
        assert_eq!(errors(kind), 0.0, "errors of kind {kind}");
    }
    assert_eq!(after.donjon("donjon_requests_cancelled_total", &[]), 0.0);
    assert_eq!(after.donjon("donjon_requests_in_flight", &[]), 0.0);
    // A histogram (the app's buckets), holding every request, the timed
    // out one for its whole timeout.
    let durations = "donjon_request_duration_seconds";
    assert_eq!(after.donjon(&format!("{durations}_count"), &[]), 7.0);
    assert_eq!(
        after.donjon(&format!("{durations}_bucket"), &[("le", "+Inf")]),
        7.0
    );
    assert!(after.donjon(&format!("{durations}_sum"), &[]) >= TIMEOUT.as_secs_f64());
}
