use std::future::Future;

/// Decides whether, and when, a request is retried.
///
/// A [`Retry`](super::Retry) gives each request its own clone of the
/// policy, so state kept in it (attempts left, say) is per request.
///
/// # Examples
///
/// See the [module documentation](super).
pub trait Policy<Req, Res, E> {
    /// The delay before the next attempt: [`Retry`](super::Retry) waits for
    /// it to complete, then sends the request again.
    type Future: Future<Output = ()>;

    /// Looks at a finished attempt and decides.
    ///
    /// Returns `None` to accept `result` as the final outcome, or
    /// `Some(delay)` to try again once `delay` completes. Both arguments are
    /// mutable: the policy may rewrite the request for the next attempt, or
    /// rewrite the result that is returned (turn a success it dislikes into
    /// an error, say).
    ///
    /// It is only called for requests that
    /// [`clone_request`](Policy::clone_request) could copy.
    fn retry(&mut self, req: &mut Req, result: &mut Result<Res, E>) -> Option<Self::Future>;

    /// Copies a request before an attempt, to keep for the next one; `None`
    /// when the request cannot (or should not) be retried.
    fn clone_request(&mut self, req: &Req) -> Option<Req>;
}
