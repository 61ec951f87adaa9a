//! Deadlines of HTTP requests: in their extensions within a process, in a
//! `grpc-timeout` header between processes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_layer::Layer;
use donjon_service::Service;
use http::header::{HeaderName, HeaderValue};
use pin_project::pin_project;

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
    type Future = HeaderFuture<S::Future>;

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
                Err(invalid) => {
                    return HeaderFuture {
                        state: HeaderState::Invalid(Some(invalid)),
                    };
                }
            }
        }
        HeaderFuture {
            state: HeaderState::Called(self.inner.call(request)),
        }
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

/// The response future of [`DeadlineFromHeader`].
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct HeaderFuture<F> {
    #[pin]
    state: HeaderState<F>,
}

#[pin_project(project = HeaderStateProj)]
enum HeaderState<F> {
    Called(#[pin] F),
    Invalid(Option<grpc_timeout::InvalidTimeout>),
}

impl<F, Res, E> Future for HeaderFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            HeaderStateProj::Called(future) => future.poll(cx).map_err(Into::into),
            HeaderStateProj::Invalid(invalid) => Poll::Ready(Err(invalid
                .take()
                .expect("a refused response future is polled after it finished")
                .into())),
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for HeaderFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            HeaderState::Called(future) => {
                f.debug_tuple("HeaderFuture::Called").field(future).finish()
            }
            HeaderState::Invalid(invalid) => f
                .debug_tuple("HeaderFuture::Invalid")
                .field(invalid)
                .finish(),
        }
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
