//! Integration tests of `donjon::throttle`: `Throttle`, `ThrottleLayer`,
//! `Throttled` and `ServiceBuilder::throttle`, on the paused clock, with
//! donjon-test mocks and `service_fn` backends.
#![cfg(all(feature = "throttle", feature = "util"))]

#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use donjon::classify::Outcome;
use donjon::throttle::error::Throttled;
use donjon::throttle::{Throttle, ThrottleLayer};
use donjon::{BoxError, Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use donjon_test::mock::{self, Spawn};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};

use support::{Boom, assert_readiness_follows_mock, take_request};

type Mock = mock::Mock<&'static str, &'static str>;

/// The book's formula, written out for the tests.
fn formula(requests: u32, accepts: u32, k: f64) -> f64 {
    ((f64::from(requests) - k * f64::from(accepts)) / (f64::from(requests) + 1.0)).max(0.0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// A backend that answers `Ok` for the requests `accept` says yes to, and
/// an error for the others, counting the requests that reach it.
fn backend(
    accept: impl Fn(u32) -> bool + Clone + Send + 'static,
) -> (
    impl Service<u32, Response = u32, Error = BoxError, Future = impl Send> + Clone + Send,
    Arc<AtomicUsize>,
) {
    let reached = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&reached);
    let service = service_fn(move |n: u32| {
        counted.fetch_add(1, Ordering::Relaxed);
        let accepted = accept(n);
        async move {
            if accepted {
                Ok(n)
            } else {
                Err::<u32, BoxError>(Boom("refused").into())
            }
        }
    });
    (service, reached)
}

/// Sends one request; `true` if the throttle refused it.
async fn send<S>(service: &mut S, n: u32) -> bool
where
    S: Service<u32, Response = u32, Error = BoxError>,
{
    match service.ready().await.unwrap().call(n).await {
        Ok(_) => false,
        Err(error) => error.is::<Throttled>(),
    }
}

// --- the formula, step by step ---

#[tokio::test(start_paused = true)]
async fn nothing_is_refused_while_the_backend_accepts_one_request_in_k() {
    // Every other request accepted, k = 2: requests - 2 × accepts <= 0.
    let (backend, reached) = backend(|n| n % 2 == 0);
    let mut client = ThrottleLayer::new().seed(1).layer(backend);
    for n in 0..200 {
        assert!(!send(&mut client, n).await, "request {n} refused");
        assert!(client.probability() <= formula(n + 1, n / 2 + 1, 2.0) + 1e-12);
    }
    assert_eq!(reached.load(Ordering::Relaxed), 200);
    assert_eq!(client.probability(), 0.0);
}

#[tokio::test(start_paused = true)]
async fn the_probability_follows_the_formula_after_each_request() {
    // Three accepted, then refusals. By hand, with k = 2:
    // after 3 accepted: (3 - 6) / 4 < 0 → 0;
    // after 4 refusals: (7 - 6) / 8 = 0.125; after 6: (9 - 6) / 10 = 0.3.
    let (backend, _) = backend(|n| n < 3);
    let mut client = ThrottleLayer::new().seed(3).layer(backend);
    let mut requests = 0;
    let mut accepts = 0;
    for n in 0..40 {
        let throttled = send(&mut client, n).await;
        requests += 1;
        if n < 3 {
            accepts += 1;
            assert!(!throttled);
        }
        let expected = formula(requests, accepts, 2.0);
        assert!(
            close(client.probability(), expected),
            "after request {n}: {} against {expected}",
            client.probability()
        );
        match n {
            2 => assert_eq!(client.probability(), 0.0),
            6 => assert!(close(client.probability(), 0.125)),
            8 => assert!(close(client.probability(), 0.3)),
            _ => {}
        }
    }
}

#[tokio::test(start_paused = true)]
async fn k_sets_how_many_accepts_a_request_needs() {
    // k = 1.5 with 40% accepted: (10 - 1.5 × 4) / 11 = 4/11 after ten.
    let (backend, _) = backend(|n| n % 5 < 2);
    let mut client = ThrottleLayer::new().k(1.5).seed(5).layer(backend);
    // The first ten are drawn against a probability that stays below 1:
    // count by hand whatever the draws decide.
    let mut requests = 0;
    let mut accepts = 0;
    for n in 0..10 {
        let throttled = send(&mut client, n).await;
        requests += 1;
        if !throttled && n % 5 < 2 {
            accepts += 1;
        }
    }
    assert!(close(client.probability(), formula(requests, accepts, 1.5)));
    if accepts == 4 {
        assert!(close(client.probability(), 4.0 / 11.0));
    }
}

#[tokio::test(start_paused = true)]
async fn against_a_backend_that_refuses_everything_almost_nothing_leaves() {
    // After n requests the probability is n / (n + 1): request n + 1
    // leaves with probability 1 / (n + 1), so of 1,000 requests about
    // 1 + 1/2 + ... + 1/1000 ≈ 7.5 reach the backend.
    let (backend, reached) = backend(|_| false);
    let mut client = ThrottleLayer::new().seed(11).layer(backend);
    let mut throttled = 0;
    for n in 0..1_000 {
        if send(&mut client, n).await {
            throttled += 1;
        }
    }
    let reached = reached.load(Ordering::Relaxed);
    assert_eq!(throttled + reached, 1_000);
    assert!((1..=30).contains(&reached), "{reached} reached the backend");
    assert!(close(client.probability(), 1_000.0 / 1_001.0));
}

// --- the window ---

#[tokio::test(start_paused = true)]
async fn counts_expire_with_their_spans() {
    // A minute in 6 spans of 10 s.
    let (backend, reached) = backend(|n| n >= 100);
    let mut client = ThrottleLayer::new()
        .window(Duration::from_secs(60), 6)
        .seed(2)
        .layer(backend);
    for n in 0..10 {
        send(&mut client, n).await;
    }
    assert!(close(client.probability(), 10.0 / 11.0));

    // 50 s on, the first span has not expired: nothing changes.
    advance(Duration::from_secs(50)).await;
    assert!(close(client.probability(), 10.0 / 11.0));
    // At 60 s it has, and the window is empty: nothing is refused.
    advance(Duration::from_secs(10)).await;
    assert_eq!(client.probability(), 0.0);
    let before = reached.load(Ordering::Relaxed);
    assert!(!send(&mut client, 100).await);
    assert_eq!(reached.load(Ordering::Relaxed), before + 1);
    assert_eq!(client.probability(), 0.0);
}

#[tokio::test(start_paused = true)]
async fn recovery_lowers_the_probability_as_accepts_come_back() {
    let healthy = Arc::new(AtomicUsize::new(0));
    let flag = Arc::clone(&healthy);
    let (backend, _) = backend(move |_| flag.load(Ordering::Relaxed) == 1);
    let mut client = ThrottleLayer::new().seed(9).layer(backend);
    for n in 0..50 {
        send(&mut client, n).await;
    }
    let during = client.probability();
    assert!(during > 0.9);

    healthy.store(1, Ordering::Relaxed);
    // Requests still trickle through; each accepted one lowers the
    // probability, until, once the outage's spans expire, none is refused.
    for n in 0..500 {
        send(&mut client, n).await;
    }
    assert!(client.probability() < during);
    advance(Duration::from_secs(120)).await;
    assert_eq!(client.probability(), 0.0);
    for n in 0..20 {
        assert!(!send(&mut client, n).await);
    }
}

// --- outcomes ---

#[tokio::test(start_paused = true)]
async fn the_classifier_decides_what_counts_as_accepted_and_ignored_outcomes_count_nowhere() {
    // Responses above 10 are refusals; errors say nothing.
    let service = service_fn(|n: u32| async move {
        if n == 0 {
            Err::<u32, BoxError>("cancelled".into())
        } else {
            Ok(n)
        }
    });
    let mut client = ThrottleLayer::new()
        .classify(|result: &Result<u32, BoxError>| match result {
            Ok(n) if *n > 10 => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Ignored,
        })
        .seed(4)
        .layer(service);

    for _ in 0..5 {
        assert!(client.ready().await.unwrap().call(0).await.is_err());
    }
    assert_eq!(client.probability(), 0.0, "ignored: no count");
    client.ready().await.unwrap().call(50).await.unwrap();
    assert!(
        close(client.probability(), formula(1, 0, 2.0)),
        "a refusal: 1/2"
    );
}

#[tokio::test(start_paused = true)]
async fn a_throttled_request_never_reaches_the_backend_and_counts_as_a_request() {
    let (service, mut handle) = mock::spawn_layer::<&str, &str, _>(ThrottleLayer::new().seed(6));
    let mut service: Spawn<Throttle<Mock>> = service;
    // One refusal makes the probability 1/2.
    handle.allow(100);
    assert_ready_ok!(service.poll_ready());
    let response = service.call("a");
    take_request(&mut handle).1.send_error(Boom("no"));
    assert!(response.await.is_err());
    assert!(close(service.get_ref().probability(), 0.5));

    // Draw until one is refused; the mock sees only the admitted ones.
    let mut sent = 0;
    loop {
        handle.allow(0);
        let refused = service.poll_ready().is_ready();
        if refused {
            let error = service.call("b").await.unwrap_err();
            let throttled = error.downcast_ref::<Throttled>().expect("throttled");
            assert!(throttled.probability() > 0.0);
            assert!(
                handle.poll_request().is_pending(),
                "nothing reached the mock"
            );
            break;
        }
        // Admitted: the mock is not ready, so neither is the throttle. The
        // backend refuses it too.
        handle.allow(1);
        assert_ready_ok!(service.poll_ready());
        let response = service.call("c");
        take_request(&mut handle).1.send_error(Boom("no"));
        assert!(response.await.is_err());
        sent += 1;
        assert!(sent < 100, "never refused");
    }
    // Requests: 1 + `sent` refused by the backend, 1 throttled; no accept.
    assert!(close(
        service.get_ref().probability(),
        formula(2 + sent, 0, 2.0)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_response_future_counts_nowhere() {
    let (service, mut handle) = mock::spawn_layer::<&str, &str, _>(ThrottleLayer::new().seed(8));
    let mut service: Spawn<Throttle<Mock>> = service;
    handle.allow(100);
    for _ in 0..5 {
        assert_ready_ok!(service.poll_ready());
        drop(service.call("dropped"));
        drop(take_request(&mut handle));
    }
    assert_eq!(
        service.get_ref().probability(),
        0.0,
        "counted as refusals it would be 5/6"
    );
    assert_ready_ok!(service.poll_ready());
    let response = service.call("a");
    take_request(&mut handle).1.send_error(Boom("no"));
    assert!(response.await.is_err());
    assert!(
        close(service.get_ref().probability(), 0.5),
        "one request counted"
    );
}

#[tokio::test(start_paused = true)]
async fn inner_errors_reach_the_caller_unchanged() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(ThrottleLayer::new().seed(1));
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let response = service.call("a");
    take_request(&mut handle).1.send_error(Boom("inner"));
    let error = response.await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("inner")));

    // A readiness error too, and the throttle decides afresh after it.
    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
}

// --- readiness ---

#[tokio::test(start_paused = true)]
async fn readiness_follows_the_inner_service_while_nothing_is_refused() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(ThrottleLayer::new().seed(1));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
    // Pending again, and a call once ready reaches the mock.
    let response = service.call("a");
    handle.allow(0);
    take_request(&mut handle).1.send_response("b");
    assert_eq!(response.await.unwrap(), "b");
    assert_pending!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_inner_service_fails_readiness() {
    let (mut service, handle) = mock::spawn_layer::<&str, &str, _>(ThrottleLayer::new());
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<mock::error::Closed>(), "{error}");
}

