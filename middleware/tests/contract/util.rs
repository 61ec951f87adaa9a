//! The `util` adapters, the boxed services, `Optional`, and a `ServiceBuilder` stack of them.

use donjon::ServiceBuilder;
use donjon::layer::util::Identity;
use donjon::util::{
    AndThenLayer, BoxCloneService, BoxCloneSyncService, BoxService, MapErrLayer, MapFutureLayer,
    MapRequestLayer, MapResponseLayer, MapResultLayer, Optional, ThenLayer, UnsyncBoxService,
    option_layer,
};
use donjon_test::mock::future::ResponseFuture;

use super::*;

#[tokio::test(start_paused = true)]
async fn identity_keeps_the_contract() {
    Contract::new(Identity::new(), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn map_request_keeps_the_contract() {
    let layer = MapRequestLayer::new(|request: Req| request.len());
    Contract::new(layer, hello)
        .check_cloneable::<usize, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn map_response_keeps_the_contract() {
    let layer = MapResponseLayer::new(|response: Res| response.len());
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn map_err_keeps_the_contract() {
    let layer = MapErrLayer::new(|error: BoxError| error.to_string());
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn map_result_keeps_the_contract() {
    let layer = MapResultLayer::new(|result: Result<Res, BoxError>| result.map(str::len));
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn map_future_keeps_the_contract() {
    let layer = MapFutureLayer::new(|future: ResponseFuture<Res>| future);
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn then_keeps_the_contract() {
    let layer = ThenLayer::new(|result: Result<Res, BoxError>| async move { result });
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn and_then_keeps_the_contract() {
    let layer = AndThenLayer::new(|response: Res| async move { Ok::<_, BoxError>(response.len()) });
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn box_service_keeps_the_contract() {
    Contract::new(BoxService::layer(), hello)
        .check::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn unsync_box_service_keeps_the_contract() {
    Contract::new(UnsyncBoxService::layer(), hello)
        .check::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn box_clone_service_keeps_the_contract() {
    Contract::new(BoxCloneService::layer(), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn box_clone_sync_service_keeps_the_contract() {
    Contract::new(BoxCloneSyncService::layer(), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn option_layer_keeps_the_contract_with_and_without_a_layer() {
    let some = option_layer(Some(MapRequestLayer::new(|request: Req| request)));
    Contract::new(some, hello)
        .check_cloneable::<Req, Res>()
        .await;
    let none = option_layer(None::<MapRequestLayer<fn(Req) -> Req>>);
    Contract::new(none, hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn optional_with_a_service_keeps_the_contract() {
    let layer = layer_fn(|mock: Mock<Req, Res>| Optional::new::<Req>(Some(mock)));
    Contract::new(layer, hello).check::<Req, Res>().await;
}

#[tokio::test(start_paused = true)]
async fn a_service_builder_stack_keeps_the_contract() {
    let layer = ServiceBuilder::new()
        .map_request(|request: Req| request.trim())
        .map_response(|response: Res| response.len())
        .map_err(|error: BoxError| error.to_string());
    Contract::new(layer, hello)
        .check_cloneable::<Req, Res>()
        .await;
}
