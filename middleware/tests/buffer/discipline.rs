//! Queue disciplines (`Buffer::with_queue`): CoDel's refusals of the
//! requests that waited too long, even while the inner service is not
//! ready; serving the newest first once the queue has stood a while;
//! `queue_delay`; and tower's behaviour, untouched, without a discipline.
//!
//! All on tokio's paused clock: the worker is polled by hand, and its
//! alarm wakes it when `advance` reaches a refusal time.
//!
//! Every test here sets a subscriber of its own ([`capture`]) before it
//! can refuse a request: a test that registered the refusal event's
//! callsite without one, concurrently with a test that captures it, could
//! leave the callsite disabled for the other (tracing caches its interest
//! when it registers).

use std::time::Duration;

use donjon::BoxError;
use donjon::buffer::error::Overloaded;
use donjon::buffer::future::ResponseFuture;
use donjon::buffer::{Buffer, QueueDiscipline};
use donjon_test::mock;
use tokio::time::{Instant, advance};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{capture, lines_with, take_request};
use crate::{Caller, Handle, Msg, Worker};

/// A response future of the mock-based tests, polled by a task of its own.
type Response = task::Spawn<ResponseFuture<mock::future::ResponseFuture<Msg>>>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// CoDel with a target of 5 ms and an interval of 100 ms.
fn codel() -> QueueDiscipline {
    QueueDiscipline::fifo().codel(ms(5), ms(100))
}

/// A buffer of `bound` requests served by `discipline`, in front of a fresh
/// mock, the mock's handle, and the worker, polled by hand.
fn disciplined(bound: usize, discipline: QueueDiscipline) -> (Caller, Handle, Worker) {
    let (mock, handle) = mock::pair();
    let (service, worker) = Buffer::pair(mock, bound);
    (
        mock::Spawn::new(service.with_queue(discipline)),
        handle,
        task::spawn(worker),
    )
}

/// Queues `request` (the buffer has a place for it).
fn queue(caller: &mut Caller, request: Msg) -> Response {
    assert_ready_ok!(caller.poll_ready());
    let mut response = task::spawn(caller.call(request));
    assert_pending!(response.poll(), "{request} waits");
    response
}

/// Asserts that `response` was refused with `Overloaded`.
#[track_caller]
fn assert_refused(response: &mut Response, request: Msg) {
    assert!(response.is_woken(), "{request}'s caller is woken");
    let error: BoxError = assert_ready_err!(response.poll(), "{request} is refused");
    assert!(
        error.is::<Overloaded>(),
        "{request}: expected Overloaded, got {error:?}"
    );
    assert_eq!(error.to_string(), "service overloaded");
}

/// Takes the request the mock received and answers it with itself.
#[track_caller]
fn answer(handle: &mut Handle) -> Msg {
    let (request, answer) = take_request(handle);
    answer.send_response(request);
    request
}

