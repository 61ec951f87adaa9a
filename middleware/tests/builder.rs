//! Integration tests of `ServiceBuilder`: layer order, reuse, the `util`
//! layer methods, boxing, `check_*`, `Debug` and `Default`.
#![cfg(feature = "util")]

mod support;

use std::any::type_name_of_val;
use std::future::ready;

use donjon::layer::util::{Identity, Stack};
use donjon::util::{
    BoxCloneService, BoxCloneSyncService, BoxService, Either, MapRequest, MapRequestLayer,
    MapResponseLayer,
};
use donjon::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock;
use futures::future::BoxFuture;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::{AppError, Echo, Tally, assert_readiness_follows_mock};

fn append(tag: &'static str) -> impl Fn(String) -> String + Clone {
    move |text: String| format!("{text}>{tag}")
}

#[tokio::test]
async fn builder_stack_over_a_mock_delivers_and_answers_through_every_layer() {
    // The same shape as upstream's builder test, with the layers that exist:
    // map the request to `true` on the way in, and the mock's "world" to
    // `true` on the way out.
    let builder = ServiceBuilder::new()
        .map_err(|error: BoxError| AppError::Mapped(error.to_string()))
        .and_then(|ok: bool| ready(Ok::<_, BoxError>(ok)))
        .map_result(|result: Result<bool, BoxError>| result)
        .then(|result: Result<bool, BoxError>| ready(result))
        .map_future(|future| future)
        .map_response(|response: &'static str| response == "world")
        .map_request(|request: &'static str| request == "hello");
    let (mock, mut handle) = mock::pair::<bool, &'static str>();
    let mut service = mock::Spawn::new(builder.service(mock));

    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_request_eq!(handle, true).send_response("world");
    assert!(response.is_woken());
    assert!(assert_ready_ok!(response.poll()));
}

#[tokio::test]
async fn builder_stack_surfaces_inner_errors_through_its_layers() {
    let builder = ServiceBuilder::new()
        .map_err(|error: BoxError| AppError::Mapped(error.to_string()))
        .map_response(|response: &'static str| response.len());
    let (mock, mut handle) = mock::pair::<&'static str, &'static str>();
    let mut service = mock::Spawn::new(builder.service(mock));

    handle.send_error("boom");
    let error = assert_ready_err!(service.poll_ready());
    assert!(
        matches!(&error, AppError::Mapped(text) if text == "boom"),
        "{error:?}"
    );

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    let error = assert_ready_err!(response.poll());
    assert!(
        matches!(&error, AppError::Mapped(text) if text == "failed"),
        "{error:?}"
    );

    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(
        matches!(&error, AppError::Mapped(text) if text == "service closed"),
        "{error:?}"
    );
}

#[tokio::test]
async fn first_layer_added_is_outermost_for_requests_and_responses() {
    let service = ServiceBuilder::new()
        .map_request(append("request 1"))
        .map_response(append("response 1"))
        .map_request(append("request 2"))
        .map_response(append("response 2"))
        .service(Echo);

    let answer = service.oneshot("x".to_string()).await.unwrap();
    assert_eq!(
        answer, "x>request 1>request 2>response 2>response 1",
        "requests go through the layers in the order added, responses in reverse"
    );
}

#[tokio::test]
async fn service_can_wrap_several_services_with_one_builder() {
    let builder = ServiceBuilder::new().map_request(|n: u32| n + 1);
    let first = builder.service(Echo);
    let second = builder.service(service_times_ten());
    assert_eq!(first.oneshot(1).await.unwrap(), 2);
    assert_eq!(second.oneshot(1).await.unwrap(), 20);
}

fn service_times_ten() -> impl Service<u32, Response = u32, Error = BoxError, Future: Send> + Send {
    donjon::service_fn(|n: u32| ready(Ok::<_, BoxError>(n * 10)))
}

#[tokio::test]
async fn service_fn_wraps_a_closure_in_the_stack() {
    let service = ServiceBuilder::new()
        .map_response(|n: u32| n * 2)
        .service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) });
    assert_eq!(service.oneshot(1).await.unwrap(), 4);
}

