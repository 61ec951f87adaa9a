//! The futures of the [`make`](super) module.

use std::convert::Infallible;
use std::future::Ready;

opaque_future! {
    /// The future of [`Shared`](super::Shared): a clone of the shared
    /// service, ready at once.
    pub struct SharedFuture<S>(Ready<Result<S, Infallible>>);
}
