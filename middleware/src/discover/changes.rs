use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::TryStream;

use crate::sealed::Sealed;

/// A source of [`Change`]s to a set of services.
///
/// Implemented for every [`TryStream`] of `Change<K, S>` (that is, every
/// stream of `Result<Change<K, S>, E>`); it cannot be implemented otherwise.
pub trait Discover: Sealed<Change<(), ()>> {
    /// What identifies a service.
    type Key: Eq;

    /// The services discovered.
    type Service;

    /// The error of a failed discovery.
    type Error;

    /// Polls for the next change; `None` when there will be no more.
    #[allow(
        clippy::type_complexity,
        reason = "tower's signature, kept for source compatibility"
    )]
    fn poll_discover(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Change<Self::Key, Self::Service>, Self::Error>>>;
}

impl<K, S, E, D> Sealed<Change<(), ()>> for D
where
    D: TryStream<Ok = Change<K, S>, Error = E> + ?Sized,
    K: Eq,
{
}

impl<K, S, E, D> Discover for D
where
    D: TryStream<Ok = Change<K, S>, Error = E> + ?Sized,
    K: Eq,
{
    type Key = K;
    type Service = S;
    type Error = E;

    fn poll_discover(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Change<K, S>, E>>> {
        TryStream::try_poll_next(self, cx)
    }
}

/// A change to a set of services.
#[derive(Debug, Clone)]
pub enum Change<K, S> {
    /// Adds a service, or replaces the one with the same key.
    Insert(K, S),
    /// Takes away the service with this key.
    Remove(K),
}

impl<K, S> Change<K, S> {
    /// Applies `f` to the inserted service, if any.
    #[cfg_attr(
        not(feature = "load"),
        allow(dead_code, reason = "used by the load module's discovery wrappers")
    )]
    pub(crate) fn map_service<S2>(self, f: impl FnOnce(S) -> S2) -> Change<K, S2> {
        match self {
            Change::Insert(key, service) => Change::Insert(key, f(service)),
            Change::Remove(key) => Change::Remove(key),
        }
    }
}
