//! The synchronisation primitives donjon's own lock-free code is built on,
//! swapped for loom's when the crate is built with `--cfg donjon_loom`, so
//! that loom can explore every interleaving of the threads that use them.
//!
//! Run the models with:
//!
//! ```text
//! RUSTFLAGS="--cfg donjon_loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p donjon --features limit --release --lib loom
//! ```
//!
//! `.ci/run` runs them. The cfg is donjon's own (not `loom`), so that
//! dependencies which react to `cfg(loom)`, tokio among them, are built as
//! usual.

#[cfg(donjon_loom)]
pub(crate) use loom::sync::atomic::AtomicU64;
#[cfg(not(donjon_loom))]
pub(crate) use std::sync::atomic::AtomicU64;
