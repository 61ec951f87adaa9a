//! [`CallAll`] and [`CallAllUnordered`]: call a service with every request
//! of a stream.

mod common;
mod ordered;
mod unordered;

pub use self::ordered::CallAll;
pub use self::unordered::CallAllUnordered;
