//! Integration tests of `donjon::load`: `Constant`, `PendingRequests` and
//! `PeakEwma` (on tokio's paused clock) around mock services, completion
//! tracking, the `Discover` wrappers, and `Load` forwarded by the limits.
#![cfg(feature = "load")]

#[path = "../support/mod.rs"]
mod support;

use std::future::ready;
use std::sync::Arc;
use std::time::Duration;

use donjon::BoxError;
use donjon::load::completion::TrackCompletionFuture;
use donjon::load::peak_ewma::{self, Cost};
use donjon::load::pending_requests::{self, Count};
use donjon::load::{
    CompleteOnResponse, Constant, Load, PeakEwma, PendingRequests, TrackCompletion,
};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::{Echo, Tally, assert_readiness_follows_mock};

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

/// Reads a service's load through the trait, as a balancer would.
fn load_of<S: Load>(service: &S) -> S::Metric {
    service.load()
}

/// Keeps the load handle with the response, so that the request counts until
/// the response is dropped.
#[derive(Clone, Copy, Debug)]
struct KeepHandle;

impl<H, V> TrackCompletion<H, V> for KeepHandle {
    type Output = (V, H);

    fn track_completion(&self, handle: H, value: V) -> (V, H) {
        (value, handle)
    }
}

/// Counts the responses it is handed, and drops their handles.
#[derive(Clone, Debug, Default)]
struct CountCompletions(Tally);

impl<H, V> TrackCompletion<H, V> for CountCompletions {
    type Output = V;

    fn track_completion(&self, handle: H, value: V) -> V {
        self.0.bump();
        drop(handle);
        value
    }
}

mod constant {
    use super::*;

    #[test]
    fn reports_the_load_it_was_given() {
        assert_eq!(load_of(&Constant::new(Echo, 3_u32)), 3);
        assert_eq!(load_of(&Constant::new(Echo, 0.5_f64)), 0.5);
        assert!(load_of(&Constant::new(Echo, 1)) < load_of(&Constant::new(Echo, 2)));
    }

    #[test]
    fn calls_do_not_change_the_load() {
        let (mut service, mut handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 7));
        assert_ready_ok!(service.poll_ready());
        let _response = service.call("hello");
        assert_eq!(service.get_ref().load(), 7);
        let (request, _) = tokio_test::assert_ready!(handle.poll_request()).unwrap();
        assert_eq!(request, "hello");
    }

    #[test]
    fn readiness_follows_the_inner_service() {
        let (mut service, mut handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 1));
        assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
    }

    #[tokio::test]
    async fn requests_and_responses_pass_through() {
        let (mut service, mut handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 1));

        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("hello"));
        assert_pending!(response.poll());
        assert_request_eq!(handle, "hello").send_response("world");
        assert!(response.is_woken());
        assert_eq!(assert_ready_ok!(response.poll()), "world");
    }

    #[tokio::test]
    async fn inner_errors_pass_through() {
        let (mut service, mut handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 1));

        handle.send_error("not today");
        let error = assert_ready_err!(service.poll_ready());
        assert_eq!(error.to_string(), "not today");

        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("hello"));
        assert_request_eq!(handle, "hello").send_error("bad gateway");
        let error = assert_ready_err!(response.poll());
        assert_eq!(error.to_string(), "bad gateway");
    }

    #[test]
    fn a_dropped_inner_service_fails_readiness() {
        let (mut service, handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 1));
        drop(handle);
        let error = assert_ready_err!(service.poll_ready());
        assert!(error.is::<mock::error::Closed>(), "{error}");
    }

    #[cfg(feature = "discover")]
    mod discover {
        use std::pin::Pin;

        use donjon::discover::{Change, Discover};
        use tokio_stream::wrappers::UnboundedReceiverStream;
        use tokio_test::assert_ready;

        use super::*;

        type Changes = Result<Change<&'static str, Mock>, &'static str>;

        #[test]
        fn wraps_each_inserted_service_and_passes_the_rest_through() {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes>();
            let mut discover = Constant::new(UnboundedReceiverStream::new(rx), 42_u8);
            let mut task = task::spawn(());
            let mut poll = |discover: &mut Constant<_, u8>| {
                task.enter(|cx, _| Pin::new(discover).poll_discover(cx))
            };

            assert_pending!(poll(&mut discover));

            let (mock, mut handle) = mock::pair();
            tx.send(Ok(Change::Insert("a", mock))).unwrap();
            tx.send(Ok(Change::Remove("b"))).unwrap();
            tx.send(Err("dns")).unwrap();

            match assert_ready!(poll(&mut discover)).unwrap().unwrap() {
                Change::Insert(key, mut service) => {
                    assert_eq!(key, "a");
                    assert_eq!(service.load(), 42);
                    // The wrapped service is the inserted one.
                    let mut service_task = task::spawn(());
                    assert!(
                        service_task
                            .enter(|cx, _| donjon::Service::poll_ready(&mut service, cx))
                            .is_ready()
                    );
                    let _response = donjon::Service::call(&mut service, "via constant");
                    let (request, _) = assert_ready!(handle.poll_request()).unwrap();
                    assert_eq!(request, "via constant");
                }
                Change::Remove(key) => panic!("expected an insertion, got a removal of {key}"),
            }
            match assert_ready!(poll(&mut discover)).unwrap().unwrap() {
                Change::Remove(key) => assert_eq!(key, "b"),
                Change::Insert(key, _) => panic!("expected a removal, got an insertion of {key}"),
            }
            assert_eq!(
                assert_ready!(poll(&mut discover)).unwrap().unwrap_err(),
                "dns"
            );
            assert_pending!(poll(&mut discover));

            drop(tx);
            assert!(assert_ready!(poll(&mut discover)).is_none());
        }
    }
}

