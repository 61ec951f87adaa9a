//! Layers both ways: real tower layers inside a donjon `ServiceBuilder`
//! (`tower_layer`, `DonjonLayer`), and donjon layers and stacks handed to
//! code generic over `tower_layer::Layer` (`into_tower_layer`,
//! `TowerLayer`), each keeping its own behaviour and its own errors.

use std::time::Duration;

use donjon::tower_compat::{DonjonLayer, IntoDonjon};
use donjon::{Layer, ServiceBuilder};
use donjon_test::assert_request_eq;
use donjon_test::mock::Spawn as DonjonSpawn;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::assert_readiness_follows_mock;
use crate::{donjon_pair, tower_pair};

/// The timeout of the services under test.
const TIMEOUT: Duration = Duration::from_millis(100);
/// The last whole millisecond before [`TIMEOUT`].
const JUST_UNDER: Duration = Duration::from_millis(99);
/// The smallest step of tokio's timer.
const MS: Duration = Duration::from_millis(1);

/// A function appending `>tag` to a string, as a request or response map.
#[cfg(feature = "util")]
fn append(tag: &'static str) -> impl Fn(String) -> String + Clone {
    move |text: String| format!("{text}>{tag}")
}

// ----- tower layers in donjon -----

#[tokio::test(start_paused = true)]
async fn a_tower_timeout_in_a_donjon_builder_fires_with_the_paused_clock() {
    let (mock, mut handle) = donjon_pair();
    let mut service = DonjonSpawn::new(
        ServiceBuilder::new()
            .tower_layer(tower::timeout::TimeoutLayer::new(TIMEOUT))
            .service(mock),
    );
    assert_readiness_follows_mock(&mut service, &mut handle);

    // Answered in time: the response passes.
    let mut fast = task::spawn(service.call("fast"));
    assert_request_eq!(handle, "fast").send_response("ok");
    assert_eq!(assert_ready_ok!(fast.poll()), "ok");

    // Not answered: tower's timer, on tokio's paused clock, fires.
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut slow = task::spawn(service.call("slow"));
    let _unanswered = assert_request_eq!(handle, "slow");
    assert_pending!(slow.poll());
    advance(JUST_UNDER).await;
    assert_pending!(slow.poll(), "not before the timeout");
    advance(MS).await;
    assert!(slow.is_woken(), "tower's timer wakes the donjon caller");
    let error = assert_ready_err!(slow.poll());
    assert!(error.is::<tower::timeout::error::Elapsed>(), "{error}");
}

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_tower_timeout_inside_a_donjon_timeout_reports_towers_elapsed_unchanged() {
    let (mock, mut handle) = donjon_pair();
    let mut service = DonjonSpawn::new(
        ServiceBuilder::new()
            .timeout(TIMEOUT * 2)
            .tower_layer(tower::timeout::TimeoutLayer::new(TIMEOUT))
            .service(mock),
    );

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("slow"));
    let _unanswered = assert_request_eq!(handle, "slow");
    assert_pending!(response.poll());
    advance(TIMEOUT).await;

    let error = assert_ready_err!(response.poll());
    assert!(
        error.is::<tower::timeout::error::Elapsed>(),
        "the inner, tower timeout fired first: {error}"
    );
    assert!(
        !error.is::<donjon::timeout::error::Elapsed>(),
        "donjon's timeout passes the error on without replacing it"
    );
}

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_tower_concurrency_limit_in_a_donjon_builder_limits_a_donjon_mock() {
    let (mock, mut handle) = donjon_pair();
    let mut service = DonjonSpawn::new(
        ServiceBuilder::new()
            .tower_layer(tower::limit::ConcurrencyLimitLayer::new(1))
            .timeout(TIMEOUT)
            .service(mock),
    );
    handle.allow(u64::MAX);

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("first"));
    assert_pending!(
        service.poll_ready(),
        "tower's limit of one: the first call holds the permit"
    );
    let _unanswered = assert_request_eq!(handle, "first");

    // donjon's timeout, inside the limit, ends the first call.
    assert_pending!(first.poll());
    advance(TIMEOUT).await;
    let error = assert_ready_err!(first.poll());
    assert!(error.is::<donjon::timeout::error::Elapsed>(), "{error}");
    assert!(!error.is::<tower::timeout::error::Elapsed>());

    drop(first);
    assert!(service.is_woken(), "tower's permit comes back");
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    assert_pending!(service.poll_ready());
    assert_request_eq!(handle, "second").send_response("done");
    assert_eq!(assert_ready_ok!(second.poll()), "done");
    drop(second);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test]
