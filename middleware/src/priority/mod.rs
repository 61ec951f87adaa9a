//! Priorities: requests carry a criticality class, and under saturation the
//! least critical are refused first.
//!
//! A [`Priority`] is one of four classes, gRPC's criticalities:
//! [`Sheddable`](Priority::Sheddable), [`SheddablePlus`](Priority::SheddablePlus),
//! [`Critical`](Priority::Critical) (the default) and
//! [`CriticalPlus`](Priority::CriticalPlus). A [`PriorityFor`] reads a
//! request's (a closure, or with the `http` feature [`FromExtensions`]).
//!
//! [`PriorityShed`] bounds the requests in flight, and lets each class use
//! only part of that bound: by default sheddable requests up to 70% of it,
//! sheddable-plus up to 80%, critical up to 90% and critical-plus all of
//! it. As load grows, sheddable requests are refused first (with
//! [`Overloaded`](error::Overloaded), at once), and the
//! most critical last; what the lower classes leave free is always there
//! for the higher ones.
//!
//! Feature: `priority`.
//!
//! # Examples
//!
//! ```
//! use donjon::priority::{Priority, PriorityShed};
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let backend = service_fn(|(_, n): (Priority, u32)| async move { Ok::<_, BoxError>(n) });
//! // Ten in flight at most: sheddable requests get 7 of them.
//! let mut server = PriorityShed::new(backend, 10, |request: &(Priority, u32)| request.0);
//!
//! let mut held = Vec::new();
//! for n in 0..7 {
//!     held.push(server.ready().await.unwrap().call((Priority::Sheddable, n)));
//! }
//! let refused = server.ready().await.unwrap().call((Priority::Sheddable, 7)).await;
//! assert!(refused.is_err(), "sheddable requests have used their 7");
//! let admitted = server.ready().await.unwrap().call((Priority::Critical, 8)).await;
//! assert_eq!(admitted.unwrap(), 8, "a critical one still goes through");
//! # }
//! ```

mod class;
mod shed;

/// The error of [`PriorityShed`].
pub mod error {
    pub use crate::overloaded::Overloaded;
}

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use self::class::FromExtensions;
pub use self::class::{Priority, PriorityFor};
pub use self::shed::{DelaySignal, PriorityShed, PriorityShedLayer, Shares};

/// The response futures of [`PriorityShed`].
pub mod future {
    pub use super::shed::Slotted;
    pub use crate::overloaded::ResponseFuture;
}
