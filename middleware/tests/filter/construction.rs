//! Building filters (constructors, layers, `ServiceBuilder`, `ServiceExt`),
//! `check`, the accessors, custom predicates and `Debug`.

use std::future::{Ready, ready};
use std::num::ParseIntError;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use donjon::filter::{
    AsyncFilter, AsyncFilterLayer, AsyncPredicate, Filter, FilterLayer, Predicate,
};
use donjon::{BoxError, Service, ServiceBuilder};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Handle, Mock, Spawn};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::{Gated, Rejected, gate, gated, parse};

/// Checks that `service` parses text into numbers in front of the mock
/// behind `handle`: a number reaches it, anything else is rejected.
async fn assert_parses<S>(mut service: Spawn<S>, mut handle: Handle<u32, String>)
where
    S: Service<&'static str, Response = String, Error = BoxError>,
{
    assert_ready_ok!(service.poll_ready());
    let mut rejected = task::spawn(service.call("twelve"));
    let err = assert_ready_err!(rejected.poll());
    assert!(err.is::<ParseIntError>(), "unexpected error: {err}");

    let mut accepted = task::spawn(service.call("12"));
    assert_pending!(accepted.poll());
    assert_request_eq!(handle, 12).send_response("twelve".to_string());
    assert_eq!(assert_ready_ok!(accepted.poll()), "twelve");
}

/// Checks that `service` waits for each request's gate in front of the mock
/// behind `handle`: an open gate lets the request through, a shut one
/// rejects it.
async fn assert_gates<S>(mut service: Spawn<S>, mut handle: Handle<String, String>)
where
    S: Service<Gated, Response = String, Error = BoxError>,
{
    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(1);
    let mut rejected = task::spawn(service.call(request));
    assert_pending!(rejected.poll());
    open.send(false).unwrap();
    let err = assert_ready_err!(rejected.poll());
    assert_eq!(err.downcast_ref::<Rejected>(), Some(&Rejected("gate shut")));

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(2);
    let mut accepted = task::spawn(service.call(request));
    assert_pending!(accepted.poll());
    open.send(true).unwrap();
    assert_pending!(accepted.poll());
    assert_request_eq!(handle, "2").send_response("two".to_string());
    assert_eq!(assert_ready_ok!(accepted.poll()), "two");
}

#[tokio::test]
async fn filter_new_wraps_the_service() {
    let (service, handle) = mock::spawn_with(|mock| Filter::new(mock, parse()));
    assert_parses(service, handle).await;
}

#[tokio::test]
async fn filter_layer_new_builds_a_filter() {
    let (service, handle) = mock::spawn_layer(FilterLayer::new(parse()));
    let _: &Filter<Mock<u32, String>, _> = service.get_ref();
    assert_parses(service, handle).await;
}

#[tokio::test]
async fn filter_layer_builds_a_filter() {
    let (service, handle) = mock::spawn_layer(Filter::<(), _>::layer(parse()));
    let _: &Filter<Mock<u32, String>, _> = service.get_ref();
    assert_parses(service, handle).await;
}

#[tokio::test]
async fn a_filter_layer_can_be_applied_more_than_once() {
    let layer = FilterLayer::new(parse());
    let (first, first_handle) = mock::spawn_layer(layer.clone());
    let (second, second_handle) = mock::spawn_layer(layer);
    assert_parses(first, first_handle).await;
    assert_parses(second, second_handle).await;
}

#[tokio::test]
async fn service_builder_filter_adds_a_filter_layer() {
    let builder = ServiceBuilder::new().filter(parse());
    let (service, handle) = mock::spawn_with(|mock| builder.service(mock));
    let _: &Filter<Mock<u32, String>, _> = service.get_ref();
    assert_parses(service, handle).await;
}

#[tokio::test]
async fn service_builder_filters_apply_outermost_first() {
    let trim = |text: &'static str| Ok::<_, Rejected>(text.trim());
    let builder = ServiceBuilder::new().filter(trim).filter(parse());
    let (mut service, mut handle) = mock::spawn_with(|mock| builder.service(mock));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("  12 "));
    assert_request_eq!(handle, 12).send_response("twelve".to_string());
    assert_eq!(assert_ready_ok!(response.poll()), "twelve");
}

