//! Boxed services and boxed layers: constructors, `layer()`, the exact
//! future types, cloning, and auto traits.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures::future::{BoxFuture, LocalBoxFuture};
use tokio_test::{assert_pending, assert_ready_ok};
use tower::util::{
    BoxCloneService, BoxCloneServiceLayer, BoxCloneSyncService, BoxCloneSyncServiceLayer, BoxLayer,
    BoxService, UnsyncBoxService,
};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt, service_fn};
use tower_layer::LayerFn;
use tower_test::{assert_request_eq, mock};

use super::support::{
    AddOne, Echo, Oops, Tag, TagLayer, assert_clone, assert_send, assert_sync, noop_cx,
};

/// A function whose signature names a boxed type, as applications do.
fn make_adder(offset: u32) -> BoxCloneService<u32, u32, BoxError> {
    service_fn(move |n: u32| async move { Ok::<_, BoxError>(n + offset) }).boxed_clone()
}

fn make_unsync() -> UnsyncBoxService<u32, usize, Infallible> {
    // An `Rc` makes the service `!Send`: only the unsync box takes it.
    let shared = Rc::new(vec![1, 2, 3]);
    UnsyncBoxService::new(service_fn(move |n: u32| {
        let len = shared.len() + n as usize;
        async move { Ok(len) }
    }))
}

#[tokio::test]
async fn box_service_erases_the_type() {
    let mut svc: BoxService<u32, u32, Oops> = BoxService::new(AddOne);
    svc.ready().await.unwrap();
    let fut: Pin<Box<dyn Future<Output = Result<u32, Oops>> + Send + 'static>> = svc.call(1);
    assert_eq!(fut.await, Ok(2));
    let mut svc = svc;
    svc.ready().await.unwrap();
    let fut: BoxFuture<'static, Result<u32, Oops>> = svc.call(2);
    assert_eq!(fut.await, Ok(3));

    // Request, response and error types, in that order.
    let svc: BoxService<String, String, Infallible> = BoxService::new(TagLayer("b").layer(Echo));
    assert_eq!(svc.oneshot("req:".into()).await, Ok("req:b><b".to_string()));

    let layer: LayerFn<fn(AddOne) -> BoxService<u32, u32, Oops>> = BoxService::layer();
    assert_eq!(layer.layer(AddOne).oneshot(5).await, Ok(6));
    assert_send::<BoxService<u32, u32, Oops>>();
    assert_sync::<BoxService<(), (), ()>>();
}

#[tokio::test]
async fn unsync_box_service_takes_non_send_services() {
    let mut svc = make_unsync();
    svc.ready().await.unwrap();
    let fut: LocalBoxFuture<'static, Result<usize, Infallible>> = svc.call(1);
    assert_eq!(fut.await, Ok(4));
    let fut: Pin<Box<dyn Future<Output = Result<usize, Infallible>>>> = svc.call(2);
    assert_eq!(fut.await, Ok(5));

    let layer: LayerFn<fn(AddOne) -> UnsyncBoxService<u32, u32, Oops>> = UnsyncBoxService::layer();
    assert_eq!(layer.layer(AddOne).oneshot(1).await, Ok(2));
}

#[tokio::test]
async fn box_clone_service_is_clone_and_send() {
    let svc = make_adder(10);
    let copy = svc.clone();
    assert_eq!(svc.oneshot(1).await.unwrap(), 11);
    let mut copy = copy;
    copy.ready().await.unwrap();
    let fut: BoxFuture<'static, Result<u32, BoxError>> = copy.call(2);
    assert_eq!(fut.await.unwrap(), 12);
    assert_send::<BoxCloneService<u32, u32, BoxError>>();
    assert_clone::<BoxCloneService<u32, u32, BoxError>>();

    // Send across tasks.
    let svc = make_adder(1);
    let joined = tokio::spawn(async move { svc.oneshot(1).await.unwrap() });
    assert_eq!(joined.await.unwrap(), 2);

    let layer: LayerFn<fn(AddOne) -> BoxCloneService<u32, u32, Oops>> = BoxCloneService::layer();
    assert_eq!(layer.layer(AddOne).oneshot(1).await, Ok(2));
}

