//! The `http-server` example over real HTTP on loopback: a hyper client
//! against the donjon-wrapped hyper server.

use std::time::Duration;

use bytes::Bytes;
use donjon_examples::http_server::{Limits, Server, spawn};
use http::StatusCode;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

async fn start(limits: Limits) -> (Server, HttpClient) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let server = spawn(listener, limits).expect("the server starts");
    let client = Client::builder(TokioExecutor::new()).build_http();
    (server, client)
}

/// Sends `GET path` and returns the status and body.
async fn get(client: &HttpClient, server: &Server, path: &str) -> (StatusCode, String) {
    let uri = format!("http://{}{path}", server.addr)
        .parse()
        .expect("a valid URI");
    let response = client.get(uri).await.expect("the server answers");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body arrives")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_request_within_the_limits_is_served() {
    let (server, client) = start(Limits::default()).await;
    assert_eq!(
        get(&client, &server, "/").await,
        (StatusCode::OK, "hello\n".to_owned())
    );
    assert_eq!(
        get(&client, &server, "/nowhere").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn overload_gets_503_at_once_and_held_requests_still_complete() {
    let limits = Limits {
        concurrency: 2,
        timeout: Duration::from_secs(3600),
        ..Limits::default()
    };
    let (mut server, client) = start(limits).await;

    // Two requests take both permits and are held by the handler.
    let held: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            let uri = format!("http://{}/hold", server.addr);
            tokio::spawn(async move {
                let response = client.get(uri.parse().expect("a valid URI")).await;
                response.expect("the server answers").status()
            })
        })
        .collect();
    server
        .holding
        .wait_for(|count| *count == 2)
        .await
        .expect("the server runs");

    // While they are held, a third request is shed at once: it gets its 503
    // before anything is released.
    let (status, body) = get(&client, &server, "/").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, "overloaded, try again later\n");
    assert_eq!(
        *server.holding.borrow(),
        2,
        "the held requests are still held"
    );

    // Nothing is lost: the held requests complete, and capacity comes back.
    server.release.notify_waiters();
    for request in held {
        assert_eq!(request.await.expect("the client task"), StatusCode::OK);
    }
    assert_eq!(get(&client, &server, "/").await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_rate_limit_holds() {
    let limits = Limits {
        rate: 3,
        // A window far longer than the test: no request is let through by
        // the window ending.
        per: Duration::from_secs(3600),
        ..Limits::default()
    };
    let (server, client) = start(limits).await;
    for _ in 0..3 {
        assert_eq!(get(&client, &server, "/").await.0, StatusCode::OK);
    }
    for _ in 0..3 {
        assert_eq!(
            get(&client, &server, "/").await.0,
            StatusCode::SERVICE_UNAVAILABLE,
            "over the rate, requests are shed"
        );
    }
}

// With the paused clock, the runtime moves time to the next timer whenever
// it has nothing else to do: the 10 s timeout passes at once.
#[tokio::test(start_paused = true)]
async fn a_slow_handler_times_out_with_504() {
    let limits = Limits {
        timeout: Duration::from_secs(10),
        ..Limits::default()
    };
    let (server, client) = start(limits).await;
    let (status, body) = get(&client, &server, "/hold").await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body, "timed out\n");
    // The timed-out request released its permit: the next one is served.
    assert_eq!(get(&client, &server, "/").await.0, StatusCode::OK);
}
