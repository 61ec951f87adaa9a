use std::future::Future;

use futures_util::TryFutureExt;
use futures_util::future::ErrInto;

use crate::BoxError;

/// Checks a request synchronously: lets it through, possibly rewritten, or
/// rejects it with an error.
///
/// Any `FnMut(Req) -> Result<InnerReq, E>` with `E: Into<BoxError>` is a
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
pub trait Predicate<Req> {
    /// The request passed on to the inner service.
    type Request;

    /// Lets `request` through (possibly rewritten), or rejects it.
    fn check(&mut self, request: Req) -> Result<Self::Request, BoxError>;
}

impl<F, Req, InnerReq, E> Predicate<Req> for F
where
    F: FnMut(Req) -> Result<InnerReq, E>,
    E: Into<BoxError>,
{
    type Request = InnerReq;

    fn check(&mut self, request: Req) -> Result<InnerReq, BoxError> {
        self(request).map_err(Into::into)
    }
}

/// Checks a request asynchronously: lets it through, possibly rewritten, or
/// rejects it with an error.
///
/// Any `FnMut(Req) -> impl Future<Output = Result<InnerReq, E>>` with
/// `E: Into<BoxError>` is an asynchronous predicate.
pub trait AsyncPredicate<Req> {
    /// The future that decides.
    type Future: Future<Output = Result<Self::Request, BoxError>>;

    /// The request passed on to the inner service.
    type Request;

    /// Starts checking `request`.
    fn check(&mut self, request: Req) -> Self::Future;
}

impl<F, Req, Fut, InnerReq, E> AsyncPredicate<Req> for F
where
    F: FnMut(Req) -> Fut,
    Fut: Future<Output = Result<InnerReq, E>>,
    E: Into<BoxError>,
{
    type Future = ErrInto<Fut, BoxError>;
    type Request = InnerReq;

    fn check(&mut self, request: Req) -> Self::Future {
        self(request).err_into()
    }
}
