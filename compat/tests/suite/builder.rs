//! `tower::ServiceBuilder`: composition order and every method that the
//! `util` feature provides.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tower::layer::util::{Identity, Stack};
use tower::util::{
    AndThenLayer, BoxCloneService, BoxCloneSyncService, BoxCloneSyncServiceLayer, BoxService,
    Either, MapErrLayer, MapFutureLayer, MapRequestLayer, MapResponseLayer, MapResultLayer,
    ServiceFn, ThenLayer,
};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use tower_layer::LayerFn;
use tower_test::assert_request_eq;

use super::support::{AddOne, Echo, Oops, Tag, TagLayer, assert_clone, assert_service};

async fn path<S>(svc: S) -> String
where
    S: Service<String, Response = String, Error = Infallible>,
{
    svc.oneshot("req:".to_string()).await.unwrap()
}

#[tokio::test]
async fn empty_builder_returns_the_service() {
    let builder: ServiceBuilder<Identity> = ServiceBuilder::new();
    let svc: Echo = builder.service(Echo);
    assert_eq!(path(svc).await, "req:");
    let default: ServiceBuilder<Identity> = ServiceBuilder::default();
    assert_eq!(default.service(AddOne), AddOne);
    let _: Identity = default.into_inner();
}

#[tokio::test]
async fn first_layer_added_is_outermost() {
    let builder: ServiceBuilder<Stack<TagLayer, Stack<TagLayer, Stack<TagLayer, Identity>>>> =
        ServiceBuilder::new()
            .layer(TagLayer("a"))
            .layer(TagLayer("b"))
            .layer(TagLayer("c"));
    // `service` borrows the builder: it can be used again.
    let first: Tag<Tag<Tag<Echo>>> = builder.service(Echo);
    let second = builder.service(Echo);
    assert_eq!(path(first).await, "req:a>b>c><c<b<a");
    assert_eq!(path(second).await, "req:a>b>c><c<b<a");

    // `into_inner` gives the composed layer, with the same order.
    let layer: Stack<TagLayer, Stack<TagLayer, Stack<TagLayer, Identity>>> =
        builder.clone().into_inner();
    assert_eq!(path(layer.layer(Echo)).await, "req:a>b>c><c<b<a");

    // The builder itself is a layer, and nests inside other builders.
    let outer = ServiceBuilder::new()
        .layer(TagLayer("x"))
        .layer(builder)
        .layer(TagLayer("y"));
    assert_eq!(path(outer.service(Echo)).await, "req:x>a>b>c>y><y<c<b<a<x");
}

#[tokio::test]
async fn layer_fn_and_option_layer() {
    let svc = ServiceBuilder::new()
        .layer_fn(|s| Tag::new("fn", s))
        .option_layer(Some(TagLayer("some")))
        .option_layer(None::<TagLayer>)
        .layer(TagLayer("last"))
        .service(Echo);
    assert_eq!(path(svc).await, "req:fn>some>last><last<some<fn");

    let named: ServiceBuilder<Stack<Either<TagLayer, Identity>, Identity>> =
        ServiceBuilder::new().option_layer(None);
    let svc: Either<Tag<Echo>, Echo> = named.service(Echo);
    assert!(matches!(svc, Either::Right(Echo)));
    assert_eq!(path(svc).await, "req:");

    let named: ServiceBuilder<Stack<LayerFn<fn(Echo) -> Tag<Echo>>, Identity>> =
        ServiceBuilder::new().layer_fn(|s| Tag::new("ptr", s));
    assert_eq!(path(named.service(Echo)).await, "req:ptr><ptr");
}

#[tokio::test]
async fn request_and_response_combinators_in_order() {
    // Requests go top to bottom, responses bottom to top.
    let svc = ServiceBuilder::new()
        .map_request(|n: u32| n * 10)
        .map_response(|n: u32| format!("<{n}>"))
        .map_request(|n: u32| n + 1)
        .map_response(|n: u32| n * 2)
        .service(AddOne);
    // ((3 * 10) + 1 + 1) * 2 = 64
    assert_eq!(svc.oneshot(3).await, Ok("<64>".to_string()));
}