#[cfg(feature = "util")]
#[tokio::test]
async fn service_ext_filter_wraps_the_service() {
    use donjon::ServiceExt;

    let (service, handle) = mock::spawn_with(|mock: Mock<u32, String>| mock.filter(parse()));
    let _: &Filter<Mock<u32, String>, _> = service.get_ref();
    assert_parses(service, handle).await;
}

#[tokio::test]
async fn async_filter_new_wraps_the_service() {
    let (service, handle) = mock::spawn_with(|mock| AsyncFilter::new(mock, gated()));
    assert_gates(service, handle).await;
}

#[tokio::test]
async fn async_filter_layer_new_builds_an_async_filter() {
    let (service, handle) = mock::spawn_layer(AsyncFilterLayer::new(gated()));
    let _: &AsyncFilter<Mock<String, String>, _> = service.get_ref();
    assert_gates(service, handle).await;
}

#[tokio::test]
async fn async_filter_layer_returns_the_synchronous_filter_layer() {
    // Tower's signature: `AsyncFilter::layer` builds a `FilterLayer`, so it
    // takes a synchronous predicate and wraps services in a `Filter`.
    let layer: FilterLayer<_> = AsyncFilter::<(), _>::layer(parse());
    let (service, handle) = mock::spawn_layer(layer);
    let _: &Filter<Mock<u32, String>, _> = service.get_ref();
    assert_parses(service, handle).await;
}

#[tokio::test]
async fn service_builder_filter_async_adds_an_async_filter_layer() {
    let builder = ServiceBuilder::new().filter_async(gated());
    let (service, handle) = mock::spawn_with(|mock| builder.service(mock));
    let _: &AsyncFilter<Mock<String, String>, _> = service.get_ref();
    assert_gates(service, handle).await;
}

#[cfg(feature = "util")]
#[tokio::test]
async fn service_ext_filter_async_wraps_the_service() {
    use donjon::ServiceExt;

    let (service, handle) =
        mock::spawn_with(|mock: Mock<String, String>| mock.filter_async(gated()));
    let _: &AsyncFilter<Mock<String, String>, _> = service.get_ref();
    assert_gates(service, handle).await;
}

#[test]
fn filter_check_runs_the_predicate_only() {
    let (mock, mut handle) = mock::pair::<u32, String>();
    let mut filter = Filter::new(mock, parse());

    // Checking neither polls nor calls the mock (a call without a
    // reservation would panic).
    assert_eq!(filter.check("5").unwrap(), 5);
    let err = filter.check("five").unwrap_err();
    assert!(err.is::<ParseIntError>(), "unexpected error: {err}");

    drop(filter);
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
}

#[test]
fn async_filter_check_runs_the_predicate_only() {
    let (mock, mut handle) = mock::pair::<String, String>();
    let mut filter = AsyncFilter::new(mock, gated());

    let (open, request) = gate(5);
    let mut check = task::spawn(filter.check(request));
    assert_pending!(check.poll());
    open.send(true).unwrap();
    assert!(check.is_woken());
    assert_eq!(assert_ready_ok!(check.poll()), "5");
    drop(check);

    let (open, request) = gate(6);
    open.send(false).unwrap();
    let mut check = task::spawn(filter.check(request));
    let err = assert_ready_err!(check.poll());
    assert_eq!(err.downcast_ref::<Rejected>(), Some(&Rejected("gate shut")));
    drop(check);

    drop(filter);
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
}

#[test]
fn filter_accessors_reach_the_inner_service() {
    let mut filter = Filter::new(vec![1], parse());
    assert_eq!(filter.get_ref(), &[1]);
    filter.get_mut().push(2);
    assert_eq!(filter.get_ref(), &[1, 2]);
    assert_eq!(filter.into_inner(), [1, 2]);
}

#[test]
fn async_filter_accessors_reach_the_inner_service() {
    let mut filter = AsyncFilter::new(vec![1], gated());
    assert_eq!(filter.get_ref(), &[1]);
    filter.get_mut().push(2);
    assert_eq!(filter.get_ref(), &[1, 2]);
    assert_eq!(filter.into_inner(), [1, 2]);
}

#[test]
fn filter_get_mut_drives_the_wrapped_service() {
    let (mock, mut handle) = mock::pair::<u32, String>();
    let mut filter = Filter::new(mock, parse());
    // Reserving through the accessor is the reservation the filter uses.
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        filter.get_mut().poll_ready(&mut cx),
        Poll::Ready(Ok(()))
    ));
    let _response = filter.call("1");
    assert!(matches!(handle.poll_request(), Poll::Ready(Some((1, _)))));
}

