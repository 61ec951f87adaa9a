//! The error of [`Optional`](crate::util::Optional).

use std::fmt;

/// The error of an [`Optional`](crate::util::Optional) service that holds
/// no service.
#[derive(Debug)]
pub struct None(());

impl None {
    pub(crate) fn new() -> None {
        None(())
    }
}

impl fmt::Display for None {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("None")
    }
}

impl std::error::Error for None {}
