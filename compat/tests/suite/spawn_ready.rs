//! `tower::spawn_ready`: `SpawnReady` drives a not-ready inner service to
//! readiness on a background task; `SpawnReadyLayer`.

use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok};
use tower::layer::util::{Identity, Stack};
use tower::spawn_ready::future::ResponseFuture;
use tower::spawn_ready::{SpawnReady, SpawnReadyLayer};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::probe::SpanProbe;
use super::support::{
    AddOne, Broken, Instant, Oops, SlowStart, assert_clone, assert_debug, assert_default,
    assert_send, assert_sync,
};

type Req = &'static str;

fn spawned() -> (Spawn<SpawnReady<Mock<Req, Req>>>, Handle<Req, Req>) {
    mock::spawn_with(SpawnReady::new)
}

/// Lets the runtime run other tasks until `svc` is woken.
async fn until_woken<T>(svc: &Spawn<T>) {
    for _ in 0..32 {
        if svc.is_woken() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the service was never woken");
}

#[tokio::test]
async fn a_ready_inner_service_is_called_directly() {
    let (mut svc, mut handle) = spawned();
    assert_ready_ok!(svc.poll_ready());
    let fut: ResponseFuture<mock::future::ResponseFuture<Req>, BoxError> = svc.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    let rsp: Result<Req, BoxError> = fut.await;
    assert_eq!(rsp.unwrap(), "world");
}

#[tokio::test]
async fn a_background_task_waits_for_the_inner_service() {
    let (mut svc, mut handle) = spawned();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    tokio::task::yield_now().await;
    assert_pending!(svc.poll_ready());

    handle.allow(1);
    until_woken(&svc).await;
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(fut.await.unwrap(), "world");
}

#[tokio::test]
async fn inner_readiness_errors_are_returned() {
    let (mut svc, mut handle) = spawned();
    handle.send_error("foobar");
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.to_string(), "foobar");

    // Also when the error comes while the background task waits.
    let (mut svc, mut handle) = spawned();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    // Let the background task take over the waiting.
    tokio::task::yield_now().await;
    handle.send_error(Oops("later"));
    until_woken(&svc).await;
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("later")));

    let err = SpawnReady::new(Broken).ready().await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("broken")));
}

#[tokio::test]
async fn the_background_task_runs_in_the_callers_span() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let (probe, seen) = SpanProbe::new(1);
    let mut svc = Spawn::new(SpawnReady::new(probe));
    let span = tracing::info_span!("caller");
    {
        let _entered = span.enter();
        assert_pending!(svc.poll_ready());
    }
    // The probe wakes its task itself, so `is_woken` tells nothing here:
    // let the background task run, then look.
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    assert_ready_ok!(svc.poll_ready());
    let seen = seen.take();
    assert_eq!(seen[0], ("poll_ready", Some("caller")));
    // The first poll of the background task happens in the caller's span.
    assert_eq!(seen[1], ("poll_ready", Some("caller")));
    assert_eq!(svc.call("hello").await.unwrap(), "hello");
}

#[tokio::test]
async fn dropping_the_service_aborts_the_background_task() {
    let (mut svc, mut handle) = spawned();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    assert_pending!(handle.poll_request());
    drop(svc);
    tokio::task::yield_now().await;
    // The inner mock went away with the aborted task.
    assert!(assert_ready!(handle.poll_request()).is_none());
}

#[tokio::test]
async fn inner_errors_are_boxed_but_not_wrapped() {
    let svc: SpawnReady<AddOne> = SpawnReady::new(AddOne);
    let err: BoxError = svc.oneshot(u32::MAX).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));

    // A service that is not ready at first gets there through the task.
    let (slow, stats) = SlowStart::new(3);
    let mut svc = SpawnReady::new(slow);
    let ready: &mut SpawnReady<SlowStart> = svc.ready().await.unwrap();
    let fut: ResponseFuture<Instant<u32, Oops>, Oops> = ready.call(21);
    assert_eq!(fut.await.unwrap(), 42);
    assert_eq!(stats.calls(), 1);
}

#[tokio::test]
async fn types_and_layers() {
    let layer: SpawnReadyLayer = SpawnReady::<AddOne>::layer();
    let svc: SpawnReady<AddOne> = layer.layer(AddOne);
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
    let svc: SpawnReady<AddOne> = SpawnReadyLayer::new().layer(AddOne);
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
    let builder: ServiceBuilder<Stack<SpawnReadyLayer, Identity>> =
        ServiceBuilder::new().layer(SpawnReadyLayer::default());
    let svc: SpawnReady<AddOne> = builder.service(AddOne);
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);

    assert_clone::<SpawnReadyLayer>();
    assert_debug::<SpawnReadyLayer>();
    assert_default::<SpawnReadyLayer>();
    assert_debug::<SpawnReady<AddOne>>();
    assert_send::<SpawnReady<AddOne>>();
    assert_sync::<SpawnReady<AddOne>>();
    assert_send::<ResponseFuture<Instant<u32, Oops>, Oops>>();
}
