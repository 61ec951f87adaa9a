//! `tower-service`, answered by `donjon-service`.
//!
//! This crate is meant to be put in place of the `tower-service` crate with a
//! `[patch.crates-io]` section (see donjon's README). Every crate in the
//! dependency tree that implements or calls `tower_service::Service` then
//! implements or calls [`donjon_service::Service`]: one trait, so a hyper
//! service, an axum router and a donjon middleware are the same kind of thing.
//!
//! ```
//! use std::convert::Infallible;
//! use std::future::{Ready, ready};
//! use std::task::{Context, Poll};
//!
//! struct Hello;
//!
//! impl tower_service::Service<()> for Hello {
//!     type Response = &'static str;
//!     type Error = Infallible;
//!     type Future = Ready<Result<&'static str, Infallible>>;
//!
//!     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
//!         Poll::Ready(Ok(()))
//!     }
//!
//!     fn call(&mut self, (): ()) -> Self::Future {
//!         ready(Ok("hello"))
//!     }
//! }
//!
//! // The same service, seen through donjon's trait.
//! fn is_donjon_service<S: donjon_service::Service<()>>(_: &S) {}
//! is_donjon_service(&Hello);
//! ```

#![no_std]
#![forbid(unsafe_code)]

pub use donjon_service::Service;
