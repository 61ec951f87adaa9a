/// Decides which requests may be hedged.
///
/// Only idempotent requests should be: a hedged request may be served
/// twice.
///
/// # Examples
///
/// See the [module documentation](super).
pub trait Policy<Req> {
    /// Copies `req` for a possible hedge, when it arrives; `None` if it
    /// cannot be copied, and so is never hedged.
    fn clone_request(&self, req: &Req) -> Option<Req>;

    /// Decides, when the hedge delay has passed, whether to send the copy.
    fn can_retry(&self, req: &Req) -> bool;
}
