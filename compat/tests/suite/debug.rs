//! `Debug` output. Type names inside the output (closures, futures) contain
//! the path of the test crate, so the expected strings are built with
//! `std::any::type_name` and hold for both builds.

use std::convert::Infallible;
use std::task::Poll;

use tower::layer::util::{Identity, Stack};
use tower::util::{
    AndThen, BoxCloneService, BoxCloneServiceLayer, BoxCloneSyncService, BoxCloneSyncServiceLayer,
    BoxLayer, BoxService, Either, MapErr, MapFuture, MapFutureLayer, MapRequest, MapResponse,
    MapResult, Oneshot, Optional, Ready, ReadyOneshot, Then, UnsyncBoxService, future_service,
    service_fn,
};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_layer::layer_fn;

use super::support::{AddOne, Echo, Instant, Oops, TagLayer, noop_cx, poll_once, type_name_of};

#[test]
fn identity() {
    assert_eq!(format!("{:?}", Identity::new()), "Identity");
    assert_eq!(format!("{:#?}", Identity::new()), "Identity");
}

#[test]
fn stack_prints_a_flat_list_outer_first() {
    let stack = Stack::new(TagLayer("in"), TagLayer("out"));
    assert_eq!(format!("{stack:?}"), r#"TagLayer("out"), TagLayer("in")"#);
    assert_eq!(
        format!("{stack:#?}"),
        "TagLayer(\n    \"out\",\n),\nTagLayer(\n    \"in\",\n)"
    );
    let nested = Stack::new(Stack::new(Identity::new(), TagLayer("b")), TagLayer("a"));
    assert_eq!(
        format!("{nested:?}"),
        r#"TagLayer("a"), TagLayer("b"), Identity"#
    );
}

#[test]
fn layer_fn_names_the_closure_type() {
    let closure = |inner: Echo| (inner, 1);
    let expected = format!("LayerFn {{ f: {} }}", type_name_of(&closure));
    let layer = layer_fn(closure);
    assert_eq!(format!("{layer:?}"), expected);
    assert!(expected.contains("{{closure}}"), "{expected}");
    assert_eq!(
        format!("{layer:#?}"),
        format!("LayerFn {{\n    f: {},\n}}", type_name_of(&closure))
    );

    let ptr: fn(Echo) -> Echo = |e| e;
    assert_eq!(
        format!("{:?}", layer_fn(ptr)),
        format!(
            "LayerFn {{ f: {} }}",
            std::any::type_name::<fn(Echo) -> Echo>()
        )
    );
}

#[test]
fn service_builder_prints_its_layers_in_order() {
    assert_eq!(
        format!("{:?}", ServiceBuilder::new()),
        "ServiceBuilder(Identity)"
    );
    let builder = ServiceBuilder::new()
        .layer(TagLayer("a"))
        .layer(TagLayer("b"));
    assert_eq!(
        format!("{builder:?}"),
        r#"ServiceBuilder(Identity, TagLayer("a"), TagLayer("b"))"#
    );
    assert_eq!(
        format!("{builder:#?}"),
        "ServiceBuilder(\n    Identity,\n    TagLayer(\n        \"a\",\n    ),\n    TagLayer(\n        \"b\",\n    ),\n)"
    );
    let closure = |s: Echo| s;
    let mapper = |f: Instant<u32, Oops>| f;
    let builder = ServiceBuilder::new()
        .map_future(mapper)
        .layer(BoxLayer::<AddOne, u32, u32, Oops>::new(Identity::new()));
    assert_eq!(
        format!("{builder:?}"),
        format!(
            "ServiceBuilder(Identity, MapFutureLayer {{ f: {} }}, BoxLayer)",
            type_name_of(&mapper)
        )
    );
    let builder = ServiceBuilder::new()
        .layer_fn(closure)
        .option_layer(None::<TagLayer>);
    assert_eq!(
        format!("{builder:?}"),
        format!(
            "ServiceBuilder(Identity, LayerFn {{ f: {} }}, Right(Identity))",
            type_name_of(&closure)
        )
    );
}

#[test]
fn service_fn_names_the_closure_type() {
    let closure = |n: u32| async move { Ok::<_, Infallible>(n) };
    let expected = format!("ServiceFn {{ f: {} }}", type_name_of(&closure));
    assert_eq!(format!("{:?}", service_fn(closure)), expected);
}

#[tokio::test]
async fn future_service_before_and_after_resolution() {
    let make = std::future::ready(Ok::<_, Oops>(AddOne));
    let expected = format!(
        "FutureService {{ state: State::Future(<{}>) }}",
        std::any::type_name::<Instant<AddOne, Oops>>()
    );
    let mut svc = future_service(make);
    assert_eq!(format!("{svc:?}"), expected);
    assert!(expected.starts_with(
        "FutureService { state: State::Future(<core::future::ready::Ready<core::result::Result<"
    ));
    ServiceExt::<u32>::ready(&mut svc).await.unwrap();
    assert_eq!(
        format!("{svc:?}"),
        "FutureService { state: State::Service(AddOne) }"
    );
}

#[tokio::test]
async fn future_service_alternate_form() {
    let mut svc = future_service(std::future::ready(Ok::<_, Oops>(AddOne)));
    ServiceExt::<u32>::ready(&mut svc).await.unwrap();
    // Upstream formats the state with `{:?}` even under `{:#?}`.
    assert_eq!(
        format!("{svc:#?}"),
        "FutureService {\n    state: State::Service(AddOne),\n}"
    );
}

#[test]
fn boxed_types_print_their_name() {
    assert_eq!(format!("{:?}", BoxService::new(AddOne)), "BoxService");
    assert_eq!(
        format!("{:?}", UnsyncBoxService::new(AddOne)),
        "UnsyncBoxService"
    );
    assert_eq!(
        format!("{:?}", BoxCloneService::new(AddOne)),
        "BoxCloneService"
    );
    assert_eq!(
        format!("{:?}", BoxCloneSyncService::new(AddOne)),
        "BoxCloneSyncService"
    );
    let layer: BoxLayer<AddOne, u32, u32, Oops> = BoxLayer::new(Identity::new());
    assert_eq!(format!("{layer:?}"), "BoxLayer");
    let layer: BoxCloneServiceLayer<AddOne, u32, u32, Oops> =
        BoxCloneServiceLayer::new(Identity::new());
    assert_eq!(format!("{layer:?}"), "BoxCloneServiceLayer");
    let layer: BoxCloneSyncServiceLayer<AddOne, u32, u32, Oops> =
        BoxCloneSyncServiceLayer::new(Identity::new());
    assert_eq!(format!("{layer:?}"), "BoxCloneSyncServiceLayer");
}

#[test]
fn oneshot_prints_its_state() {
    let fut = Oneshot::new(AddOne, 1);
    assert_eq!(
        format!("{fut:?}"),
        "Oneshot { state: State::NotReady(AddOne, 1) }"
    );
    let mut fut = fut;
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(2)));
    assert_eq!(format!("{fut:?}"), "Oneshot { state: State::Done }");

    let closure = |_: u32| std::future::pending::<Result<u32, Oops>>();
    let closure_name = type_name_of(&closure);
    let mut fut = service_fn(closure).oneshot(5);
    assert_eq!(
        format!("{fut:?}"),
        format!("Oneshot {{ state: State::NotReady(ServiceFn {{ f: {closure_name} }}, 5) }}")
    );
    assert!(poll_once(&mut fut).is_pending());
    assert_eq!(
        format!("{fut:?}"),
        r#"Oneshot { state: State::Called("S::Future") }"#
    );
}

