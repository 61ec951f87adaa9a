//! `donjon::buffer`: the buffer closing, and the worker serving a request
//! in its caller's span.

use donjon::ServiceExt;
use donjon::buffer::Buffer;
use tracing::Instrument;

use crate::support::Broken;
use crate::{Traced, capture, lines_with};

#[tokio::test(start_paused = true)]
async fn the_worker_calls_the_inner_service_in_the_callers_span() {
    let (captured, _guard) = capture();
    let buffer = Buffer::new(Traced, 4);

    let answer = buffer
        .oneshot(7)
        .instrument(tracing::info_span!("caller", id = 7))
        .await
        .expect("the buffer answers");
    assert_eq!(answer, 7);

    let inner = lines_with(&captured, "inner called");
    assert_eq!(inner, [" INFO caller{id=7}: inner called"]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_inner_service_closes_the_buffer_with_a_warning() {
    let (captured, _guard) = capture();
    let buffer = Buffer::new(Broken { ready: false }, 4);

    let error = buffer
        .clone()
        .oneshot(())
        .await
        .expect_err("the inner service fails");
    assert!(error.to_string().contains("boom: readiness"), "{error}");
    assert!(buffer.oneshot(()).await.is_err(), "closed for good");

    let closed = lines_with(&captured, "buffer is closed");
    assert_eq!(
        closed,
        [
            " WARN buffer: the inner service failed; the buffer is closed \
          error=buffered service failed: boom: readiness failed=0"
        ],
        "one event, when it closes"
    );
}
