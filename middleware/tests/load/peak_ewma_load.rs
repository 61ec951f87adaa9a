//! `PeakEwma` on the paused clock: the decaying round-trip estimate, and its `Discover` wrapper.

use super::*;

/// One second, in nanoseconds: the decay of every estimate here.
const DECAY_NS: f64 = 1e9;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The cost of a fresh estimate of `rtt` with nothing in flight, now:
/// exactly `rtt` (no time has passed for it to decay).
fn cost(rtt: Duration) -> Cost {
    PeakEwma::new((), rtt, DECAY_NS, CompleteOnResponse::default()).load()
}

fn new_service(default_rtt: Duration) -> (Spawn<PeakEwma<Mock>>, Handle) {
    mock::spawn_with(|mock| {
        PeakEwma::new(mock, default_rtt, DECAY_NS, CompleteOnResponse::default())
    })
}

#[tokio::test(start_paused = true)]
async fn the_default_estimate_decays_toward_zero_without_samples() {
    let (service, _handle) = new_service(ms(10));
    assert_eq!(service.get_ref().load(), cost(ms(10)));

    advance(ms(100)).await;
    let load = service.get_ref().load();
    assert!(cost(ms(9)) < load && load < cost(ms(10)), "{load:?}");

    advance(ms(100)).await;
    let load = service.get_ref().load();
    assert!(cost(ms(8)) < load && load < cost(ms(9)), "{load:?}");
}

#[tokio::test(start_paused = true)]
async fn a_slower_response_replaces_the_estimate_at_once() {
    let (mut service, mut handle) = new_service(ms(10));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("slow"));
    advance(ms(50)).await;
    assert_request_eq!(handle, "slow").send_response("done");
    assert_ready_ok!(response.poll());

    assert_eq!(service.get_ref().load(), cost(ms(50)));
}

#[tokio::test(start_paused = true)]
async fn faster_responses_pull_the_estimate_down_gradually() {
    let (mut service, mut handle) = new_service(ms(100));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("fast"));
    advance(ms(10)).await;
    assert_request_eq!(handle, "fast").send_response("done");
    assert_ready_ok!(response.poll());

    // 100 ms weighted by e^-0.01, 10 ms by the rest: about 99.1 ms.
    let mut previous = service.get_ref().load();
    assert!(
        cost(ms(99)) < previous && previous < cost(ms(100)),
        "{previous:?}"
    );

    for _ in 0..20 {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("fast"));
        advance(ms(10)).await;
        assert_request_eq!(handle, "fast").send_response("done");
        assert_ready_ok!(response.poll());

        let load = service.get_ref().load();
        assert!(load < previous, "{load:?} < {previous:?}");
        assert!(load > cost(ms(10)), "never below the samples: {load:?}");
        previous = load;
    }
}

#[tokio::test(start_paused = true)]
async fn requests_in_flight_multiply_the_cost() {
    let (mut service, _handle) = new_service(ms(10));

    assert_ready_ok!(service.poll_ready());
    let first = service.call("one");
    assert_eq!(service.get_ref().load(), cost(ms(20)));
    assert_ready_ok!(service.poll_ready());
    let second = service.call("two");
    assert_eq!(service.get_ref().load(), cost(ms(30)));

    drop((first, second));
    // No time passed: the samples (of zero) leave the estimate as it was.
    assert_eq!(service.get_ref().load(), cost(ms(10)));
}

#[tokio::test(start_paused = true)]
async fn peaks_count_at_once_while_other_requests_are_in_flight() {
    let (mut service, mut handle) = new_service(ms(20));
    assert_eq!(service.get_ref().load(), cost(ms(20)));

    advance(ms(100)).await;
    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("first"));
    advance(ms(100)).await;
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    let first_reply = assert_request_eq!(handle, "first");
    let second_reply = assert_request_eq!(handle, "second");

    // At 300 ms the first answers, after 200 ms: a peak, doubled by the
    // second request still in flight.
    advance(ms(100)).await;
    first_reply.send_response("1");
    assert_ready_ok!(first.poll());
    assert_eq!(service.get_ref().load(), cost(ms(400)));

    // At 400 ms the second answers, after 200 ms as well.
    advance(ms(100)).await;
    second_reply.send_response("2");
    assert_ready_ok!(second.poll());
    assert_eq!(service.get_ref().load(), cost(ms(200)));

    advance(Duration::from_secs(1)).await;
    assert!(service.get_ref().load() < cost(ms(100)));

    advance(Duration::from_secs(10)).await;
    assert!(service.get_ref().load() < cost(Duration::from_micros(100)));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_response_future_still_records_a_sample() {
    let (mut service, mut handle) = new_service(ms(10));

    assert_ready_ok!(service.poll_ready());
    let response = service.call("abandoned");
    advance(ms(80)).await;
    drop(response);
    // A peak of 80 ms, and nothing in flight any more.
    assert_eq!(service.get_ref().load(), cost(ms(80)));

    assert_request_eq!(handle, "abandoned").send_response("too late");
    assert_eq!(service.get_ref().load(), cost(ms(80)));
}