#[tokio::test(start_paused = true)]
async fn codel_refuses_each_request_when_its_time_comes_while_the_service_is_not_ready() {
    let (_captured, _guard) = capture();
    let (mut service, mut handle, mut worker) = disciplined(10, codel());
    handle.allow(0);
    let start = Instant::now();

    // A request is refused at max(joined + target, since + interval),
    // `since` being when the queue started standing:
    // - t = 0: A is queued while nothing is: the queue stands from 0.
    //   A: max(0 + 5, 0 + 100) = 100 ms (a burst may wait the interval).
    let mut a = queue(&mut service, "A");
    assert_pending!(worker.poll(), "takes A and holds it: the mock is not ready");
    // - t = 40: B joins the queue that stands since 0 (the worker's held A
    //   counts as queued). B: max(40 + 5, 0 + 100) = 100 ms.
    advance(ms(40)).await;
    let mut b = queue(&mut service, "B");
    // - t = 98: C: max(98 + 5, 0 + 100) = 103 ms: the queue has stood
    //   nearly the interval, so C gets the target.
    advance(ms(58)).await;
    let mut c = queue(&mut service, "C");
    assert!(
        !worker.is_woken(),
        "queueing B and C needs no wake-up: their times are no earlier than A's"
    );

    // t = 99: nobody's time has come.
    advance(ms(1)).await;
    assert!(!worker.is_woken(), "the alarm is for 100 ms");
    assert_pending!(worker.poll());
    for (request, response) in [("A", &mut a), ("B", &mut b), ("C", &mut c)] {
        assert_pending!(response.poll(), "{request} still waits at 99 ms");
    }

    // t = 100: A and B are refused, by the worker's alarm (the mock is
    // still not ready); the worker then holds C.
    advance(ms(1)).await;
    assert_eq!(start.elapsed(), ms(100));
    assert!(worker.is_woken(), "the alarm wakes the worker at 100 ms");
    assert_pending!(worker.poll());
    assert_refused(&mut a, "A");
    assert_refused(&mut b, "B");
    assert_pending!(c.poll(), "C's time comes at 103 ms");

    // t = 102: still not C's time.
    advance(ms(2)).await;
    assert!(!worker.is_woken(), "the alarm is now for 103 ms");
    assert_pending!(c.poll());

    // t = 103: C is refused.
    advance(ms(1)).await;
    assert!(worker.is_woken(), "the alarm wakes the worker at 103 ms");
    assert_pending!(worker.poll());
    assert_refused(&mut c, "C");

    assert_pending!(handle.poll_request(), "no refused request reached the mock");
    assert_eq!(service.get_ref().queue_delay().get(), Duration::ZERO);
    // Every place is back: ten requests can be queued.
    let _queued: Vec<Response> = (0..10).map(|_| queue(&mut service, "D")).collect();
    assert_pending!(service.poll_ready(), "the ten places are taken");
}

#[tokio::test(start_paused = true)]
async fn a_burst_that_drains_within_the_interval_is_served_and_the_next_queue_starts_afresh() {
    let (_captured, _guard) = capture();
    let (mut service, mut handle, mut worker) = disciplined(10, codel());
    handle.allow(0);

    // t = 0: three requests, refused at max(0 + 5, 0 + 100) = 100 ms.
    let mut responses = [
        ("A", queue(&mut service, "A")),
        ("B", queue(&mut service, "B")),
        ("C", queue(&mut service, "C")),
    ];
    assert_pending!(worker.poll(), "holds A");

    // t = 60: they have waited 60 ms, far past the target of 5 ms but
    // within the interval: the service becomes ready and serves them all.
    advance(ms(60)).await;
    assert!(!worker.is_woken(), "nobody's time has come");
    handle.allow(3);
    assert!(worker.is_woken(), "the mock wakes the worker");
    assert_pending!(worker.poll());
    for (request, response) in &mut responses {
        assert_eq!(answer(&mut handle), *request, "in order");
        assert_eq!(assert_ready_ok!(response.poll()), *request, "served");
    }

    // The queue emptied at 60 ms, so it stands afresh from the next
    // request: D, queued at 60 ms, is refused at max(60 + 5, 60 + 100) =
    // 160 ms (and not at 100 ms, which a standing start kept from 0 would
    // give).
    let mut d = queue(&mut service, "D");
    assert_pending!(worker.poll(), "holds D: the mock's three calls are spent");
    advance(ms(99)).await;
    assert!(!worker.is_woken());
    assert_pending!(d.poll(), "D waits at 159 ms");
    advance(ms(1)).await;
    assert!(worker.is_woken(), "the alarm wakes the worker at 160 ms");
    assert_pending!(worker.poll());
    assert_refused(&mut d, "D");
    assert_pending!(handle.poll_request(), "D never reached the mock");
}