#[test]
fn ready_futures_print_the_service() {
    let mut svc = AddOne;
    let ready: Ready<'_, AddOne, u32> = svc.ready();
    assert_eq!(
        format!("{ready:?}"),
        "Ready(ReadyOneshot { inner: Some(AddOne) })"
    );
    let mut oneshot: ReadyOneshot<AddOne, u32> = AddOne.ready_oneshot();
    assert_eq!(
        format!("{oneshot:?}"),
        "ReadyOneshot { inner: Some(AddOne) }"
    );
    assert_eq!(poll_once(&mut oneshot), Poll::Ready(Ok(AddOne)));
    assert_eq!(format!("{oneshot:?}"), "ReadyOneshot { inner: None }");
}

#[test]
fn either_and_optional() {
    let left: Either<AddOne, Echo> = Either::Left(AddOne);
    let right: Either<AddOne, Echo> = Either::Right(Echo);
    assert_eq!(format!("{left:?} {right:?}"), "Left(AddOne) Right(Echo)");
    let some = Optional::new(Some(AddOne));
    assert_eq!(format!("{some:?}"), "Optional { inner: Some(AddOne) }");
    let mut none = Optional::<AddOne>::new::<u32>(None);
    assert_eq!(format!("{none:?}"), "Optional { inner: None }");
    assert!(none.poll_ready(&mut noop_cx()).is_ready());
    let fut = none.call(1);
    assert_eq!(format!("{fut:?}"), "ResponseFuture { inner: None }");
    let mut some = some;
    let fut = some.call(1);
    assert_eq!(
        format!("{fut:?}"),
        format!(
            "ResponseFuture {{ inner: Some({:?}) }}",
            std::future::ready(Ok::<u32, Oops>(2))
        )
    );
}