#[tokio::test(start_paused = true)]
async fn a_failed_response_records_a_sample_once_its_future_is_dropped() {
    let (mut service, mut handle) = new_service(ms(10));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("doomed"));
    advance(ms(60)).await;
    assert_request_eq!(handle, "doomed").send_error("reset");
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.to_string(), "reset");
    drop(response);
    assert_eq!(service.get_ref().load(), cost(ms(60)));
}

#[tokio::test(start_paused = true)]
async fn a_handle_kept_in_the_response_counts_until_the_response_is_dropped() {
    let (mut service, mut handle) =
        mock::spawn_with(|mock: Mock| PeakEwma::new(mock, ms(10), DECAY_NS, KeepHandle));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("streaming"));
    advance(ms(10)).await;
    assert_request_eq!(handle, "streaming").send_response("head");
    let (value, kept) = assert_ready_ok!(response.poll());
    assert_eq!(value, "head");
    drop(response);
    assert!(format!("{kept:?}").starts_with("Handle"));
    let _: &peak_ewma::Handle = &kept;
    // Still in flight: the cost (10 ms, decayed for 10 ms) is doubled.
    let load = service.get_ref().load();
    assert!(cost(ms(19)) < load && load < cost(ms(20)), "{load:?}");

    // The rest of the response takes 90 ms more: a 100 ms sample.
    advance(ms(90)).await;
    drop(kept);
    assert_eq!(service.get_ref().load(), cost(ms(100)));
}

#[test]
fn readiness_follows_the_inner_service() {
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| {
        PeakEwma::new(mock, ms(10), DECAY_NS, CompleteOnResponse::default())
    });
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test(start_paused = true)]
async fn readiness_errors_pass_through() {
    let (mut service, mut handle) = new_service(ms(10));
    handle.send_error("refused");
    assert_eq!(
        assert_ready_err!(service.poll_ready()).to_string(),
        "refused"
    );
    // Polling readiness takes no sample.
    assert_eq!(service.get_ref().load(), cost(ms(10)));
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "PeakEwma's decay must be a positive number of nanoseconds")]
fn a_decay_of_zero_is_refused_in_debug_builds() {
    let _ = PeakEwma::new((), ms(10), 0.0, CompleteOnResponse::default());
}

#[test]
fn cost_is_copy_ordered_and_debug() {
    let low = cost(ms(1));
    let high = cost(ms(2));
    let copy = low;
    assert_eq!(low, copy);
    assert!(low < high);
    assert!(format!("{low:?}").starts_with("Cost("), "{low:?}");
}

#[cfg(feature = "discover")]
mod discover {
    use std::pin::Pin;

    use donjon::discover::{Change, Discover};
    use donjon::load::PeakEwmaDiscover;
    use tokio_stream::wrappers::UnboundedReceiverStream;
    use tokio_test::assert_ready;

    use super::*;

    type Changes = Result<Change<&'static str, Mock>, &'static str>;

    #[tokio::test(start_paused = true)]
    async fn wraps_each_inserted_service_and_passes_the_rest_through() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes>();
        let mut discover = PeakEwmaDiscover::new(
            UnboundedReceiverStream::new(rx),
            ms(30),
            Duration::from_secs(1),
            CompleteOnResponse::default(),
        );
        let mut task = task::spawn(());

        assert_pending!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));

        let (mock, mut handle) = mock::pair();
        tx.send(Ok(Change::Insert("a", mock))).unwrap();
        tx.send(Ok(Change::Remove("b"))).unwrap();
        tx.send(Err("registry down")).unwrap();
        assert!(task.is_woken());

        let change = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        // A reference estimate made at the same instant, with the decay
        // given in nanoseconds rather than as a duration.
        let reference = PeakEwma::new((), ms(30), DECAY_NS, CompleteOnResponse::default());
        let Change::Insert(key, mut service) = change.unwrap().unwrap() else {
            panic!("expected an insertion");
        };
        assert_eq!(key, "a");
        assert_eq!(service.load(), cost(ms(30)));

        advance(ms(500)).await;
        assert_eq!(service.load(), reference.load(), "the same decay");
        assert!(service.load() < cost(ms(30)));

        assert!(
            task.enter(|cx, _| donjon::Service::poll_ready(&mut service, cx))
                .is_ready()
        );
        let response = donjon::Service::call(&mut service, "measured");
        let (request, _) = assert_ready!(handle.poll_request()).unwrap();
        assert_eq!(request, "measured");
        assert!(service.load() > reference.load(), "in flight");
        drop(response);
        // Sent and dropped at the same instant: a sample of nothing.
        assert_eq!(service.load(), reference.load());

        let change = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        assert!(matches!(change, Some(Ok(Change::Remove("b")))));
        let change = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        assert_eq!(change.unwrap().unwrap_err(), "registry down");

        drop(tx);
        let end = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        assert!(end.is_none());
    }
}