async fn a_tower_concurrency_limit_in_a_donjon_builder_follows_the_mocks_readiness() {
    let (mut service, mut handle) = donjon_test::mock::spawn_layer(
        ServiceBuilder::new().tower_layer(tower::limit::ConcurrencyLimitLayer::new(1)),
    );

    assert_readiness_follows_mock(&mut service, &mut handle);
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn a_tower_load_shed_in_donjon_sheds_with_towers_overloaded() {
    let (mock, mut handle) = donjon_pair();
    let layer = DonjonLayer::new(tower::load_shed::LoadShedLayer::new());
    let mut service = DonjonSpawn::new(layer.layer(mock));

    handle.allow(0);
    assert_ready_ok!(
        service.poll_ready(),
        "tower's load shed never makes the caller wait"
    );
    let mut shed = task::spawn(service.call("shed"));
    let error = assert_ready_err!(shed.poll());
    assert!(error.is::<tower::load_shed::error::Overloaded>(), "{error}");
    assert!(handle.poll_request().is_pending(), "the mock saw nothing");

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut served = task::spawn(service.call("served"));
    assert_request_eq!(handle, "served").send_response("ok");
    assert_eq!(assert_ready_ok!(served.poll()), "ok");
}

#[cfg(feature = "util")]
#[tokio::test]
async fn tower_layer_goes_inside_the_layers_added_before_it() {
    use donjon::{BoxError, ServiceExt};

    let service = ServiceBuilder::new()
        .map_request(append("a"))
        .map_response(append("A"))
        .tower_layer(tower::util::MapRequestLayer::new(append("b")))
        .tower_layer(tower::util::MapResponseLayer::new(append("B")))
        .map_request(append("c"))
        .map_response(append("C"))
        .service_fn(|text: String| async move { Ok::<_, BoxError>(text) });

    let response = service.oneshot("x".to_string()).await.expect("no error");
    // In through a, b, c; out through C, B, A.
    assert_eq!(response, "x>a>b>c>C>B>A");
}

#[test]
fn donjon_layer_into_inner_gives_back_the_tower_layer() {
    let layer = DonjonLayer::new(tower::limit::ConcurrencyLimitLayer::new(3));
    let inner: tower::limit::ConcurrencyLimitLayer = layer.into_inner();
    assert_eq!(format!("{inner:?}"), "ConcurrencyLimitLayer { max: 3 }");
}

// ----- donjon layers in tower -----

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_donjon_stack_in_a_tower_builder_times_out_a_tower_service_fn_with_donjons_elapsed() {
    use donjon::BoxError;
    use tower::ServiceExt as _;
    use tower_service::Service as _;

    let stack = ServiceBuilder::new().timeout(TIMEOUT).into_tower_layer();
    let mut service =
        tower::ServiceBuilder::new()
            .layer(stack)
            .service_fn(|request: &'static str| async move {
                if request == "slow" {
                    std::future::pending::<()>().await;
                }
                Ok::<_, BoxError>(request)
            });

    let fast = service.ready().await.expect("ready").call("fast").await;
    assert_eq!(fast.expect("answered in time"), "fast");

    let mut slow = task::spawn(service.ready().await.expect("ready").call("slow"));
    assert_pending!(slow.poll());
    advance(JUST_UNDER).await;
    assert_pending!(slow.poll(), "not before the timeout");
    advance(MS).await;
    assert!(slow.is_woken());
    let error = assert_ready_err!(slow.poll());
    assert!(error.is::<donjon::timeout::error::Elapsed>(), "{error}");
    assert!(!error.is::<tower::timeout::error::Elapsed>());
}

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_donjon_timeout_layer_in_tower_layer_new_suits_code_generic_over_tower_layers() {
    use donjon::timeout::TimeoutLayer;
    use donjon::tower_compat::TowerLayer;
    use tower_test::mock::Spawn as TowerSpawn;

    use crate::expect_tower_request;

    /// Code that knows only tower: applies any tower layer.
    fn apply_tower_layer<L, S>(layer: L, service: S) -> L::Service
    where
        L: tower_layer::Layer<S>,
    {
        layer.layer(service)
    }

    let (mock, mut handle) = tower_pair();
    let layer = TowerLayer::new(TimeoutLayer::new(TIMEOUT));
    let mut service = TowerSpawn::new(apply_tower_layer(layer, mock));

    // The tower mock's readiness passes through donjon's timeout both ways.
    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("slow"));
    let _unanswered = expect_tower_request(&mut handle, "slow").await;
    assert_pending!(response.poll());
    advance(TIMEOUT).await;
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<donjon::timeout::error::Elapsed>(), "{error}");
}

