//! [`KeepRequest`]: what of a request is kept for the fallback.

/// Keeps (a copy of) a request before the call, for the fallback to see.
///
/// Implemented by [`CloneRequest`], [`DropRequest`], and every
/// `Fn(&Req) -> Option<Req>`.
pub trait KeepRequest<Req> {
    /// What to keep of `request`; `None` keeps nothing.
    fn keep(&self, request: &Req) -> Option<Req>;
}

/// Keeps a clone of every request (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CloneRequest;

impl<Req: Clone> KeepRequest<Req> for CloneRequest {
    #[inline]
    fn keep(&self, request: &Req) -> Option<Req> {
        Some(request.clone())
    }
}

/// Keeps nothing: the fallback sees no request. For requests that cannot
/// be cloned, or need not be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropRequest;

impl<Req> KeepRequest<Req> for DropRequest {
    #[inline]
    fn keep(&self, _request: &Req) -> Option<Req> {
        None
    }
}

impl<F, Req> KeepRequest<Req> for F
where
    F: Fn(&Req) -> Option<Req>,
{
    #[inline]
    fn keep(&self, request: &Req) -> Option<Req> {
        self(request)
    }
}