#[test]
fn combinator_services_print_inner_and_closure_type() {
    let f = |n: u32| n + 1;
    let name = type_name_of(&f);
    assert_eq!(
        format!("{:?}", MapRequest::new(AddOne, f)),
        format!("MapRequest {{ inner: AddOne, f: {name} }}")
    );
    assert_eq!(
        format!("{:?}", MapResponse::new(AddOne, f)),
        format!("MapResponse {{ inner: AddOne, f: {name} }}")
    );
    assert_eq!(
        format!("{:?}", MapErr::new(AddOne, f)),
        format!("MapErr {{ inner: AddOne, f: {name} }}")
    );
    assert_eq!(
        format!("{:?}", MapResult::new(AddOne, f)),
        format!("MapResult {{ inner: AddOne, f: {name} }}")
    );
    assert_eq!(
        format!("{:?}", AndThen::new(AddOne, f)),
        format!("AndThen {{ inner: AddOne, f: {name} }}")
    );
    assert_eq!(
        format!("{:?}", Then::new(AddOne, f)),
        format!("Then {{ inner: AddOne, f: {name} }}")
    );
    assert_eq!(
        format!("{:?}", MapFuture::new(AddOne, f)),
        format!("MapFuture {{ inner: AddOne, f: {name} }}")
    );
    assert_eq!(
        format!("{:?}", MapFutureLayer::new(f)),
        format!("MapFutureLayer {{ f: {name} }}")
    );
    // Nested.
    let svc = AddOne.map_request(f).map_response(f);
    assert_eq!(
        format!("{svc:?}"),
        format!("MapResponse {{ inner: MapRequest {{ inner: AddOne, f: {name} }}, f: {name} }}")
    );
}

#[test]
fn opaque_response_futures() {
    let f = |n: u32| n;
    let mut svc = AddOne.map_response(f);
    assert_eq!(format!("{:?}", svc.call(1)), "MapResponseFuture(...)");
    let mut svc = AddOne.map_err(|e: Oops| e);
    assert_eq!(format!("{:?}", svc.call(1)), "MapErrFuture(...)");
    let mut svc = AddOne.map_result(|r: Result<u32, Oops>| r);
    assert_eq!(format!("{:?}", svc.call(1)), "MapResultFuture(...)");
    let mut svc = AddOne.then(|r: Result<u32, Oops>| std::future::ready(r));
    assert_eq!(format!("{:?}", svc.call(1)), "ThenFuture(...)");
    let mut svc = AddOne.and_then(|n: u32| std::future::ready(Ok::<_, Oops>(n)));
    assert_eq!(format!("{:?}", svc.call(1)), "AndThenFuture(...)");
}

#[test]
fn call_all_prints_service_stream_and_eof() {
    let stream = futures::stream::iter(vec![1_u32, 2]);
    let stream_debug = format!("{stream:?}");
    let all = AddOne.call_all(stream);
    assert_eq!(
        format!("{all:?}"),
        format!(
            "CallAll {{ inner: CallAll {{ service: Some(AddOne), stream: {stream_debug}, eof: false }} }}"
        )
    );
    let unordered = all.unordered();
    assert_eq!(
        format!("{unordered:?}"),
        format!(
            "CallAllUnordered {{ inner: CallAll {{ service: Some(AddOne), stream: {stream_debug}, eof: false }} }}"
        )
    );
}
