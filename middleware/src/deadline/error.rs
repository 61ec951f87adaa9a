//! The error of [`Admit`](super::Admit).

use std::fmt;
use std::time::Duration;

/// A request refused before any work because its deadline had passed, or
/// less of its time was left than the work needs.
///
/// [`Admit`](super::Admit) returns it boxed in a
/// [`BoxError`](crate::BoxError): recognise it with
/// `error.is::<DeadlineExceeded>()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineExceeded {
    remaining: Duration,
    needed: Duration,
}

impl DeadlineExceeded {
    pub(super) fn new(remaining: Duration, needed: Duration) -> Self {
        DeadlineExceeded { remaining, needed }
    }

    /// The time the request had left: zero when its deadline had passed.
    pub fn remaining(&self) -> Duration {
        self.remaining
    }

    /// The time a request must have left to be admitted.
    pub fn needed(&self) -> Duration {
        self.needed
    }
}

impl fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.remaining.is_zero() {
            f.write_str(
                "deadline exceeded: the request's deadline had passed, refused before any work",
            )
        } else {
            write!(
                f,
                "deadline exceeded: the request had {:?} left, less than the {:?} its work needs; \
                 refused before any work",
                self.remaining, self.needed
            )
        }
    }
}

impl std::error::Error for DeadlineExceeded {}