#[tokio::test(start_paused = true)]
async fn newest_first_serves_the_newest_once_the_queue_has_stood_long_enough() {
    let (_captured, _guard) = capture();
    let (mut service, mut handle, mut worker) =
        disciplined(10, QueueDiscipline::fifo().newest_first_after(ms(10)));
    handle.allow(0);

    /// Lets the mock take one call, and returns the request the worker
    /// sends it.
    fn serve_one(handle: &mut Handle, worker: &mut Worker) -> Msg {
        handle.allow(1);
        assert_pending!(worker.poll());
        answer(handle)
    }

    // The queue stands from t = 0; at 5 ms it has not stood 10 ms yet:
    // first come, first served.
    let mut early = [
        queue(&mut service, "a"),
        queue(&mut service, "b"),
        queue(&mut service, "c"),
    ];
    advance(ms(5)).await;
    let served: Vec<Msg> = (0..3)
        .map(|_| serve_one(&mut handle, &mut worker))
        .collect();
    assert_eq!(served, ["a", "b", "c"], "in order before 10 ms");
    for response in &mut early {
        assert_ready_ok!(response.poll());
    }
    assert_pending!(worker.poll(), "the queue is empty: it stands no more");

    // t = 5: A, B and C are queued while nothing is: the queue stands from
    // 5 ms. At 15 ms it has stood 10 ms: the newest first.
    let mut late = [
        queue(&mut service, "A"),
        queue(&mut service, "B"),
        queue(&mut service, "C"),
    ];
    advance(ms(10)).await;
    let served: Vec<Msg> = (0..3)
        .map(|_| serve_one(&mut handle, &mut worker))
        .collect();
    assert_eq!(served, ["C", "B", "A"], "the newest first from 10 ms");
    for response in &mut late {
        assert_ready_ok!(response.poll());
    }
    assert_pending!(handle.poll_request());
}

