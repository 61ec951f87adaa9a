//! `MakeBalance` and `MakeBalanceLayer`: a balancer made per target.

use super::*;

/// A discovery made per target: two always-ready endpoints.
type Made = ServiceList<
    Vec<
        Constant<
            donjon::util::ServiceFn<fn(Req) -> std::future::Ready<Result<String, BoxError>>>,
            u32,
        >,
    >,
>;

fn answer_a(request: Req) -> std::future::Ready<Result<String, BoxError>> {
    std::future::ready(Ok(format!("a: {request}")))
}

fn answer_b(request: Req) -> std::future::Ready<Result<String, BoxError>> {
    std::future::ready(Ok(format!("b: {request}")))
}

fn made() -> Made {
    ServiceList::new(vec![
        Constant::new(donjon::service_fn(answer_a as fn(Req) -> _), 0),
        Constant::new(donjon::service_fn(answer_b as fn(Req) -> _), 1),
    ])
}

#[test]
fn make_balance_makes_a_balancer_per_target() {
    let make = donjon::service_fn(|target: &'static str| async move {
        assert_eq!(target, "eu");
        Ok::<_, BoxError>(made())
    });
    let make = MakeBalance::<_, Req>::new(make);
    let balance = futures::executor::block_on(make.oneshot("eu")).unwrap();
    // Discovery happens when the balancer is first polled.
    assert_eq!(balance.len(), 0);
    let answer = futures::executor::block_on(balance.oneshot("hi")).unwrap();
    assert_eq!(answer, "a: hi", "the lower load");
}

#[tokio::test]
async fn make_balance_follows_its_inner_service() {
    let (mut make, mut handle) =
        mock::spawn_with(|mock: mock::Mock<Req, Made>| MakeBalance::<_, Req>::new(mock));

    handle.allow(0);
    assert_pending!(make.poll_ready());
    handle.allow(1);
    assert!(make.is_woken());
    assert_ready_ok!(make.poll_ready());

    let future = make.call("target");
    assert!(
        format!("{future:?}").starts_with("MakeFuture"),
        "{future:?}"
    );
    let mut future = task::spawn(future);
    assert_pending!(future.poll());
    assert_request_eq!(handle, "target").send_response(made());
    assert!(future.is_woken());
    let balance = assert_ready_ok!(future.poll());
    assert_eq!(balance.oneshot("x").await.unwrap(), "a: x");

    // The inner service's errors come through unchanged.
    handle.allow(1);
    assert_ready_ok!(make.poll_ready());
    let mut future = task::spawn(make.call("broken"));
    assert_request_eq!(handle, "broken").send_error(Teapot);
    let error = assert_ready_err!(future.poll());
    assert!(error.is::<Teapot>());

    handle.send_error("make failed");
    assert_eq!(
        assert_ready_err!(make.poll_ready()).to_string(),
        "make failed"
    );
}

#[test]
fn make_balance_is_clone_and_debug() {
    let (mock, _handle) = mock::pair::<Req, Made>();
    let make = MakeBalance::<_, Req>::new(mock);
    let copy = make.clone();
    let debug = format!("{copy:?}");
    assert!(debug.starts_with("MakeBalance { inner: Mock"), "{debug}");
}

#[test]
fn make_balance_layer_wraps_a_make_discover_service() {
    let layer = MakeBalanceLayer::<_, Req>::new();
    assert_eq!(format!("{layer:?}"), "MakeBalanceLayer");
    let _copy = layer.clone();
    let _default: MakeBalanceLayer<(), Req> = MakeBalanceLayer::default();

    let make = donjon::service_fn(|()| async { Ok::<_, BoxError>(made()) });
    let make = layer.layer(make);
    let balance = futures::executor::block_on(make.oneshot(())).unwrap();
    assert_eq!(
        futures::executor::block_on(balance.oneshot("y")).unwrap(),
        "a: y"
    );

    let make = ServiceBuilder::new()
        .layer(MakeBalanceLayer::<_, Req>::new())
        .service(donjon::service_fn(|()| async { Ok::<_, BoxError>(made()) }));
    let balance = futures::executor::block_on(make.oneshot(())).unwrap();
    assert_eq!(
        futures::executor::block_on(balance.oneshot("z")).unwrap(),
        "a: z"
    );
}
