//! Generic parameters spelled out with turbofish: their number and order
//! are part of the API, since callers write them.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use tower::layer::util::{Identity, Stack};
use tower::util::{
    BoxCloneService, BoxCloneServiceLayer, BoxCloneSyncService, BoxCloneSyncServiceLayer, BoxLayer,
    BoxService, Either, MapRequestLayer, MapResponse, Optional, ServiceFn, UnsyncBoxService,
    future_service, option_layer,
};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use tower_layer::layer_fn;
use tower_test::mock;

use super::support::{AddOne, Echo, Instant, Oops, TagLayer};

type Ptr = fn(u32) -> u32;
type Boxed = Pin<Box<dyn Future<Output = Result<u32, BoxError>> + Send>>;

fn double(n: u32) -> u32 {
    n * 2
}

#[tokio::test]
async fn service_ext_methods() {
    let svc = AddOne.map_response::<Ptr, u32>(double);
    assert_eq!(svc.oneshot(1).await, Ok(4));
    let svc = AddOne.map_err::<fn(Oops) -> String, String>(|e| e.0.into());
    assert_eq!(svc.oneshot(u32::MAX).await, Err("overflow".to_string()));
    let svc =
        AddOne.map_result::<fn(Result<u32, Oops>) -> Result<u32, BoxError>, u32, BoxError>(|r| {
            r.map_err(Into::into)
        });
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
    let svc = AddOne.map_request::<fn(&str) -> u32, &str>(|s| s.len() as u32);
    assert_eq!(svc.oneshot("abc").await, Ok(4));
    let svc = AddOne
        .then::<fn(Result<u32, Oops>) -> Instant<u32, Oops>, u32, Oops, Instant<u32, Oops>>(
            std::future::ready,
        );
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = AddOne.map_future::<fn(Instant<u32, Oops>) -> Boxed, Boxed, u32, BoxError>(|f| {
        Box::pin(async move { Ok(f.await?) })
    });
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
    let svc = AddOne.and_then::<fn(u32) -> Instant<u32, Oops>>(|n| std::future::ready(Ok(n)));
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let reqs = futures::stream::iter(vec![1_u32]);
    let all = AddOne.call_all::<futures::stream::Iter<std::vec::IntoIter<u32>>>(reqs);
    drop(all);
    let mut svc = AddOne;
    assert_eq!(ServiceExt::<u32>::ready(&mut svc).await, Ok(&mut AddOne));
    assert_eq!(ServiceExt::<u32>::ready_oneshot(AddOne).await, Ok(AddOne));
    assert_eq!(ServiceExt::<u32>::oneshot(AddOne, 1).await, Ok(2));
    let boxed: BoxService<u32, u32, Oops> = ServiceExt::<u32>::boxed(AddOne);
    let cloned: BoxCloneService<u32, u32, Oops> = ServiceExt::<u32>::boxed_clone(AddOne);
    drop((boxed, cloned));
}