// --- sharing and seeds ---

#[tokio::test(start_paused = true)]
async fn clones_share_the_window() {
    let (refusing, _) = backend(|_| false);
    let mut first = ThrottleLayer::new().seed(12).layer(refusing);
    let second = first.clone();
    for n in 0..4 {
        send(&mut first, n).await;
    }
    assert!(close(second.probability(), 0.8));
    // Each service the layer wraps has a window of its own.
    let (other_backend, _) = backend(|_| false);
    let other = ThrottleLayer::new().layer(other_backend);
    assert_eq!(other.probability(), 0.0);
}

#[tokio::test(start_paused = true)]
async fn a_seed_repeats_the_draws_and_another_seed_does_not() {
    async fn run(seed: u64) -> Vec<bool> {
        let (backend, _) = backend(|n| n % 4 == 0);
        let mut client = ThrottleLayer::new().seed(seed).layer(backend);
        let mut outcomes = Vec::new();
        for n in 0..300 {
            outcomes.push(send(&mut client, n).await);
        }
        outcomes
    }
    let first = run(21).await;
    assert!(first.contains(&true) && first.contains(&false));
    assert_eq!(run(21).await, first);
    assert_ne!(run(22).await, first);
}

#[tokio::test(start_paused = true)]
async fn the_builder_adds_a_throttle_with_the_defaults() {
    let (backend, _) = backend(|_| true);
    let client = ServiceBuilder::new().throttle().service(backend);
    assert_eq!(client.oneshot(7).await.unwrap(), 7);
}

