//! Auto traits and derived traits that programs rely on: `Send`, `Sync`,
//! `Unpin`, `Clone`, `Copy`, `Default`, `Debug`.

use std::convert::Infallible;
use std::marker::PhantomPinned;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::stream::Iter;
use tower::layer::util::{Identity, Stack};
use tower::util::future::{
    AndThenFuture, EitherResponseFuture, MapErrFuture, MapResponseFuture, MapResultFuture,
    ThenFuture,
};
use tower::util::{
    AndThen, BoxCloneService, BoxCloneSyncService, BoxService, CallAll, CallAllUnordered, Either,
    FutureService, MapErr, MapFuture, MapRequest, MapResponse, MapResult, Oneshot, Optional, Ready,
    ReadyOneshot, ServiceFn, Then,
};
use tower::{BoxError, Service, ServiceBuilder};
use tower_layer::LayerFn;

use super::support::{
    AddOne, Echo, Instant, Oops, TagLayer, assert_clone, assert_copy, assert_debug, assert_default,
    assert_send, assert_sync, assert_unpin,
};

type Fut = Instant<u32, Oops>;
type Ptr = fn(u32) -> u32;

/// A service that must never be moved once pinned.
#[derive(Debug)]
struct Pinned {
    _pin: PhantomPinned,
}

impl Service<u32> for Pinned {
    type Response = u32;
    type Error = Infallible;
    type Future = Instant<u32, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: u32) -> Self::Future {
        std::future::ready(Ok(req))
    }
}

#[test]
fn layers_and_builder() {
    assert_send::<ServiceBuilder<Identity>>();
    assert_sync::<ServiceBuilder<Identity>>();
    assert_clone::<ServiceBuilder<Stack<TagLayer, Identity>>>();
    assert_default::<ServiceBuilder<Identity>>();
    assert_debug::<ServiceBuilder<Stack<TagLayer, Identity>>>();
    assert_send::<Identity>();
    assert_sync::<Identity>();
    assert_debug::<Identity>();
    assert_send::<Stack<TagLayer, Identity>>();
    assert_sync::<Stack<TagLayer, Identity>>();
    assert_clone::<Stack<TagLayer, Identity>>();
    assert_debug::<Stack<TagLayer, Identity>>();
    assert_copy::<LayerFn<Ptr>>();
    assert_send::<LayerFn<Ptr>>();
    assert_sync::<LayerFn<Ptr>>();
    assert_debug::<LayerFn<Ptr>>();
}

#[test]
fn readiness_futures_are_always_unpin_and_send_whatever_the_request() {
    assert_unpin::<ReadyOneshot<Pinned, u32>>();
    assert_unpin::<Ready<'static, Pinned, u32>>();
    // The request type does not leak into auto traits.
    assert_send::<ReadyOneshot<AddOne, Rc<u32>>>();
    assert_sync::<ReadyOneshot<AddOne, Rc<u32>>>();
    assert_send::<Ready<'static, AddOne, Rc<u32>>>();
    assert_sync::<Ready<'static, AddOne, Rc<u32>>>();
    assert_send::<Oneshot<AddOne, u32>>();
    assert_unpin::<Oneshot<AddOne, u32>>();
    assert_debug::<Oneshot<AddOne, u32>>();
    assert_debug::<ReadyOneshot<AddOne, u32>>();
    assert_debug::<Ready<'static, AddOne, u32>>();
}

#[test]
fn combinator_services() {
    fn all<T: Send + Sync + Unpin + Clone + std::fmt::Debug>() {}
    all::<MapRequest<AddOne, Ptr>>();
    all::<MapResponse<AddOne, Ptr>>();
    all::<MapErr<AddOne, Ptr>>();
    all::<MapResult<AddOne, Ptr>>();
    all::<AndThen<AddOne, Ptr>>();
    all::<Then<AddOne, Ptr>>();
    all::<MapFuture<AddOne, Ptr>>();
    all::<Either<AddOne, Echo>>();
    assert_copy::<Either<AddOne, Echo>>();
    all::<ServiceFn<Ptr>>();
    assert_copy::<ServiceFn<Ptr>>();
    all::<FutureService<Instant<AddOne, Oops>, AddOne>>();
    assert_send::<Optional<AddOne>>();
    assert_sync::<Optional<AddOne>>();
    assert_debug::<Optional<AddOne>>();
}