type AddOne = fn(u32) -> u32;

#[tokio::test]
async fn into_inner_returns_the_composed_layer() {
    let layer: Stack<MapRequestLayer<AddOne>, Identity> = ServiceBuilder::new()
        .map_request((|n: u32| n + 1) as AddOne)
        .into_inner();
    let service: MapRequest<Echo, AddOne> = layer.layer(Echo);
    assert_eq!(service.oneshot(1).await.unwrap(), 2);
}

#[tokio::test]
async fn builder_is_itself_a_layer() {
    fn wrap<L: Layer<Echo>>(layer: &L) -> L::Service {
        layer.layer(Echo)
    }
    let builder = ServiceBuilder::new().map_request(|n: u32| n + 1);
    assert_eq!(wrap(&builder).oneshot(1).await.unwrap(), 2);
}

#[tokio::test]
async fn option_layer_adds_the_layer_only_when_given_one() {
    let with = ServiceBuilder::new()
        .option_layer(Some(MapResponseLayer::new(|n: u32| n * 2)))
        .service(Echo);
    assert!(matches!(with, Either::Left(_)));
    assert_eq!(with.oneshot(21).await.unwrap(), 42);

    let without = ServiceBuilder::new()
        .option_layer(None::<MapResponseLayer<fn(u32) -> u32>>)
        .service(Echo);
    assert!(matches!(without, Either::Right(Echo)));
    assert_eq!(without.oneshot(21).await.unwrap(), 21);
}

#[tokio::test]
async fn layer_fn_adds_a_closure_as_a_layer() {
    let tally = Tally::new();
    let layer_tally = tally.clone();
    let builder = ServiceBuilder::new().layer_fn(move |inner: Echo| {
        layer_tally.bump();
        inner.map_request(|n: u32| n + 100)
    });
    assert_eq!(tally.get(), 0, "the closure runs when a service is wrapped");
    let service = builder.service(Echo);
    assert_eq!(tally.get(), 1);
    assert_eq!(service.oneshot(1).await.unwrap(), 101);
}

#[tokio::test]
async fn layer_accepts_any_layer_value() {
    let service = ServiceBuilder::new()
        .layer(MapRequestLayer::new(|n: u32| n + 1))
        .layer(Identity::new())
        .service(Echo);
    assert_eq!(service.oneshot(1).await.unwrap(), 2);
}

#[tokio::test]
async fn check_methods_return_the_builder_unchanged() {
    let builder = ServiceBuilder::new().map_request(|n: u32| n + 1);
    let before = format!("{builder:?}");
    let builder = builder
        .check_clone()
        .check_service_clone::<Echo>()
        .check_service::<Echo, u32, u32, BoxError>();
    assert_eq!(format!("{builder:?}"), before);
    assert_eq!(builder.service(Echo).oneshot(1).await.unwrap(), 2);
}

#[tokio::test]
async fn boxed_called_first_boxes_the_whole_stack() {
    let service: BoxService<u32, u32, BoxError> = ServiceBuilder::new()
        .boxed()
        .map_request(|n: u32| n + 1)
        .map_response(|n: u32| n * 10)
        .service(Echo);
    assert_eq!(service.oneshot(1).await.unwrap(), 20);
}

#[tokio::test]
async fn boxed_clone_called_first_boxes_the_whole_stack_into_a_clonable_service() {
    let service: BoxCloneService<u32, u32, BoxError> = ServiceBuilder::new()
        .boxed_clone()
        .map_request(|n: u32| n + 1)
        .service(Echo);
    let clone = service.clone();
    assert_eq!(service.oneshot(1).await.unwrap(), 2);
    assert_eq!(clone.oneshot(2).await.unwrap(), 3);
}