#[tokio::test(start_paused = true)]
async fn the_queue_delay_is_how_long_the_oldest_request_has_waited() {
    let (_captured, _guard) = capture();
    let (mut service, mut handle, mut worker) = disciplined(10, QueueDiscipline::fifo());
    let delay = service.get_ref().queue_delay();
    handle.allow(0);
    assert_eq!(delay.get(), Duration::ZERO, "nothing is queued");

    let mut a = queue(&mut service, "A");
    assert_eq!(delay.get(), Duration::ZERO, "A was just queued");
    advance(ms(30)).await;
    assert_eq!(delay.get(), ms(30), "A has waited 30 ms");
    assert_pending!(worker.poll(), "the worker takes A and holds it");
    assert_eq!(delay.get(), ms(30), "a held request still waits");

    // B joins at 30 ms; A, the oldest, is served at 40 ms: B is then the
    // oldest, and has waited 10 ms.
    let mut b = queue(&mut service, "B");
    advance(ms(10)).await;
    assert_eq!(delay.get(), ms(40));
    handle.allow(1);
    assert_pending!(worker.poll(), "serves A, takes B and holds it");
    assert_eq!(answer(&mut handle), "A");
    assert_eq!(assert_ready_ok!(a.poll()), "A");
    assert_eq!(delay.get(), ms(10), "B has waited 10 ms");
    assert_eq!(
        service.clone().into_inner().queue_delay().get(),
        ms(10),
        "every handle tells the same"
    );

    handle.allow(1);
    assert_pending!(worker.poll());
    assert_eq!(answer(&mut handle), "B");
    assert_eq!(assert_ready_ok!(b.poll()), "B");
    assert_eq!(delay.get(), Duration::ZERO, "nothing waits any more");
    advance(ms(10)).await;
    assert_eq!(delay.get(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_request_cancelled_under_codel_frees_its_place_and_is_neither_refused_nor_served() {
    let (captured, _guard) = capture();
    let (mut service, mut handle, mut worker) = disciplined(1, codel());
    handle.allow(0);
    let mut waiting = service.clone();

    // t = 0: A is queued, and held by the worker; B fills the one place.
    let mut a = queue(&mut service, "A");
    assert_pending!(worker.poll(), "holds A");
    let b = queue(&mut service, "B");
    assert_pending!(waiting.poll_ready(), "the queue is full");

    // B's caller gives up: its place comes back at once.
    drop(b);
    assert!(
        waiting.is_woken(),
        "the place comes back without the worker"
    );
    assert_ready_ok!(waiting.poll_ready());
    assert_eq!(
        service.get_ref().queue_delay().get(),
        Duration::ZERO,
        "A has not waited yet"
    );

    // t = 100: A and B's times have come: A is refused; B, cancelled, is
    // dropped without a word.
    advance(ms(100)).await;
    assert!(worker.is_woken());
    assert_pending!(worker.poll());
    assert_refused(&mut a, "A");
    let reports = lines_with(&captured, REFUSED);
    assert_eq!(reports.len(), 1, "one run of refusals: {reports:?}");
    assert!(
        reports[0].contains("refused=1"),
        "only A counts as refused: {reports:?}"
    );

    // The place reserved while B was queued is used now, and the mock
    // receives the new request only.
    let mut c = task::spawn(waiting.call("C"));
    handle.allow(1);
    assert_pending!(worker.poll());
    assert_eq!(answer(&mut handle), "C", "B never reached the mock");
    assert_eq!(assert_ready_ok!(c.poll()), "C");
    assert_pending!(handle.poll_request());
    assert_ready_ok!(service.poll_ready(), "the place is back");
}

#[tokio::test(start_paused = true)]
async fn without_a_discipline_requests_wait_as_long_as_it_takes() {
    let (_captured, _guard) = capture();
    let (mut service, mut handle, mut worker) = crate::new_buffer(10);
    let delay = service.get_ref().queue_delay();
    handle.allow(0);

    let mut a = queue(&mut service, "A");
    assert_pending!(worker.poll(), "holds A");
    let mut b = queue(&mut service, "B");
    advance(Duration::from_secs(3600)).await;
    assert!(!worker.is_woken(), "no alarm without a discipline");
    assert_pending!(worker.poll());
    assert_pending!(a.poll(), "A still waits after an hour");
    assert_pending!(b.poll(), "B still waits after an hour");
    assert_eq!(
        delay.get(),
        Duration::ZERO,
        "not tracked without a discipline"
    );

    handle.allow(2);
    assert_pending!(worker.poll());
    assert_eq!(answer(&mut handle), "A");
    assert_eq!(answer(&mut handle), "B");
    assert_eq!(assert_ready_ok!(a.poll()), "A");
    assert_eq!(assert_ready_ok!(b.poll()), "B");
}

#[tokio::test(start_paused = true)]
async fn refusals_are_reported_once_per_run() {
    let (captured, _guard) = capture();
    let (mut service, mut handle, mut worker) = disciplined(10, codel());
    handle.allow(0);

    // t = 0: three requests, all refused at 100 ms (one run).
    let mut first: Vec<Response> = ["A", "B", "C"]
        .into_iter()
        .map(|request| queue(&mut service, request))
        .collect();
    assert_pending!(worker.poll());
    advance(ms(100)).await;
    assert_pending!(worker.poll());
    for response in &mut first {
        assert_refused(response, "a first one");
    }
    assert_eq!(lines_with(&captured, REFUSED).len(), 1);
    assert!(lines_with(&captured, REFUSED)[0].contains("refused=3"));

    // t = 100: D is queued while nothing is: refused at 200 ms, still the
    // same run (nothing was served since): not reported again.
    let mut d = queue(&mut service, "D");
    assert_pending!(worker.poll());
    advance(ms(100)).await;
    assert_pending!(worker.poll());
    assert_refused(&mut d, "D");
    assert_eq!(lines_with(&captured, REFUSED).len(), 1, "the same run");

    // A request served ends the run: the next refusal starts another.
    let mut e = queue(&mut service, "E");
    handle.allow(1);
    assert_pending!(worker.poll());
    assert_eq!(answer(&mut handle), "E");
    assert_ready_ok!(e.poll());
    let mut f = queue(&mut service, "F");
    assert_pending!(worker.poll());
    advance(ms(100)).await;
    assert_pending!(worker.poll());
    assert_refused(&mut f, "F");
    let reports = lines_with(&captured, REFUSED);
    assert_eq!(reports.len(), 2, "a second run: {reports:?}");
    assert!(reports[1].contains("refused=1"), "{reports:?}");
}

#[tokio::test(start_paused = true)]
async fn the_layers_buffers_and_direct_calls_keep_working_after_refusals() {
    let (_captured, _guard) = capture();
    use donjon::Layer;
    use donjon::buffer::BufferLayer;

    // A buffer whose handles call the service directly when nothing is
    // queued, its worker spawned on the test's runtime.
    let (mock, mut handle) = mock::pair::<Msg, Msg>();
    handle.allow(0);
    let mut service = mock::Spawn::new(BufferLayer::new(4).with_queue(codel()).layer(mock));

    // Not ready: A goes through the queue, and is refused at 100 ms.
    let mut a = queue(&mut service, "A");
    advance(ms(99)).await;
    assert_pending!(a.poll(), "A waits at 99 ms");
    advance(ms(1)).await;
    settle().await;
    assert_refused(&mut a, "A");

    // The refusal counted A out of the requests waiting for the worker:
    // with nothing queued, the next call goes to the service directly,
    // from this task, without the worker running.
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut b = task::spawn(service.call("B"));
    assert_eq!(answer(&mut handle), "B", "called directly");
    assert_eq!(assert_ready_ok!(b.poll()), "B");
}

#[cfg(feature = "metrics")]
#[tokio::test(start_paused = true)]
async fn refused_requests_leave_the_queue_depth() {
    let (_captured, _guard) = capture();
    use crate::support::recorder::Recorded;

    let recorded = Recorded::default();
    let depth = || recorded.gauge("donjon_buffer_queue_depth", &[("name", "codel")]);
    let (mut service, mut handle, mut worker) = recorded.with(|| {
        let (mock, handle) = mock::pair();
        let (service, worker) = Buffer::pair(mock, 10);
        let service = service.with_name("codel").with_queue(codel());
        (mock::Spawn::new(service), handle, task::spawn(worker))
    });
    handle.allow(0);

    // As in the first test: A at 0, B at 40 ms and C at 98 ms; A and B
    // are refused at 100 ms, C at 103 ms.
    let mut a = queue(&mut service, "A");
    assert_eq!(depth(), 1.0);
    assert_pending!(worker.poll());
    assert_eq!(depth(), 0.0, "the worker holds A");
    advance(ms(40)).await;
    let mut b = queue(&mut service, "B");
    advance(ms(58)).await;
    let mut c = queue(&mut service, "C");
    assert_eq!(depth(), 2.0, "B and C are queued");
    advance(ms(2)).await;
    assert_pending!(worker.poll());
    assert_refused(&mut a, "A");
    assert_refused(&mut b, "B");
    assert_eq!(depth(), 0.0, "B left refused, and the worker holds C");
    // D is queued behind the held C, and refused at 105 ms.
    let mut d = queue(&mut service, "D");
    assert_eq!(depth(), 1.0);
    advance(ms(3)).await;
    assert_pending!(worker.poll());
    assert_refused(&mut c, "C");
    assert_eq!(depth(), 0.0, "the worker took D after refusing C");
    advance(ms(2)).await;
    assert_pending!(worker.poll());
    assert_refused(&mut d, "D");
    assert_eq!(depth(), 0.0);
}

/// The event reporting a run of refusals.
const REFUSED: &str = "buffer: requests waited past the queue's delay target and were refused";

/// Lets the tasks spawned on the test's runtime run.
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_discipline_set_while_the_worker_holds_a_request_applies_to_the_requests_queued_after() {
    let (_captured, _guard) = capture();
    let (service, mut handle, mut worker) = crate::new_buffer(10);
    let mut service = service;
    handle.allow(0);

    // A is queued without a discipline, and held by the worker.
    let mut a = queue(&mut service, "A");
    assert_pending!(worker.poll(), "holds A");

    // The discipline is set: the worker is woken to park under it.
    let mut service = mock::Spawn::new(service.into_inner().with_queue(codel()));
    assert!(worker.is_woken(), "the holding worker is woken");
    assert_pending!(worker.poll());

    // t = 0: B is queued while A is held; the queue stands from B (A was
    // not tracked): refused at max(0 + 5, 0 + 100) = 100 ms. The worker,
    // which had no alarm, is woken to set one.
    let mut b = queue(&mut service, "B");
    assert!(worker.is_woken(), "woken to set its alarm for B");
    assert_pending!(worker.poll());
    advance(ms(99)).await;
    assert!(!worker.is_woken());
    advance(ms(1)).await;
    assert!(worker.is_woken(), "the alarm wakes the worker at 100 ms");
    assert_pending!(worker.poll());
    assert_refused(&mut b, "B");
    assert_pending!(a.poll(), "A, queued before the discipline, still waits");

    handle.allow(1);
    assert_pending!(worker.poll());
    assert_eq!(answer(&mut handle), "A");
    assert_eq!(assert_ready_ok!(a.poll()), "A");
}