#[test]
fn response_futures_are_unpin_send_sync_when_their_parts_are() {
    fn all<T: Send + Sync + Unpin + std::fmt::Debug>() {}
    all::<MapResponseFuture<Fut, Ptr>>();
    all::<MapErrFuture<Fut, fn(Oops) -> Oops>>();
    all::<MapResultFuture<Fut, fn(Result<u32, Oops>) -> Result<u32, Oops>>>();
    all::<AndThenFuture<Fut, Fut, fn(u32) -> Fut>>();
    all::<ThenFuture<Fut, Fut, fn(Result<u32, Oops>) -> Fut>>();
    assert_send::<EitherResponseFuture<Fut, Fut>>();
    assert_sync::<EitherResponseFuture<Fut, Fut>>();
    assert_unpin::<EitherResponseFuture<Fut, Fut>>();
    all::<tower::util::future::optional::ResponseFuture<Fut>>();
}

#[test]
fn call_all_streams() {
    type Reqs = Iter<std::vec::IntoIter<u32>>;
    assert_send::<CallAll<AddOne, Reqs>>();
    assert_unpin::<CallAll<AddOne, Reqs>>();
    assert_debug::<CallAll<AddOne, Reqs>>();
    assert_send::<CallAllUnordered<AddOne, Reqs>>();
    assert_unpin::<CallAllUnordered<AddOne, Reqs>>();
    assert_debug::<CallAllUnordered<AddOne, Reqs>>();
}

#[test]
fn boxed_services() {
    assert_send::<BoxService<u32, u32, BoxError>>();
    assert_sync::<BoxService<u32, u32, BoxError>>();
    assert_debug::<BoxService<u32, u32, BoxError>>();
    assert_send::<BoxCloneService<u32, u32, BoxError>>();
    assert_clone::<BoxCloneService<u32, u32, BoxError>>();
    assert_debug::<BoxCloneService<u32, u32, BoxError>>();
    assert_send::<BoxCloneSyncService<u32, u32, BoxError>>();
    assert_sync::<BoxCloneSyncService<u32, u32, BoxError>>();
    assert_clone::<BoxCloneSyncService<u32, u32, BoxError>>();
    assert_unpin::<<BoxService<u32, u32, BoxError> as Service<u32>>::Future>();
    assert_unpin::<<BoxCloneService<u32, u32, BoxError> as Service<u32>>::Future>();
    assert_unpin::<<BoxCloneSyncService<u32, u32, BoxError> as Service<u32>>::Future>();
    assert_send::<<BoxCloneSyncService<u32, u32, BoxError> as Service<u32>>::Future>();
}

#[test]
fn error_types() {
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    error::<tower::util::error::optional::None>();
    error::<tower_test::mock::error::Closed>();
    assert_send::<tower::util::rng::HasherRng>();
    assert_sync::<tower::util::rng::HasherRng>();
}

#[test]
fn boxed_auto_traits_do_not_depend_on_the_message_types() {
    type R = Rc<u32>;
    assert_send::<BoxService<R, R, R>>();
    assert_sync::<BoxService<R, R, R>>();
    assert_send::<BoxCloneService<R, R, R>>();
    assert_send::<BoxCloneSyncService<R, R, R>>();
    assert_sync::<BoxCloneSyncService<R, R, R>>();
    assert_send::<tower::util::BoxLayer<R, R, R, R>>();
    assert_sync::<tower::util::BoxLayer<R, R, R, R>>();
    assert_send::<tower::util::BoxCloneServiceLayer<R, R, R, R>>();
    assert_sync::<tower::util::BoxCloneServiceLayer<R, R, R, R>>();
    assert_send::<tower::util::BoxCloneSyncServiceLayer<R, R, R, R>>();
    assert_sync::<tower::util::BoxCloneSyncServiceLayer<R, R, R, R>>();
    assert_unpin::<BoxService<R, R, R>>();
    assert_unpin::<tower::util::UnsyncBoxService<R, R, R>>();
}
