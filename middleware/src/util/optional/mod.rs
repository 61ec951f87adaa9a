//! [`Optional`]: a service that may be missing.

pub mod error;
pub mod future;
mod service;

pub use self::service::Optional;
