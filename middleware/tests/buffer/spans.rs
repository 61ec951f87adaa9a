//! Tracing: the worker runs the inner service's `poll_ready` and `call`
//! inside the span that was current when the caller called `Buffer::call`.

use std::future::{Ready, ready};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use donjon::buffer::Buffer;
use donjon::{BoxError, Service};
use donjon_test::mock;
use tokio_test::{assert_pending, assert_ready_ok, task};
use tracing::{Instrument, Span};

use crate::Msg;
use crate::support::ready_and_call;

/// What the inner service did, and in which span.
type Log = Arc<Mutex<Vec<(&'static str, Option<&'static str>)>>>;

/// The name of the current span, if any.
fn current_span() -> Option<&'static str> {
    Span::current().metadata().map(|metadata| metadata.name())
}

/// Notes the current span in each `poll_ready` and `call`; its first
/// `poll_ready` is `Pending` (and wakes the task itself).
#[derive(Debug)]
struct SpanRecorder {
    log: Log,
    was_pending: bool,
}

impl SpanRecorder {
    fn new() -> (Self, Log) {
        let log = Log::default();
        let recorder = SpanRecorder {
            log: Arc::clone(&log),
            was_pending: false,
        };
        (recorder, log)
    }
}

impl Service<Msg> for SpanRecorder {
    type Response = Option<&'static str>;
    type Error = BoxError;
    type Future = Ready<Result<Option<&'static str>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let pending = !self.was_pending;
        let what = if pending {
            "poll_ready: pending"
        } else {
            "poll_ready: ready"
        };
        self.log.lock().unwrap().push((what, current_span()));
        if pending {
            self.was_pending = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Msg) -> Self::Future {
        self.log.lock().unwrap().push((request, current_span()));
        ready(Ok(current_span()))
    }
}

#[test]
fn the_inner_service_runs_in_the_span_of_each_caller() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let (recorder, log) = SpanRecorder::new();
    let (service, worker) = Buffer::pair(recorder, 2);
    let mut alice = mock::Spawn::new(service);
    let mut bob = alice.clone();
    let mut worker = task::spawn(worker);

    let alice_span = tracing::info_span!("alice");
    let bob_span = tracing::info_span!("bob");
    assert_ready_ok!(alice.poll_ready());
    let mut alice_response = task::spawn(alice_span.in_scope(|| alice.call("from alice")));
    assert_ready_ok!(bob.poll_ready());
    let mut bob_response = task::spawn(bob_span.in_scope(|| bob.call("from bob")));

    // The worker's own span does not matter, nor does the caller's span
    // once it has sent the request.
    let worker_span = tracing::info_span!("worker");
    assert_pending!(
        worker_span.in_scope(|| worker.poll()),
        "first poll is Pending"
    );
    assert!(worker.is_woken());
    assert_pending!(worker_span.in_scope(|| worker.poll()));
    assert_eq!(current_span(), None, "the worker left no span entered");

    assert_eq!(
        *log.lock().unwrap(),
        [
            ("poll_ready: pending", Some("alice")),
            ("poll_ready: ready", Some("alice")),
            ("from alice", Some("alice")),
            ("poll_ready: ready", Some("bob")),
            ("from bob", Some("bob")),
        ]
    );
    assert_eq!(assert_ready_ok!(alice_response.poll()), Some("alice"));
    assert_eq!(assert_ready_ok!(bob_response.poll()), Some("bob"));
}

#[tokio::test]
async fn a_spawned_worker_runs_the_inner_service_in_the_callers_spans() {
    // A current-thread runtime runs the worker on this thread, where the
    // subscriber is the default.
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let (recorder, log) = SpanRecorder::new();
    let mut service = Buffer::new(recorder, 4);

    let first = tracing::info_span!("first");
    let second = tracing::info_span!("second");
    let answer = ready_and_call(&mut service, "one")
        .instrument(first)
        .await
        .unwrap();
    assert_eq!(answer, Some("first"));
    let mut other = service.clone();
    let answer = ready_and_call(&mut other, "two")
        .instrument(second)
        .await
        .unwrap();
    assert_eq!(answer, Some("second"));

    assert_eq!(
        *log.lock().unwrap(),
        [
            ("poll_ready: pending", Some("first")),
            ("poll_ready: ready", Some("first")),
            ("one", Some("first")),
            ("poll_ready: ready", Some("second")),
            ("two", Some("second")),
        ]
    );
}