#[test]
fn box_clone_service_clones_keep_their_own_readiness() {
    let (mock, mut handle) = mock::pair::<u32, u32>();
    let mut first = tower_test::mock::Spawn::new(mock.boxed_clone());
    handle.allow(1);
    assert_ready_ok!(first.poll_ready());
    // The clone does not share the reservation taken by `first`.
    let mut second = first.clone();
    handle.allow(0);
    assert_pending!(second.poll_ready());
    assert_ready_ok!(first.poll_ready());
    drop(first.call(1));
    handle.allow(1);
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn cloned_box_clone_service_starts_without_reservation() {
    let (mock, _handle) = mock::pair::<u32, u32>();
    let mut first = mock.boxed_clone();
    assert!(first.poll_ready(&mut noop_cx()).is_ready());
    let mut second = first.clone();
    drop(second.call(1));
}

#[tokio::test]
async fn box_clone_sync_service_is_send_sync_clone() {
    let svc: BoxCloneSyncService<String, String, Infallible> =
        BoxCloneSyncService::new(TagLayer("s").layer(Echo));
    let shared = std::sync::Arc::new(svc);
    let copy: BoxCloneSyncService<String, String, Infallible> = (*shared).clone();
    assert_eq!(copy.oneshot("r:".into()).await, Ok("r:s><s".to_string()));
    let mut svc = (*shared).clone();
    svc.ready().await.unwrap();
    let fut: BoxFuture<'static, Result<String, Infallible>> = svc.call("x:".into());
    assert_eq!(fut.await, Ok("x:s><s".to_string()));
    assert_send::<BoxCloneSyncService<u32, u32, BoxError>>();
    assert_sync::<BoxCloneSyncService<u32, u32, BoxError>>();

    let layer: LayerFn<fn(AddOne) -> BoxCloneSyncService<u32, u32, Oops>> =
        BoxCloneSyncService::layer();
    assert_eq!(layer.layer(AddOne).oneshot(1).await, Ok(2));
}

#[tokio::test]
async fn box_layers_erase_layer_types() {
    // A list of differently-typed layers, all of one boxed type.
    let layers: Vec<BoxLayer<Echo, String, String, Infallible>> = vec![
        BoxLayer::new(TagLayer("a")),
        BoxLayer::new(
            ServiceBuilder::new()
                .layer(TagLayer("b"))
                .layer(TagLayer("c")),
        ),
        BoxLayer::new(tower_layer::Identity::new()),
    ];
    let mut paths = Vec::new();
    for layer in &layers {
        let svc: BoxService<String, String, Infallible> = layer.clone().layer(Echo);
        paths.push(svc.oneshot("r:".into()).await.unwrap());
    }
    assert_eq!(paths, ["r:a><a", "r:b>c><c<b", "r:"]);
    assert_send::<BoxLayer<Echo, String, String, Infallible>>();
    assert_sync::<BoxLayer<Echo, String, String, Infallible>>();

    let layer: BoxCloneServiceLayer<Echo, String, String, Infallible> =
        BoxCloneServiceLayer::new(TagLayer("clone"));
    let svc: BoxCloneService<String, String, Infallible> = layer.layer(Echo);
    assert_eq!(
        svc.clone().oneshot("r:".into()).await,
        Ok("r:clone><clone".to_string())
    );
    let copy = layer.clone();
    assert_eq!(
        copy.layer(Echo).oneshot("q:".into()).await,
        Ok("q:clone><clone".to_string())
    );
    assert_send::<BoxCloneServiceLayer<Echo, String, String, Infallible>>();
    assert_sync::<BoxCloneServiceLayer<Echo, String, String, Infallible>>();

    let layer: BoxCloneSyncServiceLayer<Echo, String, String, Infallible> =
        BoxCloneSyncServiceLayer::new(TagLayer("sync"));
    let svc: BoxCloneSyncService<String, String, Infallible> = layer.clone().layer(Echo);
    assert_eq!(
        svc.oneshot("r:".into()).await,
        Ok("r:sync><sync".to_string())
    );
    assert_send::<BoxCloneSyncServiceLayer<Echo, String, String, Infallible>>();
    assert_sync::<BoxCloneSyncServiceLayer<Echo, String, String, Infallible>>();
}

#[tokio::test]
async fn boxed_layer_wraps_a_mock() {
    let layer: BoxLayer<mock::Mock<String, String>, String, String, BoxError> =
        BoxLayer::new(TagLayer("m"));
    let (mut svc, mut handle) = mock::spawn_layer(layer);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("r:".to_string());
    assert_request_eq!(handle, "r:m>").send_response("ok".to_string());
    assert_eq!(fut.await.unwrap(), "ok<m");
}

#[tokio::test]
async fn tag_service_through_box_keeps_instant_future_inside() {
    let inner: Tag<Echo> = TagLayer("i").layer(Echo);
    let mut svc = BoxService::new(inner);
    svc.ready().await.unwrap();
    assert_eq!(svc.call("z:".into()).await, Ok("z:i><i".to_string()));
}
