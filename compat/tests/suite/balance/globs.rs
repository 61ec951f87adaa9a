//! The `balance`, `discover` and `load` glob imports.

use tower::ServiceExt as _;
use tower::balance::p2c::*;
use tower::discover::*;
use tower::load::*;

use super::super::support::AddOne;

#[tokio::test]
async fn balance_discover_and_load_globs() {
    let list: ServiceList<Vec<Constant<AddOne, u8>>> =
        ServiceList::new(vec![Constant::new(AddOne, 0)]);
    let balance: Balance<_, u32> = Balance::new(list);
    let _: Option<MakeBalance<AddOne, u32>> = None;
    let _: Option<MakeBalanceLayer<AddOne, u32>> = None;
    let _: Option<MakeFuture<std::future::Ready<()>, u32>> = None;
    let _: Option<Change<u8, AddOne>> = None;
    fn is_discover<D: Discover>(_: &D) {}
    is_discover(&ServiceList::new(vec![AddOne]));
    fn is_load<L: Load>(_: &L) {}
    is_load(&Constant::new(AddOne, 1u8));
    let _: Option<PeakEwma<AddOne>> = None;
    let _: Option<PendingRequests<AddOne>> = None;
    let _: Option<CompleteOnResponse> = None;
    assert_eq!(balance.oneshot(1).await.unwrap(), 2);
}
