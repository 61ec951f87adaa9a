//! Services that make services: one per connection, per target address, per
//! tenant...
//!
//! A [`MakeService`] is a `Service` whose response is another `Service`:
//! called with a target (a connection, an address), it answers with the
//! service to use for that target. A server uses one to get a service per
//! accepted connection; a client or load balancer uses one to get a
//! service per endpoint. [`MakeConnection`] is the same idea for
//! connections (a service answering with something readable and writable).
//!
//! Both traits are implemented for every type they fit, and only for those:
//! implement [`Service`](crate::Service) and you have them.
//!
//! Feature: `make`.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, MakeService, Service, ServiceExt, service_fn};
//! use donjon::make::Shared;
//!
//! # futures::executor::block_on(async {
//! let echo = service_fn(|text: String| async move { Ok::<_, BoxError>(text) });
//! // Every target gets a clone of the same service.
//! let mut make = Shared::new(echo);
//! let mut service = make.make_service(()).await.unwrap();
//! assert_eq!(service.ready().await?.call("hi".to_string()).await?, "hi");
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```

mod make_connection;
mod make_service;

pub mod future;

pub use self::make_connection::MakeConnection;
pub use self::make_service::{AsService, IntoService, MakeService, Shared};
