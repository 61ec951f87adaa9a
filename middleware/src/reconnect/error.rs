//! The error of [`Reconnect`](super::Reconnect).

use std::fmt;

/// `poll_ready`'s error once a [`Reconnect`](super::Reconnect) has spent
/// the attempts allowed by
/// [`with_max_attempts`](super::Reconnect::with_max_attempts): it makes no
/// more.
///
/// It comes boxed in a [`BoxError`](crate::BoxError): recognise it with
/// `error.is::<Exhausted>()`. The last attempt's own error went to the
/// call after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted {
    attempts: u32,
}

impl Exhausted {
    pub(super) const fn new(attempts: u32) -> Self {
        Exhausted { attempts }
    }

    /// How many connection attempts failed in a row.
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gave up reconnecting after {} failed attempts in a row",
            self.attempts
        )
    }
}

impl std::error::Error for Exhausted {}
