//! Service discovery: a stream of changes to a set of services, keyed by
//! name or address.
//!
//! A load balancer learns which endpoints exist from a [`Discover`]: any
//! stream of `Result<Change<Key, Service>, Error>` is one. `Insert(key,
//! service)` adds an endpoint (or replaces the one with that key),
//! `Remove(key)` takes it away. [`ServiceList`] is the simplest: a fixed
//! list, inserted once.
//!
//! Feature: `discover`.
//!
//! # Examples
//!
//! ```
//! use donjon::discover::{Change, Discover, ServiceList};
//! use futures::StreamExt;
//! use std::pin::Pin;
//!
//! # futures::executor::block_on(async {
//! // A stream of changes from anywhere (a channel fed by DNS lookups, say).
//! let (changes, receiver) = futures::channel::mpsc::unbounded::<Result<Change<&str, u32>, std::io::Error>>();
//! changes.unbounded_send(Ok(Change::Insert("a", 1))).unwrap();
//! changes.unbounded_send(Ok(Change::Remove("a"))).unwrap();
//! drop(changes);
//!
//! let mut discover = receiver;
//! let mut seen = Vec::new();
//! while let Some(change) = std::future::poll_fn(|cx| Pin::new(&mut discover).poll_discover(cx)).await {
//!     seen.push(match change.unwrap() {
//!         Change::Insert(key, _) => format!("+{key}"),
//!         Change::Remove(key) => format!("-{key}"),
//!     });
//! }
//! assert_eq!(seen, ["+a", "-a"]);
//!
//! // A fixed list yields one insertion per service, keyed by position.
//! let list: Vec<_> = ServiceList::new::<()>(vec![donjon::service_fn(|()| async { Ok::<_, ()>(()) })])
//!     .collect()
//!     .await;
//! assert!(matches!(list[..], [Ok(Change::Insert(0, _))]));
//! # });
//! ```

mod list;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::TryStream;

pub use self::list::ServiceList;
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
pub enum Change<K, V> {
    /// Adds a service, or replaces the one with the same key.
    Insert(K, V),
    /// Takes away the service with this key.
    Remove(K),
}