#[tokio::test]
async fn error_and_result_combinators() {
    let svc = ServiceBuilder::new()
        .map_err(|e: Oops| format!("mapped {}", e.0))
        .service(AddOne);
    assert_eq!(
        svc.oneshot(u32::MAX).await,
        Err("mapped overflow".to_string())
    );

    let svc = ServiceBuilder::new()
        .map_result(|r: Result<u32, Oops>| match r {
            Ok(n) if n > 10 => Err::<u32, BoxError>("too big".into()),
            Ok(n) => Ok(n),
            Err(e) => Err(e.into()),
        })
        .service(AddOne);
    assert_eq!(svc.clone().oneshot(1).await.unwrap(), 2);
    assert_eq!(
        svc.clone().oneshot(10).await.unwrap_err().to_string(),
        "too big"
    );
    let err = svc.oneshot(u32::MAX).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));
}

#[tokio::test]
async fn async_combinators() {
    let svc = ServiceBuilder::new()
        .then(|r: Result<u32, Oops>| async move {
            match r {
                Ok(n) => Ok::<_, Oops>(n.to_string()),
                Err(_) => Ok("recovered".to_string()),
            }
        })
        .and_then(|n: u32| async move { Ok::<_, Oops>(n * 100) })
        .service(AddOne);
    assert_eq!(svc.clone().oneshot(1).await, Ok("200".to_string()));
    assert_eq!(svc.oneshot(u32::MAX).await, Ok("recovered".to_string()));

    let futures_made = Arc::new(AtomicUsize::new(0));
    let counter = futures_made.clone();
    let svc = ServiceBuilder::new()
        .map_future(move |fut| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let n: u32 = fut.await?;
                Ok::<_, BoxError>(n + 1000)
            }
        })
        .service(AddOne);
    assert_eq!(svc.oneshot(1).await.unwrap(), 1002);
    assert_eq!(futures_made.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn service_fn_ends_the_chain() {
    let svc = ServiceBuilder::new()
        .map_request(|s: &str| s.to_uppercase())
        .service_fn(|s: String| async move { Ok::<_, Infallible>(s.len()) });
    assert_eq!(svc.oneshot("four").await, Ok(4));

    // With no layers, `service_fn` returns the `ServiceFn` itself.
    let plain: ServiceFn<fn(u32) -> std::future::Ready<Result<u32, Infallible>>> =
        ServiceBuilder::new().service_fn(|n| std::future::ready(Ok(n)));
    assert_eq!(plain.oneshot(9).await, Ok(9));
}

#[tokio::test]
async fn checks_return_the_builder_unchanged() {
    let builder = ServiceBuilder::new()
        .layer(TagLayer("checked"))
        .check_clone()
        .check_service_clone::<Echo>()
        .check_service::<Echo, String, String, Infallible>();
    let builder: ServiceBuilder<Stack<TagLayer, Identity>> = builder;
    assert_eq!(path(builder.service(Echo)).await, "req:checked><checked");
    assert_clone::<ServiceBuilder<Stack<TagLayer, Identity>>>();
}

#[test]
fn every_method_has_the_upstream_type() {
    type Ptr = fn(u32) -> u32;
    fn double(n: u32) -> u32 {
        n * 2
    }
    let _: ServiceBuilder<Stack<MapRequestLayer<Ptr>, Identity>> =
        ServiceBuilder::new().map_request(double as Ptr);
    let _: ServiceBuilder<Stack<MapResponseLayer<Ptr>, Identity>> =
        ServiceBuilder::new().map_response(double as Ptr);
    let _: ServiceBuilder<Stack<MapErrLayer<Ptr>, Identity>> =
        ServiceBuilder::new().map_err(double as Ptr);
    let _: ServiceBuilder<Stack<MapFutureLayer<Ptr>, Identity>> =
        ServiceBuilder::new().map_future(double as Ptr);
    let _: ServiceBuilder<Stack<ThenLayer<Ptr>, Identity>> =
        ServiceBuilder::new().then(double as Ptr);
    let _: ServiceBuilder<Stack<AndThenLayer<Ptr>, Identity>> =
        ServiceBuilder::new().and_then(double as Ptr);
    let _: ServiceBuilder<Stack<MapResultLayer<Ptr>, Identity>> =
        ServiceBuilder::new().map_result(double as Ptr);
    let _: ServiceBuilder<Stack<Either<TagLayer, Identity>, Identity>> =
        ServiceBuilder::new().option_layer(Some(TagLayer("t")));
    let _: ServiceBuilder<Stack<LayerFn<fn(AddOne) -> BoxService<u32, u32, Oops>>, Identity>> =
        ServiceBuilder::new().boxed::<AddOne, u32>();
    let _: ServiceBuilder<Stack<LayerFn<fn(AddOne) -> BoxCloneService<u32, u32, Oops>>, Identity>> =
        ServiceBuilder::new().boxed_clone::<AddOne, u32>();
    let _: ServiceBuilder<Stack<BoxCloneSyncServiceLayer<AddOne, u32, u32, Oops>, Identity>> =
        ServiceBuilder::new().boxed_clone_sync::<AddOne, u32>();
    let _: ServiceBuilder<Stack<TagLayer, Stack<MapRequestLayer<Ptr>, Identity>>> =
        ServiceBuilder::new()
            .map_request(double as Ptr)
            .layer(TagLayer("t"));
}

#[tokio::test]
async fn boxed_first_boxes_the_whole_stack() {
    let svc: BoxService<u32, String, Oops> = ServiceBuilder::new()
        .boxed()
        .map_response(|n: u32| n.to_string())
        .map_request(|n: u32| n + 1)
        .service(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok("3".to_string()));

    // Boxed in the middle. The boxing layer's input type is the type the
    // layers added before `boxed` make, so this only type-checks when the
    // layers below produce that same type (here: both are `TagLayer`).
    let svc: Tag<BoxService<String, String, Infallible>> = ServiceBuilder::new()
        .layer(TagLayer("outside"))
        .boxed()
        .layer(TagLayer("inside"))
        .service(Echo);
    assert_eq!(path(svc).await, "req:outside>inside><inside<outside");
}

#[tokio::test]
async fn boxed_clone_first_gives_a_clonable_box() {
    let svc: BoxCloneService<String, String, Infallible> = ServiceBuilder::new()
        .boxed_clone()
        .layer(TagLayer("a"))
        .layer(TagLayer("b"))
        .service(Echo);
    let copy = svc.clone();
    assert_eq!(path(svc).await, "req:a>b><b<a");
    assert_eq!(path(copy).await, "req:a>b><b<a");
}

#[tokio::test]
async fn boxed_clone_sync_boxes_the_layers_so_far() {
    // Called first: like boxed_clone, but Sync.
    let svc: BoxCloneSyncService<String, String, Infallible> = ServiceBuilder::new()
        .boxed_clone_sync()
        .layer(TagLayer("a"))
        .service(Echo);
    assert_eq!(path(svc.clone()).await, "req:a><a");

    // Called later: the layers added before it are inside the box, the
    // layers added after it come next, and the box is the whole service.
    let svc: BoxCloneSyncService<String, String, Infallible> = ServiceBuilder::new()
        .layer(TagLayer("before"))
        .boxed_clone_sync()
        .layer(TagLayer("after"))
        .service(Echo);
    assert_eq!(path(svc).await, "req:before>after><after<before");
}

#[tokio::test]
async fn builder_is_usable_as_a_layer_by_the_mock() {
    let builder = ServiceBuilder::new().map_request(|s: &'static str| s.len());
    assert_service::<
        <ServiceBuilder<Stack<MapRequestLayer<fn(&'static str) -> String>, Identity>> as Layer<
            Echo,
        >>::Service,
        &'static str,
    >();
    let (mut svc, mut handle) = tower_test::mock::spawn_layer::<usize, usize, _>(builder);
    tokio_test::assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("hello");
    assert_request_eq!(handle, 5).send_response(50);
    assert_eq!(fut.await.unwrap(), 50);
}
