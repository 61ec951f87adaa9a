//! The auto traits, `Clone`, `Debug` and `Default` of the public types.

use super::*;

#[test]
fn auto_traits() {
    type OverList = Balance<ServiceList<Vec<Endpoint>>, Req>;
    type OverChannel = Balance<Changes<u32, Endpoint>, Req>;
    assert_send::<OverList>();
    assert_sync::<OverList>();
    assert_debug::<OverList>();
    assert_send::<OverChannel>();
    assert_sync::<OverChannel>();
    assert_unpin::<OverChannel>();
    assert_unpin::<<OverList as Service<Req>>::Future>();
    assert_send::<<OverList as Service<Req>>::Future>();
    assert_clone::<MakeBalance<Endpoints, u32>>();
    assert_debug::<MakeBalance<Endpoints, u32>>();
    assert_send::<MakeBalance<Endpoints, u32>>();
    assert_sync::<MakeBalance<Endpoints, u32>>();
    assert_debug::<MakeFuture<Instant<List, Oops>, u32>>();
    assert_send::<MakeFuture<Instant<List, Oops>, u32>>();
    assert_clone::<MakeBalanceLayer<Endpoints, u32>>();
    assert_clone::<MakeBalanceLayer<std::rc::Rc<u8>, std::rc::Rc<u8>>>();
    assert_default::<MakeBalanceLayer<std::rc::Rc<u8>, u32>>();
    assert_debug::<MakeBalanceLayer<std::rc::Rc<u8>, u32>>();
    assert_send::<MakeBalanceLayer<Endpoints, u32>>();
    assert_sync::<MakeBalanceLayer<Endpoints, u32>>();
    assert_debug::<DiscoverError>();
    assert_send::<DiscoverError>();
    assert_sync::<DiscoverError>();
    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
    is_error::<DiscoverError>();
}