#[tokio::test]
async fn boxed_clone_sync_called_first_boxes_the_whole_stack_into_a_sync_clonable_service() {
    fn assert_sync<T: Sync>(_: &T) {}
    let service: BoxCloneSyncService<u32, u32, BoxError> = ServiceBuilder::new()
        .boxed_clone_sync()
        .map_request(|n: u32| n + 1)
        .service(Echo);
    assert_sync(&service);
    let clone = service.clone();
    assert_eq!(service.oneshot(1).await.unwrap(), 2);
    assert_eq!(clone.oneshot(2).await.unwrap(), 3);
}

#[tokio::test]
async fn boxed_clone_sync_accepts_a_response_future_that_is_not_sync() {
    // A boxed `dyn Future + Send` is not `Sync`; only the service must be.
    let service: BoxCloneSyncService<u32, u32, BoxError> = ServiceBuilder::new()
        .boxed_clone_sync()
        .map_response(|n: u32| n * 2)
        .service_fn(|n: u32| -> BoxFuture<'static, Result<u32, BoxError>> {
            Box::pin(async move { Ok(n + 1) })
        });
    assert_eq!(service.oneshot(1).await.unwrap(), 4);
}

#[tokio::test]
async fn boxed_clone_sync_after_layers_boxes_them_and_later_layers_go_inside() {
    // The layers before the call are boxed together and stay outermost; the
    // builder restarts from that boxed layer, so what is added afterwards sits
    // inside them. The service is the box itself.
    let service: BoxCloneSyncService<String, String, BoxError> = ServiceBuilder::new()
        .map_request(append("before"))
        .boxed_clone_sync()
        .map_request(append("after"))
        .service(Echo);
    assert_eq!(
        service.oneshot("x".to_string()).await.unwrap(),
        "x>before>after"
    );
}

#[tokio::test]
async fn boxed_after_layers_boxes_only_what_is_inside_them() {
    // Unlike `boxed_clone_sync`, `boxed` adds a boxing step inside the layers
    // so far: the outer type is still the earlier layer.
    let service: MapRequest<BoxService<String, String, BoxError>, _> = ServiceBuilder::new()
        .map_request(append("before"))
        .boxed()
        .map_request(append("after"))
        .service(Echo);
    assert_eq!(
        service.oneshot("x".to_string()).await.unwrap(),
        "x>before>after"
    );
}

#[tokio::test]
async fn boxed_stack_follows_the_mock_readiness() {
    let builder = ServiceBuilder::new()
        .boxed_clone()
        .map_request(|request: &'static str| request);
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(builder);
    let _: &BoxCloneService<&str, &str, BoxError> = service.get_ref();
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
}

#[test]
fn debug_lists_the_layers_outermost_first() {
    assert_eq!(
        format!("{:?}", ServiceBuilder::new()),
        "ServiceBuilder(Identity)"
    );

    let map = |n: u32| n + 1;
    let wrap = |service: Echo| service;
    let map_name = type_name_of_val(&map);
    let wrap_name = type_name_of_val(&wrap);
    let builder = ServiceBuilder::new().map_request(map).layer_fn(wrap);
    assert_eq!(
        format!("{builder:?}"),
        format!(
            "ServiceBuilder(Identity, MapRequestLayer {{ f: {map_name} }}, LayerFn {{ f: {wrap_name} }})"
        )
    );
}

#[test]
fn default_builder_leaves_the_service_as_it_is() {
    let builder: ServiceBuilder<Identity> = ServiceBuilder::default();
    assert_eq!(format!("{builder:?}"), "ServiceBuilder(Identity)");
    let service: Echo = builder.service(Echo);
    assert_eq!(service, Echo);
    let service: Echo = ServiceBuilder::new().service(Echo);
    assert_eq!(service, Echo);
}

#[tokio::test]
async fn builder_clones_build_the_same_stack() {
    let builder = ServiceBuilder::new().map_request(|n: u32| n * 3);
    let clone = builder.clone();
    assert_eq!(builder.service(Echo).oneshot(2).await.unwrap(), 6);
    assert_eq!(clone.service(Echo).oneshot(2).await.unwrap(), 6);
}
