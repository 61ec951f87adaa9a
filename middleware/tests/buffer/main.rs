//! Integration tests of `donjon::buffer`: `Buffer` (its readiness, queue
//! capacity, cancellation, inner failures and panics, its worker going
//! away, tracing spans, misuse and queue disciplines), `BufferLayer` and
//! `ServiceBuilder::buffer`, driven by mock inner services with the worker
//! polled by hand, and end to end on tokio runtimes.
#![cfg(feature = "buffer")]

#[path = "../support/mod.rs"]
mod support;

mod cancellation;
mod direct;
mod discipline;
mod end_to_end;
mod failure;
mod misuse;
mod readiness;
mod regressions;
mod spans;
mod upstream;
mod worker_gone;

use std::error::Error;

use donjon::BoxError;
use donjon::buffer::error::{Closed, Panicked, ServiceError};
use donjon::buffer::{self, Buffer};
use donjon_test::mock;
use tokio_test::task;

/// The request and response type of the mock-based tests.
pub(crate) type Msg = &'static str;
/// The mock behind the buffer.
pub(crate) type Mock = mock::Mock<Msg, Msg>;
/// The handle of [`Mock`].
pub(crate) type Handle = mock::Handle<Msg, Msg>;
/// A buffer in front of a [`Mock`]; its type names the mock's future, not
/// the mock.
pub(crate) type MockBuffer = Buffer<Msg, mock::future::ResponseFuture<Msg>>;
/// A [`MockBuffer`] polled by a mock task of its own.
pub(crate) type Caller = mock::Spawn<MockBuffer>;
/// The worker of a [`MockBuffer`], polled by hand.
pub(crate) type Worker = task::Spawn<buffer::Worker<Mock, Msg>>;

/// A buffer of `bound` requests in front of a fresh mock, the mock's handle,
/// and the buffer's worker, which the test polls by hand.
pub(crate) fn new_buffer(bound: usize) -> (Caller, Handle, Worker) {
    let (mock, handle) = mock::pair();
    let (service, worker) = Buffer::pair(mock, bound);
    (mock::Spawn::new(service), handle, task::spawn(worker))
}

/// Asserts that `error` is the buffer's `Closed`, with its texts.
#[track_caller]
pub(crate) fn assert_closed(error: &BoxError) {
    assert!(error.is::<Closed>(), "expected Closed, got {error:?}");
    assert_eq!(error.to_string(), "buffer's worker closed unexpectedly");
    assert_eq!(format!("{error:?}"), "Closed");
}

/// Asserts that `error` is a `ServiceError` whose cause displays as `cause`,
/// and returns the cause.
#[track_caller]
pub(crate) fn assert_service_error<'e>(
    error: &'e BoxError,
    cause: &str,
) -> &'e (dyn Error + 'static) {
    let failed = error
        .downcast_ref::<ServiceError>()
        .unwrap_or_else(|| panic!("expected a ServiceError, got {error:?}"));
    assert_eq!(
        failed.to_string(),
        format!("buffered service failed: {cause}")
    );
    let source = failed.source().expect("a ServiceError has a source");
    assert_eq!(source.to_string(), cause);
    source
}

/// Asserts that `error` is a `ServiceError` caused by a panic with
/// `message`.
#[track_caller]
pub(crate) fn assert_panicked(error: &BoxError, message: &str) {
    let source = assert_service_error(error, &format!("the service panicked: {message}"));
    let panicked = source
        .downcast_ref::<Panicked>()
        .unwrap_or_else(|| panic!("expected Panicked as the source, got {source:?}"));
    assert_eq!(panicked.message(), message);
}
