//! Deadlines of HTTP requests: in their extensions within a process, in a
//! `grpc-timeout` header between processes.

use std::task::{Context, Poll};

use donjon_layer::Layer;
use donjon_service::Service;
use http::header::{HeaderName, HeaderValue};

use super::future::OrRefused;
use super::grpc_timeout;
use super::instant::{Deadline, DeadlineFor};
use crate::BoxError;

/// The header gRPC carries the caller's remaining time in, which these
/// layers use unless told otherwise.
pub const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");

/// Reads a request's deadline from its extensions, where a [`Deadline`]
/// value is put by [`DeadlineFromHeader`] or by the code sending it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FromExtensions;

impl<B> DeadlineFor<http::Request<B>> for FromExtensions {
    #[inline]
    fn deadline_for(&self, request: &http::Request<B>) -> Option<Deadline> {
        request.extensions().get::<Deadline>().copied()
    }
}

/// Server side: turns the caller's remaining time, from the
/// `grpc-timeout` header (or another set with
/// [`with_header`](Self::with_header)), into a [`Deadline`] in the
/// request's extensions, which [`FromExtensions`] then reads. A request
/// that already has an earlier deadline keeps it.
///
/// # Errors
///
/// The inner service's errors, boxed, and
/// [`InvalidTimeout`](grpc_timeout::InvalidTimeout) at once, without
/// calling the inner service, for a header that is not in the format.
#[derive(Debug, Clone)]
pub struct DeadlineFromHeader<S> {
    inner: S,
    header: HeaderName,
}

impl<S> DeadlineFromHeader<S> {
    /// Wraps `inner`, reading `grpc-timeout`.
    pub const fn new(inner: S) -> Self {
        DeadlineFromHeader {
            inner,
            header: GRPC_TIMEOUT,
        }
    }

    /// Reads `header` instead.
    pub fn with_header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<http::Request<B>> for DeadlineFromHeader<S>
where
    S: Service<http::Request<B>>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = OrRefused<S::Future, grpc_timeout::InvalidTimeout>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(value) = request.headers().get(&self.header) {
            let decoded = value
                .to_str()
                .map_err(|_| grpc_timeout::InvalidTimeout::of(value.as_bytes()))
                .and_then(grpc_timeout::decode);
            match decoded {
                Ok(timeout) => {
                    let from_header = Deadline::after(timeout);
                    let extensions = request.extensions_mut();
                    let earliest = Deadline::earliest(
                        extensions.get::<Deadline>().copied(),
                        Some(from_header),
                    );
                    extensions.insert(earliest.expect("one of them is there"));
                }
                Err(invalid) => return OrRefused::refused(invalid),
            }
        }
        OrRefused::called(self.inner.call(request))
    }
}

/// Wraps services in a [`DeadlineFromHeader`].
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct DeadlineFromHeaderLayer {
    header: HeaderName,
}

impl DeadlineFromHeaderLayer {
    /// A layer reading `grpc-timeout`.
    pub const fn new() -> Self {
        DeadlineFromHeaderLayer {
            header: GRPC_TIMEOUT,
        }
    }

    /// Reads `header` instead.
    pub fn with_header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }
}

impl Default for DeadlineFromHeaderLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for DeadlineFromHeaderLayer {
    type Service = DeadlineFromHeader<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DeadlineFromHeader::new(inner).with_header(self.header.clone())
    }
}

/// Client side: writes the time left until the [`Deadline`] in a request's
/// extensions into its `grpc-timeout` header (or another set with
/// [`with_header`](Self::with_header)), replacing any there, so that the
/// next hop gives up when this one's caller does. A request without a
/// deadline goes as it is.
#[derive(Debug, Clone)]
pub struct DeadlineToHeader<S> {
    inner: S,
    header: HeaderName,
}

impl<S> DeadlineToHeader<S> {
    /// Wraps `inner`, writing `grpc-timeout`.
    pub const fn new(inner: S) -> Self {
        DeadlineToHeader {
            inner,
            header: GRPC_TIMEOUT,
        }
    }

    /// Writes `header` instead.
    pub fn with_header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<http::Request<B>> for DeadlineToHeader<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(deadline) = request.extensions().get::<Deadline>().copied() {
            let encoded = grpc_timeout::encode(deadline.remaining());
            let value =
                HeaderValue::from_str(&encoded).expect("digits and a unit are a valid header");
            request.headers_mut().insert(self.header.clone(), value);
        }
        self.inner.call(request)
    }
}

/// Wraps services in a [`DeadlineToHeader`].
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct DeadlineToHeaderLayer {
    header: HeaderName,
}

impl DeadlineToHeaderLayer {
    /// A layer writing `grpc-timeout`.
    pub const fn new() -> Self {
        DeadlineToHeaderLayer {
            header: GRPC_TIMEOUT,
        }
    }

    /// Writes `header` instead.
    pub fn with_header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }
}

impl Default for DeadlineToHeaderLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for DeadlineToHeaderLayer {
    type Service = DeadlineToHeader<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DeadlineToHeader::new(inner).with_header(self.header.clone())
    }
}
