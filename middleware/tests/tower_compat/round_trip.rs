//! Round trips: a donjon service made a tower service and back again (and a
//! tower service made a donjon one and back) behaves like the original, and
//! so do layers sent both ways.

use std::future::Ready;

use donjon::Service;
use donjon::tower_compat::{DonjonService, IntoDonjon, IntoTower, TowerService};
use donjon_test::assert_request_eq;
use donjon_test::mock::Spawn as DonjonSpawn;
use donjon_test::mock::error::Closed;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower_test::mock::Spawn as TowerSpawn;

use crate::support::{Boom, Broken, Counting, assert_readiness_follows_mock};
use crate::{Mock, Prefix, TowerPrefix, donjon_pair, expect_tower_request, tower_pair};

#[tokio::test]
async fn a_donjon_mock_into_tower_into_donjon_behaves_like_the_mock() {
    let (mock, mut handle) = donjon_pair();
    let mut service = DonjonSpawn::new(mock.into_tower().into_donjon());

    assert_readiness_follows_mock(&mut service, &mut handle);
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert_pending!(service.poll_ready(), "the one call allowed is spent");

    handle.allow(1);
    assert!(service.is_woken());
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "{error}");
}

#[tokio::test]
async fn a_tower_mock_into_donjon_into_tower_behaves_like_the_mock() {
    let (mock, mut handle) = tower_pair();
    let mut service = TowerSpawn::new(mock.into_donjon().into_tower());

    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    expect_tower_request(&mut handle, "hello")
        .await
        .send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert_pending!(service.poll_ready(), "the one call allowed is spent");
}

#[test]
fn a_round_trip_keeps_the_types_and_the_errors() {
    /// Compiles only if the round trip has exactly `Broken`'s associated
    /// types.
    fn assert_types<S>(_: &S)
    where
        S: Service<&'static str, Response = &'static str, Error = Boom>,
        S: Service<&'static str, Future = Ready<Result<&'static str, Boom>>>,
    {
    }

    let mut cx = task::spawn(());

    let mut not_ready = Broken { ready: false }.into_tower().into_donjon();
    assert_types(&not_ready);
    let error: Boom =
        assert_ready_err!(cx.enter(|cx, _| Service::<&str>::poll_ready(&mut not_ready, cx)));
    assert_eq!(error, Boom("readiness"));

    let mut failing = Broken { ready: true }.into_tower().into_donjon();
    assert_ready_ok!(cx.enter(|cx, _| Service::<&str>::poll_ready(&mut failing, cx)));
    let mut response = task::spawn(failing.call("hello"));
    assert_eq!(assert_ready_err!(response.poll()), Boom("response"));
}

#[test]
fn each_poll_and_call_crosses_each_adapter_exactly_once() {
    // donjon `Counting` -> `TowerService` -> donjon `Counting` ->
    // `DonjonService` -> tower `TowerPrefix`: the counters see every poll
    // and every call made on the outside, no more and no fewer.
    let inner = Counting::new(TowerPrefix("p:".to_string()).into_donjon());
    let inner_counts = inner.counts();
    let outer = Counting::new(inner.into_tower().into_donjon());
    let outer_counts = outer.counts();
    let mut service = DonjonSpawn::new(outer);

    for round in 1..=3 {
        assert_ready_ok!(service.poll_ready());
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("x"));
        assert_eq!(assert_ready_ok!(response.poll()), "p:x");
        for counts in [&outer_counts, &inner_counts] {
            assert_eq!(counts.poll_ready(), 2 * round);
            assert_eq!(counts.calls(), round);
        }
    }
}

#[test]
fn into_inner_twice_gives_back_the_original_service_and_its_state() {
    let mut service = Prefix("a:".to_string()).into_tower().into_donjon();
    service.get_mut().get_mut().0.push_str("b:");

    let mut cx = task::spawn(());
    assert_ready_ok!(cx.enter(|cx, _| service.poll_ready(cx)));
    let mut response = task::spawn(service.call("c"));
    assert_eq!(assert_ready_ok!(response.poll()), "a:b:c");

    let back: Prefix = service.into_inner().into_inner();
    assert_eq!(back, Prefix("a:b:".to_string()));
}

#[test]
fn a_round_trip_is_as_the_adapters_compose_it() {
    let (mock, _handle) = donjon_pair();
    let service: DonjonService<TowerService<Mock>> = mock.into_tower().into_donjon();
    assert!(
        format!("{service:?}").starts_with("DonjonService { inner: TowerService { inner: Mock {"),
        "{service:?}"
    );
}

#[cfg(feature = "limit")]
#[tokio::test]
async fn a_donjon_concurrency_limit_keeps_its_reservations_through_a_round_trip() {
    use donjon::limit::ConcurrencyLimit;

    let (mock, mut handle) = donjon_pair();
    let mut service = DonjonSpawn::new(ConcurrencyLimit::new(mock, 1).into_tower().into_donjon());

    assert_ready_ok!(service.poll_ready());
    assert_ready_ok!(service.poll_ready(), "no second permit is taken");
    let first = task::spawn(service.call("first"));
    assert_pending!(service.poll_ready());
    let _unanswered = assert_request_eq!(handle, "first");

    drop(first);
    assert!(
        service.is_woken(),
        "the dropped response gives the permit back"
    );
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    assert_request_eq!(handle, "second").send_response("done");
    assert_eq!(assert_ready_ok!(second.poll()), "done");
}

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_donjon_layer_sent_to_tower_and_back_still_applies() {
    use std::time::Duration;

    use donjon::Layer;
    use donjon::timeout::TimeoutLayer;
    use donjon::timeout::error::Elapsed;
    use donjon::tower_compat::{DonjonLayer, TowerLayer};

    let layer = DonjonLayer::new(TowerLayer::new(TimeoutLayer::new(Duration::from_millis(
        100,
    ))));
    let (mock, mut handle) = donjon_pair();
    let mut service = DonjonSpawn::new(layer.layer(mock));

    assert_readiness_follows_mock(&mut service, &mut handle);
    let mut response = task::spawn(service.call("hello"));
    let _unanswered = assert_request_eq!(handle, "hello");
    assert_pending!(response.poll());

    tokio::time::advance(Duration::from_millis(99)).await;
    assert_pending!(response.poll(), "not before the timeout");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Elapsed>(), "{error}");
}

#[tokio::test]
async fn a_tower_layer_sent_to_donjon_and_back_still_applies() {
    use donjon::tower_compat::{DonjonLayer, TowerLayer};

    let layer = TowerLayer::new(DonjonLayer::new(tower::limit::ConcurrencyLimitLayer::new(
        1,
    )));
    let (mut service, mut handle) = tower_test::mock::spawn_layer(layer);

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("first"));
    assert_pending!(service.poll_ready(), "tower's limit of one applies");

    expect_tower_request(&mut handle, "first")
        .await
        .send_response("done");
    assert_eq!(assert_ready_ok!(first.poll()), "done");
    drop(first);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}
