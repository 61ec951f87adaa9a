//! `MakeBalance`, `MakeBalanceLayer` and `MakeFuture`: a balancer made per discover.

use super::*;

#[tokio::test]
async fn make_balance_turns_each_discover_into_a_balancer() {
    let mut make: MakeBalance<Endpoints, u32> = MakeBalance::new(Endpoints);
    let fut: MakeFuture<Instant<List, Oops>, u32> = make.ready().await.unwrap().call(3);
    let mut balance: Balance<List, u32> = fut.await.unwrap();
    assert_eq!(balance.ready().await.unwrap().call(1).await.unwrap(), 2);
    assert_eq!(balance.len(), 3);

    // Make errors come through as they are.
    let err: Oops = make.ready().await.unwrap().call(0).await.unwrap_err();
    assert_eq!(err, Oops("no endpoints"));

    // It is a `MakeService`.
    let balance = make.make_service(2).await.unwrap();
    assert_eq!(balance.oneshot(41).await.unwrap(), 42);

    let copy: MakeBalance<Endpoints, u32> = make.clone();
    assert_eq!(format!("{copy:?}"), "MakeBalance { inner: Endpoints }");
}

#[tokio::test]
async fn make_balance_layer() {
    const LAYER: MakeBalanceLayer<Endpoints, u32> = MakeBalanceLayer::new();
    let layer: MakeBalanceLayer<Endpoints, u32> = LAYER;
    assert_eq!(format!("{layer:?}"), "MakeBalanceLayer");
    let make: MakeBalance<Endpoints, u32> = layer.clone().layer(Endpoints);
    let balance = make.oneshot(1).await.unwrap();
    assert_eq!(balance.oneshot(1).await.unwrap(), 2);

    let builder: ServiceBuilder<Stack<MakeBalanceLayer<Endpoints, u32>, Identity>> =
        ServiceBuilder::new().layer(MakeBalanceLayer::default());
    let make: MakeBalance<Endpoints, u32> = builder.service(Endpoints);
    let balance = make.oneshot(2).await.unwrap();
    assert_eq!(balance.oneshot(1).await.unwrap(), 2);
}

/// A user's generic helper that balances over whatever a make-discover
/// service gives.
async fn balance_over<M, T>(make: M, target: T) -> Balance<M::Response, u32>
where
    M: Service<T>,
    M::Error: std::fmt::Debug,
    M::Response: Discover,
    <M::Response as Discover>::Key: std::hash::Hash,
    <M::Response as Discover>::Service: Service<u32>,
    <<M::Response as Discover>::Service as Service<u32>>::Error: Into<BoxError>,
{
    MakeBalance::new(make).oneshot(target).await.unwrap()
}

#[tokio::test]
async fn make_balance_in_generic_code() {
    let balance = balance_over(Endpoints, 2).await;
    assert_eq!(
        balance.len(),
        0,
        "nothing is discovered before the first poll"
    );
    assert_eq!(balance.oneshot(5).await.unwrap(), 6);
}