/// Lets through strings that fit in a limit, as their length.
#[derive(Clone, Debug)]
struct MaxLength(usize);

impl Predicate<String> for MaxLength {
    type Request = usize;

    fn check(&mut self, request: String) -> Result<usize, BoxError> {
        if request.len() <= self.0 {
            Ok(request.len())
        } else {
            Err(Rejected("too long").into())
        }
    }
}

impl AsyncPredicate<String> for MaxLength {
    type Future = Ready<Result<usize, BoxError>>;
    type Request = usize;

    fn check(&mut self, request: String) -> Self::Future {
        ready(Predicate::check(self, request))
    }
}

#[tokio::test]
async fn a_filter_takes_a_predicate_type_of_its_own() {
    let (mut service, mut handle) =
        mock::spawn_layer::<usize, (), _>(FilterLayer::new(MaxLength(3)));

    assert_ready_ok!(service.poll_ready());
    let mut rejected = task::spawn(service.call("four".to_string()));
    let err = assert_ready_err!(rejected.poll());
    assert_eq!(err.downcast_ref::<Rejected>(), Some(&Rejected("too long")));

    let mut accepted = task::spawn(service.call("two".to_string()));
    assert_request_eq!(handle, 3).send_response(());
    assert_ready_ok!(accepted.poll());
}

#[tokio::test]
async fn an_async_filter_takes_a_predicate_type_of_its_own() {
    let (mut service, mut handle) =
        mock::spawn_layer::<usize, (), _>(AsyncFilterLayer::new(MaxLength(3)));

    assert_ready_ok!(service.poll_ready());
    let mut rejected = task::spawn(service.call("four".to_string()));
    let err = assert_ready_err!(rejected.poll());
    assert_eq!(err.downcast_ref::<Rejected>(), Some(&Rejected("too long")));

    assert_ready_ok!(service.poll_ready());
    let mut accepted = task::spawn(service.call("two".to_string()));
    assert_pending!(accepted.poll());
    assert_request_eq!(handle, 3).send_response(());
    assert_ready_ok!(accepted.poll());
}

#[test]
fn filters_and_layers_print_like_derived_debug() {
    let filter = Filter::new("inner", MaxLength(1));
    assert_eq!(
        format!("{filter:?}"),
        r#"Filter { inner: "inner", predicate: MaxLength(1) }"#
    );
    let filter = AsyncFilter::new("inner", MaxLength(1));
    assert_eq!(
        format!("{filter:?}"),
        r#"AsyncFilter { inner: "inner", predicate: MaxLength(1) }"#
    );
    assert!(format!("{:?}", FilterLayer::new(MaxLength(2))).starts_with("FilterLayer"));
    assert!(format!("{:?}", AsyncFilterLayer::new(MaxLength(2))).starts_with("AsyncFilterLayer"));
}

/// A value without `Debug`.
struct Opaque;

/// An always ready service without `Debug`, whose requests, responses and
/// futures lack `Debug` too.
#[derive(Clone)]
struct OpaqueService;

impl Service<Opaque> for OpaqueService {
    type Response = Opaque;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Opaque, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Opaque) -> Self::Future {
        Box::pin(async move { Ok(request) })
    }
}

#[test]
fn response_futures_are_debug_without_debug_inner_types() {
    let mut filter = Filter::new(OpaqueService, |request: Opaque| Ok::<_, Rejected>(request));
    let called = filter.call(Opaque);
    assert_eq!(format!("{called:?}"), "ResponseFuture(...)");

    let mut filter = Filter::new(OpaqueService, |_: Opaque| Err::<Opaque, _>(Rejected("no")));
    let rejected = filter.call(Opaque);
    assert_eq!(format!("{rejected:?}"), "ResponseFuture(...)");

    let mut filter = AsyncFilter::new(OpaqueService, |request: Opaque| async move {
        Ok::<_, Rejected>(request)
    });
    let mut response = Box::pin(filter.call(Opaque));
    assert!(format!("{response:?}").starts_with("AsyncResponseFuture"));
    // Still printable once the inner service has been called.
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        response.as_mut().poll(&mut cx),
        Poll::Ready(Ok(Opaque))
    ));
    assert!(format!("{response:?}").starts_with("AsyncResponseFuture"));
}