mod pending_requests_load {
    use super::*;

    fn new_service() -> (Spawn<PendingRequests<Mock>>, Handle) {
        mock::spawn_with(|mock| PendingRequests::new(mock, CompleteOnResponse::default()))
    }

    #[tokio::test]
    async fn counts_requests_until_their_responses_arrive() {
        let (mut service, mut handle) = new_service();
        let none = service.get_ref().load();
        assert_eq!(none, Count::default());

        assert_ready_ok!(service.poll_ready());
        let mut first = task::spawn(service.call("one"));
        let one = service.get_ref().load();
        assert!(one > none, "{one:?} > {none:?}");

        assert_ready_ok!(service.poll_ready());
        let mut second = task::spawn(service.call("two"));
        let two = service.get_ref().load();
        assert!(two > one, "{two:?} > {one:?}");

        // Receiving the request is not completing it.
        let first_reply = assert_request_eq!(handle, "one");
        let second_reply = assert_request_eq!(handle, "two");
        assert_eq!(service.get_ref().load(), two);

        // Sending the response is not either: the caller has to get it.
        first_reply.send_response("1");
        assert_eq!(service.get_ref().load(), two);
        assert_eq!(assert_ready_ok!(first.poll()), "1");
        assert_eq!(service.get_ref().load(), one);

        second_reply.send_response("2");
        assert_eq!(assert_ready_ok!(second.poll()), "2");
        assert_eq!(service.get_ref().load(), none);
    }

    #[tokio::test]
    async fn a_dropped_response_future_stops_counting() {
        let (mut service, mut handle) = new_service();

        assert_ready_ok!(service.poll_ready());
        let response = service.call("abandoned");
        assert!(service.get_ref().load() > Count::default());
        drop(response);
        assert_eq!(service.get_ref().load(), Count::default());

        // The request did reach the service; answering it is harmless.
        assert_request_eq!(handle, "abandoned").send_response("late");
        assert_eq!(service.get_ref().load(), Count::default());
    }

