//! The response future of [`SpawnReady`](super::SpawnReady).

use futures_util::future::MapErr;

use crate::BoxError;

opaque_future! {
    /// The response future of [`SpawnReady`](super::SpawnReady): the inner
    /// response, with its error boxed.
    pub struct ResponseFuture<F, E>(MapErr<F, fn(E) -> BoxError>);
}
