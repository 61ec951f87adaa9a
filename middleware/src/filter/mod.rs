//! Reject or rewrite requests before they reach a service, with a
//! synchronous or an asynchronous check.
//!
//! Use [`Filter`] when deciding needs only the request (validation,
//! authorization from a token in the request, rewriting it into another
//! type), and [`AsyncFilter`] when deciding needs to wait for something (a
//! lookup in another service). A rejected request never reaches the inner
//! service; its response future fails with the predicate's error.
//!
//! Feature: `filter`.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, ServiceBuilder, ServiceExt};
//!
//! # futures::executor::block_on(async {
//! let service = ServiceBuilder::new()
//!     // Only even numbers pass, halved on the way.
//!     .filter(|n: u32| if n % 2 == 0 { Ok(n / 2) } else { Err(format!("{n} is odd")) })
//!     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) });
//!
//! assert_eq!(service.clone().oneshot(10).await?, 6);
//! let rejected = service.oneshot(3).await.unwrap_err();
//! assert_eq!(rejected.to_string(), "3 is odd");
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```

pub mod future;
mod layer;
mod predicate;
mod service;

pub use self::layer::{AsyncFilterLayer, FilterLayer};
pub use self::predicate::{AsyncPredicate, Predicate};
pub use self::service::{AsyncFilter, Filter};
