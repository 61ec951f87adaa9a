//! The error a mock reports once its [`Handle`](super::Handle) is gone.
//!
//! A [`Mock`](super::Mock) fails with [`Closed`] when the test dropped the
//! other end: `poll_ready` returns it, `call` returns a future that resolves
//! to it, and a response future whose
//! [`SendResponse`](super::SendResponse) was dropped unanswered resolves to
//! it too. All of these arrive boxed, so tests recognise them with
//! `err.is::<Closed>()`.
//!
//! # Examples
//!
//! ```
//! use donjon_test::mock::{self, error::Closed};
//!
//! let (mut service, handle) = mock::spawn::<&str, &str>();
//! drop(handle);
//!
//! let Err(err) = tokio_test::assert_ready!(service.poll_ready()) else {
//!     panic!("a mock without a handle must fail");
//! };
//! assert!(err.is::<Closed>());
//! assert_eq!(err.to_string(), "service closed");
//! ```

use std::error::Error;
use std::fmt;

/// The [`Handle`](super::Handle) (or the [`SendResponse`](super::SendResponse)
/// of one request) was dropped, so the mock can no longer answer.
///
/// Its [`Display`](fmt::Display) text is `service closed`. See the
/// [module documentation](self) for when it appears.
#[derive(Debug)]
pub struct Closed(());

impl Closed {
    /// Creates the error; only the mock does that.
    pub(crate) const fn new() -> Self {
        Closed(())
    }
}

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("service closed")
    }
}

impl Error for Closed {}
