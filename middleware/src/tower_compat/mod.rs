//! Use donjon and tower pieces together: adapters between donjon's
//! [`Service`](crate::Service) and [`Layer`](crate::Layer) and the
//! `tower_service::Service` and `tower_layer::Layer` traits that hyper,
//! axum, tonic and tower-http speak.
//!
//! - [`TowerService`] shows a donjon service as a tower service;
//!   [`DonjonService`] shows a tower service as a donjon one.
//! - [`TowerLayer`] shows a donjon layer as a tower layer (for axum's
//!   `.layer(..)`, say); [`DonjonLayer`] shows a tower layer (tower-http's,
//!   say) as a donjon layer, for a [`ServiceBuilder`](crate::ServiceBuilder).
//! - [`IntoTower`] and [`IntoDonjon`] add `.into_tower()` and
//!   `.into_donjon()` to services, and [`ServiceBuilder::tower_layer`]
//!   and [`ServiceBuilder::into_tower_layer`] work on whole stacks, so
//!   that the adapter types need not be named.
//!
//! The two `Service` traits have the same shape, so the adapters forward
//! `poll_ready` and `call` unchanged: readiness, backpressure,
//! reservations and errors pass through as they are, and nothing is
//! allocated or boxed.
//!
//! Feature: `tower-compat` (not part of `full`).
//!
//! [`ServiceBuilder::tower_layer`]: crate::ServiceBuilder::tower_layer
//! [`ServiceBuilder::into_tower_layer`]: crate::ServiceBuilder::into_tower_layer
//!
//! # Examples
//!
//! A tower service, here built by hand against `tower_service`, in a donjon
//! stack, and the result handed back to code that wants a tower service:
//!
//! ```
//! use std::future::{Ready, ready};
//! use std::task::{Context, Poll};
//! use std::time::Duration;
//! use donjon::tower_compat::{IntoDonjon, IntoTower};
//! use donjon::{BoxError, ServiceBuilder};
//!
//! /// A service written for tower.
//! struct Echo;
//!
//! impl tower_service::Service<String> for Echo {
//!     type Response = String;
//!     type Error = BoxError;
//!     type Future = Ready<Result<String, BoxError>>;
//!
//!     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
//!         Poll::Ready(Ok(()))
//!     }
//!
//!     fn call(&mut self, request: String) -> Self::Future {
//!         ready(Ok(request))
//!     }
//! }
//!
//! /// Code that only knows tower.
//! async fn send<S: tower_service::Service<String>>(mut service: S, text: &str) -> Result<S::Response, S::Error> {
//!     std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
//!     service.call(text.to_string()).await
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let stack = ServiceBuilder::new()
//!     .timeout(Duration::from_secs(1))
//!     .concurrency_limit(10)
//!     .service(Echo.into_donjon());
//! assert_eq!(send(stack.into_tower(), "hi").await?, "hi");
//! # Ok(())
//! # }
//! ```

mod ext;
mod layer;
mod service;

pub use self::ext::{IntoDonjon, IntoTower};
pub use self::layer::{DonjonLayer, TowerLayer};
pub use self::service::{DonjonService, TowerService};
