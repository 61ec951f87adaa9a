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

mod changes;
mod list;

pub use self::changes::{Change, Discover};
pub use self::list::ServiceList;