#[tokio::test]
async fn builder_methods() {
    let builder = ServiceBuilder::new()
        .layer::<TagLayer>(TagLayer("t"))
        .option_layer::<TagLayer>(None)
        .layer_fn::<fn(Echo) -> Echo>(|e| e);
    let svc = builder.service::<Echo>(Echo);
    assert_eq!(svc.oneshot("r:".into()).await, Ok("r:t><t".to_string()));
    let builder = ServiceBuilder::new()
        .map_request::<Ptr, u32, u32>(double)
        .map_response::<Ptr>(double)
        .map_err::<fn(Oops) -> Oops>(|e| e)
        .map_result::<fn(Result<u32, Oops>) -> Result<u32, Oops>>(|r| r)
        .then::<fn(Result<u32, Oops>) -> Instant<u32, Oops>>(std::future::ready)
        .and_then::<fn(u32) -> Instant<u32, Oops>>(|n| std::future::ready(Ok(n)))
        .map_future::<fn(Instant<u32, Oops>) -> Instant<u32, Oops>>(|f| f)
        .check_service_clone::<AddOne>()
        .check_service::<AddOne, u32, u32, Oops>();
    assert_eq!(builder.service(AddOne).oneshot(1).await, Ok(6));

    let svc = ServiceBuilder::new().boxed::<AddOne, u32>().service(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = ServiceBuilder::new()
        .boxed_clone::<AddOne, u32>()
        .service(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = ServiceBuilder::new()
        .boxed_clone_sync::<AddOne, u32>()
        .service(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = ServiceBuilder::new()
        .service_fn::<fn(u32) -> Instant<u32, Infallible>>(|n| std::future::ready(Ok(n)));
    assert_eq!(svc.oneshot(1).await, Ok(1));
}

#[tokio::test]
async fn util_functions_and_constructors() {
    let svc: ServiceFn<Ptr> = service_fn::<Ptr>(double);
    let _ = svc;
    let _: ServiceFn<Ptr> = tower::util::service_fn::<Ptr>(double);
    let layer = layer_fn::<fn(AddOne) -> AddOne>(|s| s);
    let _: tower_layer::LayerFn<fn(AddOne) -> AddOne> = layer;
    let either: Either<TagLayer, Identity> = option_layer::<TagLayer>(None);
    let _ = either;
    let svc =
        future_service::<Instant<AddOne, Oops>, AddOne, u32, Oops>(std::future::ready(Ok(AddOne)));
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = Optional::<AddOne>::new::<u32>(Some(AddOne));
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);

    let svc = BoxService::<u32, u32, Oops>::new::<AddOne>(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let layer = BoxService::<u32, u32, Oops>::layer::<AddOne>();
    let _ = layer;
    let svc = UnsyncBoxService::<u32, u32, Oops>::new::<AddOne>(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let _ = UnsyncBoxService::<u32, u32, Oops>::layer::<AddOne>();
    let svc = BoxCloneService::<u32, u32, Oops>::new::<AddOne>(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let _ = BoxCloneService::<u32, u32, Oops>::layer::<AddOne>();
    let svc = BoxCloneSyncService::<u32, u32, Oops>::new::<AddOne>(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let _ = BoxCloneSyncService::<u32, u32, Oops>::layer::<AddOne>();

    let layer = BoxLayer::<AddOne, u32, u32, Oops>::new::<Identity>(Identity::new());
    assert_eq!(layer.layer(AddOne).oneshot(1).await, Ok(2));
    let layer = BoxCloneServiceLayer::<AddOne, u32, u32, Oops>::new::<Identity>(Identity::new());
    assert_eq!(layer.layer(AddOne).oneshot(1).await, Ok(2));
    let layer =
        BoxCloneSyncServiceLayer::<AddOne, u32, u32, Oops>::new::<Identity>(Identity::new());
    assert_eq!(layer.layer(AddOne).oneshot(1).await, Ok(2));

    let stack =
        Stack::<MapRequestLayer<Ptr>, Identity>::new(MapRequestLayer::new(double), Identity::new());
    let svc = tower::Layer::<AddOne>::layer(&stack, AddOne);
    assert_eq!(svc.oneshot(2).await, Ok(5));
    let svc = MapResponse::<AddOne, Ptr>::new(AddOne, double);
    assert_eq!(svc.oneshot(2).await, Ok(6));
}

#[tokio::test]
async fn mock_functions() {
    let (mock, mut handle) = mock::pair::<u32, u32>();
    let _ = mock;
    handle.send_error::<&str>("x");
    let (mut svc, _handle) = mock::spawn::<u32, u32>();
    assert!(svc.poll_ready::<u32>().is_ready());
    drop(svc.call::<u32>(1));
    let (svc, _handle) = mock::spawn_with::<
        u32,
        u32,
        fn(mock::Mock<u32, u32>) -> mock::Mock<u32, u32>,
        mock::Mock<u32, u32>,
    >(|m| m);
    drop(svc);
    let (svc, mut handle) = mock::spawn_layer::<String, String, TagLayer>(TagLayer("l"));
    let mut svc = svc;
    assert!(svc.poll_ready::<String>().is_ready());
    let fut = svc.call::<String>("a".into());
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error::<BoxError>("failed".into());
    assert_eq!(fut.await.unwrap_err().to_string(), "failed");
}

#[test]
fn service_trait_paths() {
    fn takes<S: Service<u32, Response = u32, Error = Oops>>(_: S) {}
    takes::<AddOne>(AddOne);
    takes::<&mut AddOne>(&mut AddOne);
    takes::<Box<AddOne>>(Box::new(AddOne));
    let fut: <AddOne as tower::Service<u32>>::Future = std::future::ready(Ok(1));
    drop(fut);
    let _: <AddOne as tower_service::Service<u32>>::Response = 1_u32;
    let _: <TagLayer as tower::Layer<Echo>>::Service =
        tower_layer::Layer::layer(&TagLayer("x"), Echo);
}