    #[tokio::test]
    async fn a_failed_response_stops_counting_once_its_future_is_dropped() {
        let (mut service, mut handle) = new_service();

        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("doomed"));
        assert_request_eq!(handle, "doomed").send_error("upstream reset");
        let error = assert_ready_err!(response.poll());
        assert_eq!(error.to_string(), "upstream reset");
        drop(response);
        assert_eq!(service.get_ref().load(), Count::default());
    }

    #[tokio::test]
    async fn a_handle_kept_in_the_response_counts_until_the_response_is_dropped() {
        let (mut service, mut handle) =
            mock::spawn_with(|mock: Mock| PendingRequests::new(mock, KeepHandle));

        assert_ready_ok!(service.poll_ready());
        let mut first = task::spawn(service.call("one"));
        assert_ready_ok!(service.poll_ready());
        let mut second = task::spawn(service.call("two"));
        let two = service.get_ref().load();

        assert_request_eq!(handle, "one").send_response("1");
        assert_request_eq!(handle, "two").send_response("2");
        let (value, first_handle) = assert_ready_ok!(first.poll());
        assert_eq!(value, "1");
        let (value, second_handle) = assert_ready_ok!(second.poll());
        assert_eq!(value, "2");
        drop((first, second));
        assert_eq!(service.get_ref().load(), two, "both responses are alive");

        assert!(format!("{first_handle:?}").starts_with("Handle"));
        let _: &pending_requests::Handle = &first_handle;
        drop(first_handle);
        let one = service.get_ref().load();
        assert!(one < two && one > Count::default(), "{one:?}");
        drop(second_handle);
        assert_eq!(service.get_ref().load(), Count::default());
    }

    #[test]
    fn readiness_follows_the_inner_service() {
        let (mut service, mut handle) = new_service();
        assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
        // Polling for readiness is not a request.
        assert_eq!(service.get_ref().load(), Count::default());
    }

    #[test]
    fn readiness_errors_pass_through() {
        let (mut service, mut handle) = new_service();
        handle.send_error("refused");
        assert_eq!(
            assert_ready_err!(service.poll_ready()).to_string(),
            "refused"
        );

        drop(handle);
        let error = assert_ready_err!(service.poll_ready());
        assert!(error.is::<mock::error::Closed>(), "{error}");
    }

    #[test]
    fn count_is_ordered_copy_and_defaults_to_zero() {
        let zero = Count::default();
        let copy = zero;
        assert_eq!(zero, copy);
        assert_eq!(format!("{zero:?}"), "Count(0)");

        let mut service = PendingRequests::new(Echo, CompleteOnResponse::default());
        let _in_flight = donjon::Service::<u8>::call(&mut service, 1);
        let one = service.load();
        assert_eq!(format!("{one:?}"), "Count(1)");
        assert!(zero < one);
        assert_eq!(zero.cmp(&one), std::cmp::Ordering::Less);
        assert_eq!(zero.max(one), one);
    }

    #[cfg(feature = "discover")]
    mod discover {
        use std::pin::Pin;

        use donjon::discover::{Change, Discover};
        use donjon::load::PendingRequestsDiscover;
        use tokio_stream::wrappers::UnboundedReceiverStream;
        use tokio_test::assert_ready;

        use super::*;

        type Changes = Result<Change<u32, Mock>, &'static str>;

        #[test]
        fn wraps_each_inserted_service_and_passes_the_rest_through() {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes>();
            let mut discover = PendingRequestsDiscover::new(
                UnboundedReceiverStream::new(rx),
                CompleteOnResponse::default(),
            );
            let mut task = task::spawn(());

            assert_pending!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
            assert!(!task.is_woken());

            let (mock, mut handle) = mock::pair();
            tx.send(Ok(Change::Insert(1, mock))).unwrap();
            assert!(
                task.is_woken(),
                "the inner discovery's wake-up comes through"
            );
            tx.send(Ok(Change::Remove(2))).unwrap();
            tx.send(Err("registry down")).unwrap();

            let change =
                assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
            let Change::Insert(key, mut service) = change.unwrap().unwrap() else {
                panic!("expected an insertion");
            };
            assert_eq!(key, 1);
            assert_eq!(service.load(), Count::default());
            assert!(
                task.enter(|cx, _| donjon::Service::poll_ready(&mut service, cx))
                    .is_ready()
            );
            let response = donjon::Service::call(&mut service, "counted");
            assert!(service.load() > Count::default(), "the wrapper counts");
            let (request, _) = assert_ready!(handle.poll_request()).unwrap();
            assert_eq!(request, "counted");
            drop(response);
            assert_eq!(service.load(), Count::default());

            let change =
                assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
            assert!(matches!(change, Some(Ok(Change::Remove(2)))));
            let change =
                assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
            assert_eq!(change.unwrap().unwrap_err(), "registry down");

            drop(tx);
            let end = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
            assert!(end.is_none());
        }
    }
}

mod peak_ewma_load {
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

            let change =
                assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
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

            let change =
                assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
            assert!(matches!(change, Some(Ok(Change::Remove("b")))));
            let change =
                assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
            assert_eq!(change.unwrap().unwrap_err(), "registry down");

            drop(tx);
            let end = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
            assert!(end.is_none());
        }
    }
}

mod completion {
    use super::*;

    #[test]
    fn complete_on_response_drops_the_handle_and_returns_the_value() {
        let handle = Arc::new(());
        let completion = CompleteOnResponse::default();
        let value = completion.track_completion(Arc::clone(&handle), "value");
        assert_eq!(value, "value");
        assert_eq!(Arc::strong_count(&handle), 1, "the handle was dropped");

        let copy = completion;
        let _ = (copy, completion);
        assert_eq!(format!("{completion:?}"), "CompleteOnResponse");
    }

