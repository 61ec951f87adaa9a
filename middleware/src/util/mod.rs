//! Combinators and helpers for working with services: waiting for
//! readiness, calling once, mapping requests, responses and errors,
//! boxing, choosing between services, and calling a service with a stream
//! of requests.
//!
//! Most of it is reached through the [`ServiceExt`] extension trait, which
//! every [`Service`](crate::Service) gets, and through the matching
//! [`ServiceBuilder`](crate::ServiceBuilder) methods.
//!
//! Feature: `util`.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//!
//! # futures::executor::block_on(async {
//! let mut parse = service_fn(|text: &'static str| async move { text.parse::<i64>().map_err(BoxError::from) })
//!     .map_response(|n| n * 2)
//!     .map_err(|error: BoxError| format!("bad number: {error}"));
//!
//! assert_eq!(parse.ready().await.unwrap().call("21").await, Ok(42));
//! assert!(parse.ready().await.unwrap().call("x").await.unwrap_err().starts_with("bad number"));
//! # });
//! ```

mod and_then;
mod boxed;
mod call_all;
mod either;
mod future_service;
mod map_err;
mod map_future;
mod map_request;
mod map_response;
mod map_result;
mod oneshot;
mod optional;
mod ready;
mod service_ext;
mod service_fn;
mod then;

pub mod rng;

pub use self::and_then::{AndThen, AndThenLayer};
pub use self::boxed::{
    BoxCloneService, BoxCloneServiceLayer, BoxCloneSyncService, BoxCloneSyncServiceLayer, BoxLayer,
    BoxService, UnsyncBoxService,
};
pub use self::call_all::{CallAll, CallAllUnordered};
pub use self::either::{Either, option_layer};
pub use self::future_service::{FutureService, future_service};
pub use self::map_err::{MapErr, MapErrLayer};
pub use self::map_future::{MapFuture, MapFutureLayer};
pub use self::map_request::{MapRequest, MapRequestLayer};
pub use self::map_response::{MapResponse, MapResponseLayer};
pub use self::map_result::{MapResult, MapResultLayer};
pub use self::oneshot::Oneshot;
pub use self::optional::Optional;
pub use self::ready::{Ready, ReadyOneshot};
pub use self::service_ext::ServiceExt;
pub use self::service_fn::{ServiceFn, service_fn};
pub use self::then::{Then, ThenLayer};

/// The response futures of the `util` services.
pub mod future {
    pub use super::and_then::AndThenFuture;
    pub use super::either::EitherResponseFuture;
    pub use super::map_err::MapErrFuture;
    pub use super::map_response::MapResponseFuture;
    pub use super::map_result::MapResultFuture;
    pub use super::optional::future as optional;
    pub use super::then::ThenFuture;
}

/// The errors of the `util` services.
pub mod error {
    pub use super::optional::error as optional;
}
