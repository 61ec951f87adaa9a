//! Integration tests of `donjon::util`: readiness helpers, `oneshot`,
//! closure services, the combinators, boxed services, `Either`, `Optional`
//! and `call_all`.
#![cfg(feature = "util")]

#[path = "../support/mod.rs"]
mod support;

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
mod rng;
mod service_ext;
mod service_fn;
mod then;
