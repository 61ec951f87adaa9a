//! Code shared by the example programs in `src/bin/` and their tests.
#![forbid(unsafe_code)]

pub mod axum_app;
pub mod backend;
pub mod breaker_demo;
pub mod deadline_chain;
pub mod dns_demo;
pub mod fleet;
pub mod http_client;
pub mod http_server;
pub mod phase;
pub mod resilient_client;
pub mod soak;
