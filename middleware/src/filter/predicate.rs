use std::future::Future;

use futures_util::TryFutureExt;
use futures_util::future::ErrInto;

use crate::BoxError;

/// Checks a request synchronously: lets it through, possibly rewritten, or
/// rejects it with an error.
///
/// Any `FnMut(Request) -> Result<R, E>` with `E: Into<BoxError>` is a
/// predicate.
///
/// # Examples
///
/// ```
/// use donjon::BoxError;
/// use donjon::filter::Predicate;
///
/// /// Lets through requests that fit in `limit` bytes.
/// struct MaxLength {
///     limit: usize,
/// }
///
/// impl Predicate<String> for MaxLength {
///     type Request = String;
///     fn check(&mut self, request: String) -> Result<String, BoxError> {
///         if request.len() <= self.limit {
///             Ok(request)
///         } else {
///             Err(format!("request of {} bytes is over the limit of {}", request.len(), self.limit).into())
///         }
///     }
/// }
///
/// let mut check = MaxLength { limit: 4 };
/// assert!(check.check("ok".to_string()).is_ok());
/// assert!(check.check("too long".to_string()).is_err());
/// ```
pub trait Predicate<Request> {
    /// The request passed on to the inner service.
    type Request;

    /// Lets `request` through (possibly rewritten), or rejects it.
    fn check(&mut self, request: Request) -> Result<Self::Request, BoxError>;
}

impl<F, T, R, E> Predicate<T> for F
where
    F: FnMut(T) -> Result<R, E>,
    E: Into<BoxError>,
{
    type Request = R;

    fn check(&mut self, request: T) -> Result<R, BoxError> {
        self(request).map_err(Into::into)
    }
}

/// Checks a request asynchronously: lets it through, possibly rewritten, or
/// rejects it with an error.
///
/// Any `FnMut(Request) -> impl Future<Output = Result<R, E>>` with
/// `E: Into<BoxError>` is an asynchronous predicate.
pub trait AsyncPredicate<Request> {
    /// The future that decides.
    type Future: Future<Output = Result<Self::Request, BoxError>>;

    /// The request passed on to the inner service.
    type Request;

    /// Starts checking `request`.
    fn check(&mut self, request: Request) -> Self::Future;
}

impl<F, T, U, R, E> AsyncPredicate<T> for F
where
    F: FnMut(T) -> U,
    U: Future<Output = Result<R, E>>,
    E: Into<BoxError>,
{
    type Future = ErrInto<U, BoxError>;
    type Request = R;

    fn check(&mut self, request: T) -> Self::Future {
        self(request).err_into()
    }
}
