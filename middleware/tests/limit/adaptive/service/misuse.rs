//! Misuse and bad configuration: calls without a reserved slot, and bounds out of order.

use super::*;

#[test]
#[should_panic(
    expected = "AdaptiveConcurrencyLimit called without a reserved slot; poll_ready must be called first"
)]
fn call_without_poll_ready_panics() {
    let (mut service, _handle, _limits) = new_service(scripted(&Script::new(), 1));
    drop(service.call("hello"));
}

#[test]
#[should_panic(
    expected = "AdaptiveConcurrencyLimit called without a reserved slot; poll_ready must be called first"
)]
fn call_while_poll_ready_is_pending_panics() {
    let (mut service, _handle, _limits) = new_service(scripted(&Script::new(), 1));
    let mut other = service.clone();
    assert_ready_ok!(service.poll_ready());
    assert_pending!(other.poll_ready());
    drop(other.call("hello"));
}

#[test]
#[should_panic(expected = "an adaptive concurrency limit's minimum limit must be at least 1")]
fn a_minimum_limit_of_zero_panics() {
    let _ = AdaptiveConcurrencyLimitLayer::new(Script::new()).with_min_limit(0);
}

#[test]
#[should_panic(
    expected = "an adaptive concurrency limit's minimum limit (10) must not be above its maximum (5)"
)]
fn a_minimum_above_the_maximum_panics_when_wrapping_a_service() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Script::new())
        .with_min_limit(10)
        .with_max_limit(5);
    let _ = layer.layer(());
}

#[test]
#[should_panic(
    expected = "an adaptive concurrency limit's initial limit (50) must be between its minimum (1) and its maximum (10)"
)]
fn an_initial_limit_above_the_maximum_panics_when_wrapping_a_service() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Script::new())
        .with_initial_limit(50)
        .with_max_limit(10);
    let _ = layer.layer(());
}

#[test]
#[should_panic(
    expected = "an adaptive concurrency limit's initial limit (2) must be between its minimum (3) and its maximum (1000)"
)]
fn an_initial_limit_below_the_minimum_panics_when_wrapping_a_service() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Script::new())
        .with_initial_limit(2)
        .with_min_limit(3);
    let _ = layer.layer(());
}
