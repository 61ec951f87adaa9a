//! `service_fn` / `ServiceFn`.

use std::any::type_name_of_val;
use std::future::ready;

use donjon::util::ServiceFn;
use donjon::{BoxError, Service, ServiceExt, service_fn};
use donjon_test::mock::Spawn;
use tokio_test::{assert_ready_err, assert_ready_ok, task};

use crate::support::Tally;

#[tokio::test]
async fn service_fn_answers_with_what_the_closure_returns() {
    let add_one = service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) });
    assert_eq!(add_one.oneshot(41).await.unwrap(), 42);
}

#[test]
fn service_fn_is_always_ready_without_running_the_closure() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let mut service = Spawn::new(service_fn(move |n: u32| {
        closure_tally.bump();
        ready(Ok::<_, BoxError>(n))
    }));

    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
    }
    assert!(!service.is_woken());
    assert_eq!(tally.get(), 0);
}

#[test]
fn service_fn_runs_the_closure_once_per_call_at_call_time() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let mut service = service_fn(move |n: u32| {
        closure_tally.bump();
        ready(Ok::<_, BoxError>(n * 2))
    });

    let first = service.call(1);
    assert_eq!(tally.get(), 1, "the closure runs when `call` is made");
    let second = service.call(2);
    assert_eq!(tally.get(), 2);

    assert_eq!(assert_ready_ok!(task::spawn(first).poll()), 2);
    assert_eq!(assert_ready_ok!(task::spawn(second).poll()), 4);
    assert_eq!(tally.get(), 2);
}

#[test]
fn service_fn_closure_state_persists_across_calls() {
    let mut seen = 0;
    let mut service = service_fn(move |n: u32| {
        seen += n;
        ready(Ok::<_, BoxError>(seen))
    });
    assert_eq!(assert_ready_ok!(task::spawn(service.call(1)).poll()), 1);
    assert_eq!(assert_ready_ok!(task::spawn(service.call(2)).poll()), 3);
}

#[test]
fn service_fn_resolves_to_the_closure_error() {
    let mut service = service_fn(|text: &str| ready(text.parse::<u8>()));
    let error = assert_ready_err!(task::spawn(service.call("300")).poll());
    assert_eq!(error.to_string(), "number too large to fit in target type");
}

/// Clones through the `Clone` impl even for a `Copy` type.
fn duplicate<T: Clone>(value: &T) -> T {
    value.clone()
}

#[test]
fn service_fn_is_copy_and_clone_when_the_closure_is() {
    let service = service_fn(|n: u32| ready(Ok::<_, BoxError>(n)));
    let mut copy = service;
    let mut clone = duplicate(&service);
    assert_eq!(assert_ready_ok!(task::spawn(copy.call(1)).poll()), 1);
    assert_eq!(assert_ready_ok!(task::spawn(clone.call(2)).poll()), 2);
}

#[test]
fn service_fn_debug_prints_the_closure_type_name() {
    let closure = |n: u32| ready(Ok::<_, BoxError>(n));
    let expected = format!("ServiceFn {{ f: {} }}", type_name_of_val(&closure));
    let service: ServiceFn<_> = donjon::util::service_fn(closure);
    assert_eq!(format!("{service:?}"), expected);
    assert!(expected.contains("service_fn_debug_prints_the_closure_type_name"));
}