#[cfg(feature = "load-shed")]
#[tokio::test]
async fn a_donjon_load_shed_handed_to_tower_sheds_with_donjons_overloaded() {
    use tower_test::mock::Spawn as TowerSpawn;

    use crate::expect_tower_request;

    let (mock, mut handle) = tower_pair();
    let mut service = TowerSpawn::new(
        tower::ServiceBuilder::new()
            .layer(ServiceBuilder::new().load_shed().into_tower_layer())
            .service(mock),
    );

    handle.allow(0);
    assert_ready_ok!(
        service.poll_ready(),
        "donjon's load shed never makes the caller wait"
    );
    let mut shed = task::spawn(service.call("shed"));
    let error = assert_ready_err!(shed.poll());
    assert!(
        error.is::<donjon::load_shed::error::Overloaded>(),
        "{error}"
    );
    assert!(!error.is::<tower::load_shed::error::Overloaded>());
    assert!(handle.poll_request().is_pending(), "the mock saw nothing");

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut served = task::spawn(service.call("served"));
    expect_tower_request(&mut handle, "served")
        .await
        .send_response("ok");
    assert_eq!(assert_ready_ok!(served.poll()), "ok");
}

#[cfg(feature = "limit")]
#[tokio::test]
async fn a_donjon_concurrency_limit_handed_to_tower_follows_readiness_and_reserves() {
    use crate::expect_tower_request;

    let (mut service, mut handle) = tower_test::mock::spawn_layer(
        ServiceBuilder::new()
            .concurrency_limit(1)
            .into_tower_layer(),
    );

    handle.allow(0);
    assert_pending!(service.poll_ready(), "pending while the tower mock is");
    handle.allow(2);
    assert!(service.is_woken(), "the tower mock's wake-up gets through");
    assert_ready_ok!(service.poll_ready());

    let mut first = task::spawn(service.call("first"));
    assert_pending!(service.poll_ready(), "donjon's limit of one applies");
    expect_tower_request(&mut handle, "first")
        .await
        .send_response("done");
    assert_eq!(assert_ready_ok!(first.poll()), "done");
    assert!(service.is_woken(), "donjon's permit comes back");
    assert_ready_ok!(service.poll_ready());
}

#[cfg(feature = "util")]
#[tokio::test]
async fn a_donjon_stack_sits_where_it_is_added_in_a_tower_builder() {
    use donjon::BoxError;
    use tower::ServiceExt as _;

    let donjon_stack = ServiceBuilder::new()
        .map_request(append("b"))
        .map_response(append("B"))
        .into_tower_layer();
    let service = tower::ServiceBuilder::new()
        .map_request(append("a"))
        .map_response(append("A"))
        .layer(donjon_stack)
        .map_request(append("c"))
        .map_response(append("C"))
        .service_fn(|text: String| async move { Ok::<_, BoxError>(text) });

    let response = service.oneshot("x".to_string()).await.expect("no error");
    // In through a, b, c; out through C, B, A.
    assert_eq!(response, "x>a>b>c>C>B>A");
}

#[test]
fn a_tower_service_in_a_donjon_builder_needs_only_into_donjon() {
    // A tower service as the innermost service of a donjon stack, with a
    // tower layer on top: no adapter type is named.
    let (mock, mut handle) = tower_pair();
    let mut service = DonjonSpawn::new(
        ServiceBuilder::new()
            .tower_layer(tower::limit::ConcurrencyLimitLayer::new(1))
            .service(mock.into_donjon()),
    );

    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    let _response = service.call("hello");
    assert_pending!(service.poll_ready(), "tower's limit of one applies");
}