// --- misuse ---

#[test]
#[should_panic(expected = "a throttle's k is at least 1")]
fn a_k_below_one_panics() {
    let _ = ThrottleLayer::new().k(0.5);
}

#[test]
#[should_panic(expected = "a throttle's k is at least 1")]
fn a_k_that_is_not_a_number_panics() {
    let _ = ThrottleLayer::new().k(f64::NAN);
}

#[test]
#[should_panic(expected = "a throttle's window needs a length and at least one span")]
fn an_empty_window_panics() {
    let _ = ThrottleLayer::new().window(Duration::ZERO, 4);
}

#[test]
#[should_panic(expected = "a throttle's window needs a length and at least one span")]
fn a_window_of_no_spans_panics() {
    let _ = ThrottleLayer::new().window(Duration::from_secs(1), 0);
}

#[tokio::test]
#[should_panic(expected = "Throttle called before it was ready")]
async fn a_call_without_readiness_panics() {
    let (mut service, _handle) = mock::spawn_layer::<&str, &str, _>(ThrottleLayer::new());
    drop(service.call("a"));
}

#[test]
fn its_types_are_send_sync_and_unpin() {
    support::assert_send::<Throttle<Mock>>();
    support::assert_sync::<Throttle<Mock>>();
    support::assert_unpin::<Throttle<Mock>>();
    support::assert_send::<<Throttle<Mock> as Service<&str>>::Future>();
    support::assert_send::<Throttled>();
    support::assert_sync::<Throttled>();
}
