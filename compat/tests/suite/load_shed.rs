//! `tower::load_shed`: `LoadShed`, `LoadShedLayer`, `error::Overloaded` and
//! the response future.

use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::layer::util::{Identity, Stack};
use tower::load_shed::error::Overloaded;
use tower::load_shed::future::ResponseFuture;
use tower::load_shed::{LoadShed, LoadShedLayer};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::support::{
    AddOne, Broken, Instant, Oops, assert_clone, assert_debug, assert_default, assert_send,
    assert_sync,
};

type Req = &'static str;

const LAYER: LoadShedLayer = LoadShedLayer::new();

fn shed() -> (Spawn<LoadShed<Mock<Req, Req>>>, Handle<Req, Req>) {
    mock::spawn_layer(LAYER)
}

#[tokio::test]
async fn a_ready_inner_service_gets_the_request() {
    let (mut svc, mut handle) = shed();
    assert_ready_ok!(svc.poll_ready());
    let fut: ResponseFuture<mock::future::ResponseFuture<Req>> = svc.call("hello");
    let mut fut = task::spawn(fut);
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    let rsp: Result<Req, BoxError> = fut.await;
    assert_eq!(rsp.unwrap(), "world");
}

#[tokio::test]
async fn an_unready_inner_service_sheds_the_request() {
    let (mut svc, mut handle) = shed();
    handle.allow(0);
    // Always ready to the caller...
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    // ...but the request fails at once, without reaching the inner service.
    let err = assert_ready_err!(fut.poll());
    assert!(err.is::<Overloaded>());
    assert_eq!(err.to_string(), "service overloaded");
    assert_pending!(handle.poll_request());

    // Once the inner service can take a request again, it gets through.
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("again");
    assert_request_eq!(handle, "again").send_response("ok");
    assert_eq!(fut.await.unwrap(), "ok");
}

#[tokio::test]
async fn readiness_errors_are_returned_boxed() {
    let (mut svc, mut handle) = shed();
    handle.send_error(Oops("down"));
    let err = assert_ready_err!(svc.poll_ready());
    assert!(!err.is::<Overloaded>());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("down")));

    let mut broken = LoadShed::new(Broken);
    let err = broken.ready().await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("broken")));
}

#[tokio::test]
async fn one_readiness_serves_one_call() {
    let (mut svc, mut handle) = shed();
    assert_ready_ok!(svc.poll_ready());
    let first = svc.call("first");
    let second = svc.call("second");
    let err = second.await.unwrap_err();
    assert!(err.is::<Overloaded>());
    assert_request_eq!(handle, "first").send_response("1st");
    assert_eq!(first.await.unwrap(), "1st");
    assert_pending!(handle.poll_request());
}

#[tokio::test]
async fn a_clone_starts_not_ready() {
    let (mut svc, mut handle) = shed();
    assert_ready_ok!(svc.poll_ready());
    let mut copy = svc.clone();
    let err = copy.call("from the clone").await.unwrap_err();
    assert!(err.is::<Overloaded>());
    let fut = svc.call("from the original");
    assert_request_eq!(handle, "from the original").send_response("ok");
    assert_eq!(fut.await.unwrap(), "ok");
}

#[tokio::test]
async fn inner_errors_are_boxed_but_not_wrapped() {
    let svc: LoadShed<AddOne> = LoadShed::new(AddOne);
    let err: BoxError = svc.oneshot(u32::MAX).await.unwrap_err();
    assert!(!err.is::<Overloaded>());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));
}

#[tokio::test]
async fn types_and_layers() {
    const SVC: LoadShed<AddOne> = LoadShed::new(AddOne);
    let mut svc = SVC;
    let ready: &mut LoadShed<AddOne> = svc.ready().await.unwrap();
    let fut: ResponseFuture<Instant<u32, Oops>> = ready.call(1);
    assert_eq!(fut.await.unwrap(), 2);

    let layered: LoadShed<AddOne> = LAYER.layer(AddOne);
    assert_eq!(layered.oneshot(1).await.unwrap(), 2);
    let builder: ServiceBuilder<Stack<LoadShedLayer, Identity>> = ServiceBuilder::new().load_shed();
    let built: LoadShed<AddOne> = builder.service(AddOne);
    assert_eq!(built.oneshot(1).await.unwrap(), 2);

    assert_clone::<LoadShed<AddOne>>();
    assert_debug::<LoadShed<AddOne>>();
    assert_send::<LoadShed<AddOne>>();
    assert_sync::<LoadShed<AddOne>>();
    assert_send::<ResponseFuture<Instant<u32, Oops>>>();
    assert_debug::<ResponseFuture<Instant<u32, Oops>>>();
    assert_clone::<LoadShedLayer>();
    assert_default::<LoadShedLayer>();
    assert_eq!(format!("{:?}", LoadShedLayer::default()), "LoadShedLayer");
    assert_eq!(format!("{LAYER:?}"), "LoadShedLayer");
}

#[test]
fn overloaded_error() {
    const ERR: Overloaded = Overloaded::new();
    assert_default::<Overloaded>();
    assert_send::<Overloaded>();
    assert_sync::<Overloaded>();
    assert_eq!(ERR.to_string(), "service overloaded");
    assert_eq!(format!("{:?}", Overloaded::default()), "Overloaded");
    let boxed: BoxError = Box::new(Overloaded::new());
    assert!(boxed.is::<Overloaded>());
    assert!(boxed.source().is_none());
}
