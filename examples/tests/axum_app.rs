//! The `axum-app` example over real HTTP on loopback: donjon layers and
//! tower-http layers in one axum stack.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use donjon_examples::axum_app::{Hold, app};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Serves the app on a loopback port; returns its base URL and a client.
async fn start(hold: Arc<Hold>, concurrency: usize, timeout: Duration) -> (String, HttpClient) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        axum::serve(listener, app(hold, concurrency, timeout))
            .await
            .expect("the server runs");
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
