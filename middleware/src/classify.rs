//! What a finished call counts as: a success, a failure, or neither.
//!
//! The circuit breaker, the adaptive concurrency limit and fallback all
//! need to tell good calls from bad ones. They take a [`Classify`], which
//! looks at `&Result<Res, E>` and returns an [`Outcome`]. The
//! default, [`ErrorsAreFailures`], counts every `Err` as a failure and every
//! `Ok` as a success; a closure does for anything else. A response future
//! dropped before it finished (the caller gave up) is never classified: it
//! counts as neither.
//!
//! # Examples
//!
//! An HTTP-like response whose 5xx statuses count as failures, and an error
//! that says the caller cancelled, which counts as neither:
//!
//! ```
//! use donjon::classify::{Classify, ErrorsAreFailures, Outcome};
//!
//! struct Response {
//!     status: u16,
//! }
//!
//! let classify = |result: &Result<Response, String>| match result {
//!     Ok(response) if response.status >= 500 => Outcome::Failure,
//!     Ok(_) => Outcome::Success,
//!     Err(error) if error == "cancelled" => Outcome::Ignored,
//!     Err(_) => Outcome::Failure,
//! };
//! assert_eq!(classify.classify(&Ok(Response { status: 503 })), Outcome::Failure);
//! assert_eq!(classify.classify(&Ok(Response { status: 200 })), Outcome::Success);
//! assert_eq!(classify.classify(&Err("cancelled".to_string())), Outcome::Ignored);
//!
//! // The default: errors are failures, responses are successes.
//! let default = ErrorsAreFailures;
//! assert_eq!(
//!     Classify::<Response, String>::classify(&default, &Err("boom".to_string())),
//!     Outcome::Failure
//! );
//! ```

/// What a finished call counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call went well.
    Success,
    /// The call failed: it counts against the service.
    Failure,
    /// The call says nothing about the service (the caller cancelled, say).
    Ignored,
}

/// Decides what a finished call counts as.
///
/// Implemented by [`ErrorsAreFailures`] and by every
/// `Fn(&Result<Res, E>) -> Outcome`.
pub trait Classify<Res, E> {
    /// What `result` counts as.
    fn classify(&self, result: &Result<Res, E>) -> Outcome;
}

/// The default classification: every `Err` is a failure, every `Ok` a
/// success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorsAreFailures;

impl<Res, E> Classify<Res, E> for ErrorsAreFailures {
    #[inline]
    fn classify(&self, result: &Result<Res, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

impl<F, Res, E> Classify<Res, E> for F
where
    F: Fn(&Result<Res, E>) -> Outcome,
{
    #[inline]
    fn classify(&self, result: &Result<Res, E>) -> Outcome {
        self(result)
    }
}
