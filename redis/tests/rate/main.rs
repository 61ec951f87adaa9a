//! `RedisStore` against a real redis-server: GCRA across processes, the
//! batching bound, failure policies while Redis is stopped, paused and
//! restarted, and the checks of keys and settings.
//!
//! Each test starts a server of its own, so that the tests of this binary,
//! which run in parallel, can stop, pause and count one without disturbing
//! the others. Redis's clock is the real one: these tests run on it, with
//! short waits where time must pass.

#[path = "../support/mod.rs"]
mod support;

mod batch;
mod config;
mod failure;
mod gcra;
mod traits;