    #[test]
    fn the_future_hands_the_response_and_the_handle_to_the_policy() {
        let handle = Arc::new(());
        let completions = CountCompletions::default();
        let future = TrackCompletionFuture::new(
            completions.clone(),
            Arc::clone(&handle),
            ready(Ok::<_, BoxError>(5_u32)),
        );
        let mut future = task::spawn(future);
        assert_eq!(assert_ready_ok!(future.poll()), 5);
        assert_eq!(completions.0.get(), 1);
        assert_eq!(
            Arc::strong_count(&handle),
            1,
            "the policy dropped the handle"
        );
    }

    #[test]
    fn the_future_keeps_the_handle_while_the_response_is_pending() {
        let handle = Arc::new(());
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<u32, &'static str>>();
        let future = TrackCompletionFuture::new(KeepHandle, Arc::clone(&handle), async move {
            rx.await.unwrap()
        });
        let mut future = task::spawn(future);
        assert_pending!(future.poll());
        assert_eq!(Arc::strong_count(&handle), 2);

        tx.send(Ok(9)).unwrap();
        assert!(future.is_woken());
        let (value, kept) = assert_ready_ok!(future.poll());
        assert_eq!(value, 9);
        drop(future);
        assert_eq!(Arc::strong_count(&handle), 2, "the response holds it");
        drop(kept);
        assert_eq!(Arc::strong_count(&handle), 1);
    }

    #[test]
    fn on_an_error_the_handle_is_dropped_with_the_future() {
        let handle = Arc::new(());
        let completions = CountCompletions::default();
        let future = TrackCompletionFuture::new(
            completions.clone(),
            Arc::clone(&handle),
            ready(Err::<u32, _>("refused")),
        );
        let mut future = task::spawn(future);
        assert_eq!(assert_ready_err!(future.poll()), "refused");
        assert_eq!(completions.0.get(), 0, "the policy sees only responses");
        drop(future);
        assert_eq!(Arc::strong_count(&handle), 1);
    }

    #[test]
    fn a_dropped_future_drops_its_handle() {
        let handle = Arc::new(());
        let future = TrackCompletionFuture::new(
            CompleteOnResponse::default(),
            Arc::clone(&handle),
            std::future::pending::<Result<(), ()>>(),
        );
        let mut future = task::spawn(future);
        assert_pending!(future.poll());
        drop(future);
        assert_eq!(Arc::strong_count(&handle), 1);
    }
}

#[cfg(feature = "limit")]
mod limits_forward_load {
    use donjon::limit::{ConcurrencyLimit, RateLimit, rate::Rate};

    use super::*;

    #[test]
    fn concurrency_limit_reports_its_inner_load() {
        let limited = ConcurrencyLimit::new(Constant::new(Echo, 7_u32), 1);
        assert_eq!(load_of(&limited), 7);
    }

    #[tokio::test]
    async fn concurrency_limit_load_follows_the_inner_service_live() {
        let (mut service, mut handle) = mock::spawn_with(|mock: Mock| {
            ConcurrencyLimit::new(PendingRequests::new(mock, CompleteOnResponse::default()), 2)
        });
        assert_eq!(service.get_ref().load(), Count::default());

        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("counted"));
        assert!(service.get_ref().load() > Count::default());

        assert_request_eq!(handle, "counted").send_response("ok");
        assert_ready_ok!(response.poll());
        assert_eq!(service.get_ref().load(), Count::default());
    }

    #[tokio::test]
    async fn rate_limit_reports_its_inner_load() {
        let limited = RateLimit::new(
            Constant::new(Echo, 0.25_f64),
            Rate::new(1, Duration::from_secs(1)),
        );
        assert_eq!(load_of(&limited), 0.25);
    }

    #[tokio::test]
    async fn rate_limit_load_follows_the_inner_service_live() {
        let mut limited = RateLimit::new(
            PendingRequests::new(Echo, CompleteOnResponse::default()),
            Rate::new(10, Duration::from_secs(1)),
        );
        assert_eq!(load_of(&limited), Count::default());
        let mut ready_task = task::spawn(());
        assert_ready_ok!(
            ready_task.enter(|cx, _| donjon::Service::<u8>::poll_ready(&mut limited, cx))
        );
        let response = donjon::Service::<u8>::call(&mut limited, 1);
        assert!(load_of(&limited) > Count::default());
        drop(response);
        assert_eq!(load_of(&limited), Count::default());
    }
}
