//! The `http-client` stack over real HTTP on loopback, on tokio's paused
//! clock: hyper-util's client behind donjon's balancing, timeout, retries
//! and load shedding, against `donjon_examples::backend` servers.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use donjon::load_shed::error::Overloaded;
use donjon::timeout::error::Elapsed;
use donjon::{BoxError, Service, ServiceExt};
use donjon_examples::backend::{Backend, Behaviour};
use donjon_examples::http_client::{ClientConfig, resilient};
use http::{Request, Response, StatusCode};

const FAST: Behaviour = Behaviour::healthy(Duration::from_millis(5), Duration::from_millis(5));

fn get() -> Request<Bytes> {
    Request::get("/work")
        .body(Bytes::new())
        .expect("a valid request")
}

/// Sends `count` requests one after the other and returns their results.
async fn send<S>(client: &mut S, count: usize) -> Vec<Result<Response<Bytes>, BoxError>>
where
    S: Service<Request<Bytes>, Response = Response<Bytes>, Error = BoxError>,
{
    let mut results = Vec::new();
    for _ in 0..count {
        let result = match client.ready().await {
            Ok(ready) => ready.call(get()).await,
            Err(error) => Err(error),
        };
        results.push(result);
    }
    results
}

fn successes(results: &[Result<Response<Bytes>, BoxError>]) -> usize {
    results
        .iter()
        .filter(|result| matches!(result, Ok(response) if response.status() == StatusCode::OK))
        .count()
}

/// An address where nothing listens: bound, then released.
async fn dead_address() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    listener.local_addr().expect("an address")
}

#[tokio::test(start_paused = true)]
async fn requests_are_spread_over_every_address_and_all_succeed() {
    let mut backends = Vec::new();
    for seed in 0..3 {
        backends.push(Backend::start("fast", FAST, seed).await.expect("a backend"));
    }
    let addrs: Vec<_> = backends.iter().map(Backend::addr).collect();
    let (mut client, stats) = resilient(&addrs, &ClientConfig::default());

    let results = send(&mut client, 150).await;
    assert_eq!(successes(&results), 150);
    for backend in &backends {
        assert!(
            backend.received() > 0,
            "every address gets traffic: {:?}",
            stats.attempts()
        );
    }
    let received: u64 = backends.iter().map(Backend::received).sum();
    assert_eq!(received, 150, "no retries were needed");
    assert_eq!(stats.retries(), 0);
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_until_an_attempt_succeeds() {
    let backend = Backend::start("flaky", FAST.failing(0.3), 7)
        .await
        .expect("a backend");
    let (mut client, stats) = resilient(&[backend.addr()], &ClientConfig::default());

    let results = send(&mut client, 100).await;
    // Without retries about 70 would succeed; with up to 3 retries, a
    // request fails only after 4 failures in a row.
    assert!(
        successes(&results) >= 97,
        "{} succeeded",
        successes(&results)
    );
    assert!(stats.retries() >= 20, "{} retries", stats.retries());
    assert_eq!(
        backend.received(),
        100 + stats.retries(),
        "each retry is one more request to the backend"
    );
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_caps_retries_when_the_backend_always_fails() {
    let backend = Backend::start("broken", FAST.failing(1.0), 1)
        .await
        .expect("a backend");
    let config = ClientConfig {
        retry_share: 0.2,
        min_retries_per_second: 0,
        ..ClientConfig::default()
    };
    let (mut client, stats) = resilient(&[backend.addr()], &config);

    let results = send(&mut client, 100).await;
    assert_eq!(successes(&results), 0);
    // 20% of 100 requests, instead of 3 retries each.
    assert!(stats.retries() <= 20, "{} retries", stats.retries());
    assert!(
        backend.received() <= 120,
        "the backend received {}",
        backend.received()
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_attempt_times_out() {
    let slow = Behaviour::healthy(Duration::from_secs(5), Duration::ZERO);
    let backend = Backend::start("slow", slow, 0).await.expect("a backend");
    let config = ClientConfig {
        timeout: Duration::from_millis(100),
        max_retries: 0,
        ..ClientConfig::default()
    };
    let (mut client, _stats) = resilient(&[backend.addr()], &config);

    let start = tokio::time::Instant::now();
    let results = send(&mut client, 1).await;
    let error = results[0].as_ref().expect_err("the attempt times out");
    assert!(error.is::<Elapsed>(), "{error}");
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn a_dead_address_is_ejected_and_costs_no_request() {
    let backend = Backend::start("fast", FAST, 0).await.expect("a backend");
    let dead = dead_address().await;
    let (mut client, stats) = resilient(&[backend.addr(), dead], &ClientConfig::default());

    let results = send(&mut client, 200).await;
    assert_eq!(
        successes(&results),
        200,
        "retries cover the refused attempts"
    );
    let attempts = stats.attempts();
    assert_eq!(attempts[1].0, dead);
    // Three refusals in a row open its breaker; it is probed again when each
    // open period (0.5 s, then 1 s, 2 s...) ends.
    assert!(
        attempts[1].1 < 20,
        "the dead address got {} attempts",
        attempts[1].1
    );
}

#[tokio::test(start_paused = true)]
async fn a_backend_going_down_mid_run_loses_no_request() {
    let steady = Backend::start("steady", FAST, 0).await.expect("a backend");
    let doomed = Backend::start("doomed", FAST, 1).await.expect("a backend");
    let (mut client, _stats) = resilient(&[steady.addr(), doomed.addr()], &ClientConfig::default());

    let mut results = send(&mut client, 50).await;
    assert!(doomed.received() > 0, "both backends served at first");
    doomed.go_down();
    results.extend(send(&mut client, 150).await);
    assert_eq!(successes(&results), 200);
}

#[tokio::test(start_paused = true)]
async fn beyond_the_concurrency_limit_requests_are_shed_at_once() {
    let slow = Behaviour::healthy(Duration::from_secs(1), Duration::ZERO);
    let backend = Backend::start("slow", slow, 0).await.expect("a backend");
    let config = ClientConfig {
        concurrency_limit: 2,
        timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    let (client, _stats) = resilient(&[backend.addr()], &config);

    let held: Vec<_> = (0..2)
        .map(|_| tokio::spawn(client.clone().oneshot(get())))
        .collect();
    // Let them take both permits.
    tokio::task::yield_now().await;
    let start = tokio::time::Instant::now();
    let error = client
        .clone()
        .oneshot(get())
        .await
        .expect_err("the third request is shed");
    assert!(error.is::<Overloaded>(), "{error}");
    assert_eq!(start.elapsed(), Duration::ZERO, "shed without waiting");
    for request in held {
        let response = request.await.expect("the task").expect("a response");
        assert_eq!(response.status(), StatusCode::OK);
    }
}
