//! The error of a failed fallback.

use std::error::Error;
use std::fmt;

use super::SharedError;
use crate::BoxError;

/// The fallback failed too. It carries both causes: the fallback's error
/// (its [`source`](Error::source)) and, when the inner service failed with
/// an error rather than a response counted as a failure, that error.
///
/// # Examples
///
/// ```
/// use donjon::fallback::Fallback;
/// use donjon::fallback::error::FallbackFailed;
/// use donjon::{BoxError, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let primary = service_fn(|_: ()| async { Err::<(), BoxError>("primary down".into()) });
/// let backup = service_fn(|_| async { Err::<(), BoxError>("backup down".into()) });
/// let error = Fallback::new(primary, backup).oneshot(()).await.unwrap_err();
/// let failed = error.downcast_ref::<FallbackFailed>().expect("both failed");
/// assert_eq!(failed.to_string(), "fallback failed: backup down (after: primary down)");
/// assert_eq!(failed.primary().map(ToString::to_string).as_deref(), Some("primary down"));
/// assert_eq!(failed.fallback().to_string(), "backup down");
/// # }
/// ```
#[derive(Debug)]
pub struct FallbackFailed {
    primary: Option<SharedError>,
    fallback: BoxError,
}

impl FallbackFailed {
    pub(super) fn new(primary: Option<SharedError>, fallback: BoxError) -> Self {
        FallbackFailed { primary, fallback }
    }

    /// The inner service's error, if it failed with one.
    pub fn primary(&self) -> Option<&SharedError> {
        self.primary.as_ref()
    }

    /// The fallback's error.
    pub fn fallback(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.fallback
    }
}

impl fmt::Display for FallbackFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.primary {
            Some(primary) => write!(f, "fallback failed: {} (after: {primary})", self.fallback),
            None => write!(
                f,
                "fallback failed: {} (after a response counted as a failure)",
                self.fallback
            ),
        }
    }
}

impl Error for FallbackFailed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.fallback)
    }
}
