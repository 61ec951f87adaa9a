//! The shared compatibility program.
//!
//! Every file under `suite/` is written against the upstream crate names
//! only: `tower`, `tower_service`, `tower_layer` and `tower_test`. It is
//! compiled twice: by `on_tower.rs` against the real upstream crates,
//! which shows that each test captures upstream behaviour, and by
//! `on_donjon.rs` with the crates renamed to donjon's, which shows that
//! the program compiles and behaves the same against donjon.
#![allow(
    clippy::type_complexity,
    reason = "naming the upstream types in full is what these tests check"
)]

mod balance;
mod boxed;
mod buffer;
mod builder;
mod builder_middleware;
mod call_all;
mod combinators;
mod debug;
mod discover;
mod either_optional;
mod filter;
mod globs;
mod hedge;
mod layer;
mod limit;
mod load;
mod load_shed;
mod make;
mod middleware_types;
mod mock;
mod probe;
mod ready_cache;
mod reconnect;
mod retry;
mod rng;
mod service;
mod service_ext;
mod spawn_ready;
mod steer;
mod support;
mod timeout;
mod traits;
mod turbofish;
mod wakeups;
