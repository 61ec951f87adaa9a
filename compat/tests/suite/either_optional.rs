//! `Either` (as a service and as a layer), `option_layer` and `Optional`.

use std::convert::Infallible;
use std::task::Poll;

use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};
use tower::layer::util::Identity;
use tower::util::future::EitherResponseFuture;
use tower::util::future::optional::ResponseFuture as OptionalFuture;
use tower::util::{Either, Optional, option_layer};
use tower::{BoxError, Layer, Service, ServiceExt};

use super::support::{
    AddOne, Echo, Instant, Latch, Oops, SlowStart, Tag, TagLayer, assert_copy, cloned, noop_cx,
    poll_once,
};

#[tokio::test]
async fn either_service_uses_the_arm_it_holds() {
    let (slow, _) = SlowStart::new(0);
    let left: Either<AddOne, SlowStart> = Either::Left(AddOne);
    let right: Either<AddOne, SlowStart> = Either::Right(slow);
    assert_eq!(left.oneshot(1).await, Ok(2));
    assert_eq!(right.oneshot(1).await, Ok(2));

    let mut svc: Either<AddOne, AddOne> = Either::Right(AddOne);
    assert!(svc.poll_ready(&mut noop_cx()).is_ready());
    let mut fut: EitherResponseFuture<Instant<u32, Oops>, Instant<u32, Oops>> = svc.call(u32::MAX);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Err(Oops("overflow"))));

    assert_copy::<Either<AddOne, Echo>>();
    let copyable: Either<AddOne, Echo> = Either::Left(AddOne);
    let copy = copyable;
    assert!(matches!(copy, Either::Left(AddOne)));
    assert!(matches!(cloned(&copyable), Either::Left(_)));
}

#[test]
fn either_forwards_readiness_of_its_arm() {
    let (latch, key) = Latch::new();
    let mut svc = tower_test::mock::Spawn::new(Either::<Latch, Latch>::Left(latch));
    assert_pending!(svc.poll_ready());
    key.open();
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
}

#[tokio::test]
async fn either_is_a_layer() {
    let layer: Either<TagLayer, Identity> = Either::Left(TagLayer("l"));
    let svc: Either<Tag<Echo>, Echo> = layer.layer(Echo);
    assert_eq!(svc.oneshot("r:".into()).await, Ok("r:l><l".to_string()));
    let layer: Either<TagLayer, Identity> = Either::Right(Identity::new());
    let svc = layer.layer(Echo);
    assert!(matches!(svc, Either::Right(Echo)));
    assert_eq!(
        svc.oneshot("r:".into()).await,
        Ok::<_, Infallible>("r:".to_string())
    );
}

#[tokio::test]
async fn option_layer_picks_an_arm() {
    let on: Either<TagLayer, Identity> = option_layer(Some(TagLayer("on")));
    assert!(matches!(on, Either::Left(TagLayer("on"))));
    let off: Either<TagLayer, Identity> = option_layer(None);
    assert!(matches!(off, Either::Right(_)));
    assert_eq!(
        on.layer(Echo).oneshot("r:".into()).await,
        Ok("r:on><on".to_string())
    );
    assert_eq!(
        off.layer(Echo).oneshot("r:".into()).await,
        Ok("r:".to_string())
    );
}

#[tokio::test]
async fn optional_forwards_to_some_and_boxes_errors() {
    let svc: Optional<AddOne> = Optional::new(Some(AddOne));
    let rsp: Result<u32, BoxError> = svc.oneshot(1).await;
    assert_eq!(rsp.unwrap(), 2);
    let err = Optional::new(Some(AddOne))
        .oneshot(u32::MAX)
        .await
        .unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));
    // Readiness errors are boxed too.
    let mut broken = Optional::new(Some(super::support::Broken));
    let err = broken.ready().await.unwrap_err();
    assert!(err.is::<Oops>());
}

#[test]
fn optional_none_is_ready_and_fails_every_call() {
    let mut svc = tower_test::mock::Spawn::new(Optional::<AddOne>::new::<u32>(None));
    assert_ready_ok!(svc.poll_ready());
    let mut fut: OptionalFuture<Instant<u32, Oops>> = svc.call(1);
    let err = match poll_once(&mut fut) {
        Poll::Ready(Err(err)) => err,
        other => panic!("expected an immediate error, got {other:?}"),
    };
    assert!(err.is::<tower::util::error::optional::None>());
    assert_eq!(err.to_string(), "None");
    let none: &tower::util::error::optional::None = err.downcast_ref().unwrap();
    assert_eq!(format!("{none:?}"), "None(())");
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    is_error(none);
}

#[test]
fn optional_some_forwards_readiness() {
    let (mock, mut handle) = tower_test::mock::pair::<u32, u32>();
    let mut svc = tower_test::mock::Spawn::new(Optional::new(Some(mock)));
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.send_error("down");
    assert!(svc.is_woken());
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.to_string(), "down");
}
