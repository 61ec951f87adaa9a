//! Outlier detection (`donjon::balance::outlier`): ejection after
//! consecutive failures and for a low success rate, the length of
//! ejections, the share of endpoints out at once, the readiness of an
//! ejected endpoint, and a `p2c::Balance` that stops sending to it.
//!
//! Every test runs on tokio's paused clock; the numbers in the comments are
//! derived by hand from the rules in the module's documentation.

use std::future::Ready;
use std::time::Duration;

use donjon::balance::outlier::{Detector, Ejectable, OutlierDetection};
use donjon::classify::Outcome;
use tokio::time::{Instant, advance};

use super::*;

const SECOND: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

/// Always ready; answers `"fail"` with a [`Teapot`] error, anything else
/// with itself.
#[derive(Debug, Clone, Copy)]
struct Verdict;

impl Service<Req> for Verdict {
    type Response = Req;
    type Error = BoxError;
    type Future = Ready<Result<Req, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        std::future::ready(match request {
            "fail" => Err(Teapot.into()),
            _ => Ok(request),
        })
    }
}

impl Load for Verdict {
    type Metric = u32;

    fn load(&self) -> u32 {
        0
    }
}

/// An endpoint under a mock task.
type Watched<C = donjon::classify::ErrorsAreFailures> = Spawn<Ejectable<Verdict, C>>;

/// `count` endpoints registered with one detector made from `detection`.
fn endpoints<C>(detection: OutlierDetection<C>, count: usize) -> (Detector<C>, Vec<Watched<C>>) {
    let detector = detection.detector();
    let endpoints = (0..count)
        .map(|_| Spawn::new(detector.wrap(Verdict)))
        .collect();
    (detector, endpoints)
}

/// Sends `request` `times` to `endpoint`, which must be in service and
/// ready each time, and waits for each answer.
async fn send<C>(endpoint: &mut Watched<C>, request: Req, times: usize)
where
    C: donjon::classify::Classify<Req, BoxError>,
{
    for _ in 0..times {
        assert_ready_ok!(endpoint.poll_ready(), "in service");
        let _ = endpoint.call(request).await;
    }
}

/// Whether the endpoint is ejected now.
fn ejected<C>(endpoint: &Watched<C>) -> bool {
    endpoint.get_ref().is_ejected()
}

/// When the endpoint's ejection ends.
fn until<C>(endpoint: &Watched<C>) -> Instant {
    let ejectable = endpoint.get_ref();
    ejectable
        .detector()
        .ejected_until(ejectable.id())
        .expect("ejected")
}

// 1. Consecutive failures.

#[tokio::test(start_paused = true)]
async fn the_fifth_failure_in_a_row_ejects_for_exactly_the_base_time() {
    let start = Instant::now();
    let (detector, mut endpoints) = endpoints(OutlierDetection::new(), 2);
    let a = &mut endpoints[0];

    // Four failures: still in service (the default threshold is 5).
    send(a, "fail", 4).await;
    assert!(!ejected(a));
    assert_ready_ok!(a.poll_ready());

    // The fifth ejects at once, for the base time: 30 s × 1.
    send(a, "fail", 1).await;
    assert!(ejected(a));
    assert_eq!(detector.ejected_len(), 1);
    assert_eq!(until(a), start + 30 * SECOND);
    assert_pending!(a.poll_ready());

    // 29.999 s later: still out, and not woken.
    advance(30 * SECOND - MS).await;
    assert!(!a.is_woken());
    assert_pending!(a.poll_ready());
    assert!(ejected(a));

    // At 30 s exactly: woken by the ejection's timer, and back.
    advance(MS).await;
    assert!(a.is_woken(), "the end of the ejection wakes the task");
    assert!(!ejected(a));
    assert_ready_ok!(a.poll_ready());
    assert_eq!(detector.ejected_len(), 0);

    // Back, its failures are counted from zero: four keep it in service,
    // the fifth ejects it again.
    send(a, "fail", 4).await;
    assert!(!ejected(a), "the count restarted on return");
    send(a, "fail", 1).await;
    assert!(ejected(a));
}

// 2. Length of ejections.

/// Two endpoints; the first ejected at 0 s for 30 s (multiplier 1), back
/// at 30 s, failing five times again at once: multiplier 2, ejected
/// 60 s, until 90 s. Returns the detector's start.
async fn ejected_twice(detection: OutlierDetection) -> (Instant, Detector, Vec<Watched>) {
    let start = Instant::now();
    let (detector, mut endpoints) = endpoints(detection, 2);
    send(&mut endpoints[0], "fail", 5).await;
    assert_eq!(until(&endpoints[0]), start + 30 * SECOND);
    advance(30 * SECOND).await;
    // At 30 s, a boundary: the endpoint has been in service for no time,
    // so its multiplier stays 1.
    send(&mut endpoints[0], "fail", 5).await;
    assert_eq!(until(&endpoints[0]), start + 90 * SECOND, "60 s: 2 × 30 s");
    (start, detector, endpoints)
}

#[tokio::test(start_paused = true)]
async fn a_second_ejection_lasts_twice_the_base_time() {
    let (start, _detector, mut endpoints) = ejected_twice(OutlierDetection::new()).await;
    let a = &mut endpoints[0];
    advance(60 * SECOND - MS).await;
    assert_pending!(a.poll_ready(), "at 89.999 s, still out");
    advance(MS).await;
    assert!(a.is_woken());
    assert_ready_ok!(a.poll_ready(), "back at 90 s");

    // Failing again before any boundary (the next is at 100 s): the
    // multiplier goes from 2 to 3, for 90 s, from 95 s to 185 s.
    advance(5 * SECOND).await;
    send(a, "fail", 5).await;
    assert_eq!(until(a), start + 185 * SECOND);
}

#[tokio::test(start_paused = true)]
async fn the_multiplier_decreases_by_one_for_each_whole_interval_in_service() {
    // Back at 90 s with multiplier 2. The boundary at 100 s closes a whole
    // interval in service: 2 − 1 = 1. Failing at 105 s: 1 + 1 = 2, 60 s,
    // until 165 s.
    let (start, _detector, mut endpoints) = ejected_twice(OutlierDetection::new()).await;
    advance(75 * SECOND).await;
    send(&mut endpoints[0], "fail", 5).await;
    assert_eq!(until(&endpoints[0]), start + 165 * SECOND);

    // Back at 90 s again; boundaries at 100 s and 110 s: 2 − 2 = 0. Failing
    // at 115 s, with nothing touching the detector in between: 0 + 1 = 1,
    // 30 s, until 145 s.
    let (start, _detector, mut endpoints) = ejected_twice(OutlierDetection::new()).await;
    advance(85 * SECOND).await;
    send(&mut endpoints[0], "fail", 5).await;
    assert_eq!(until(&endpoints[0]), start + 145 * SECOND);
}

#[tokio::test(start_paused = true)]
async fn ejections_grow_up_to_the_max_ejection_time() {
    // Base 10 s, cap 25 s. The multiplier grows while base × multiplier is
    // below the cap: 0 → 1 (10 s), 1 → 2 (20 s), 2 → 3 (30 s, capped to
    // 25 s), then stays 3 (3 × 10 s ≥ 25 s): 25 s.
    let detection = OutlierDetection::new()
        .with_base_ejection_time(10 * SECOND)
        .with_max_ejection_time(25 * SECOND);
    let (_detector, mut endpoints) = endpoints(detection, 2);
    let a = &mut endpoints[0];
    for expected in [10, 20, 25, 25] {
        // Failing as soon as it is back: no interval in service, no
        // decrease.
        send(a, "fail", 5).await;
        let length = until(a) - Instant::now();
        assert_eq!(length, expected * SECOND);
        advance(length).await;
        assert!(!ejected(a));
    }
}

// 3. What restarts the count.

#[tokio::test(start_paused = true)]
async fn a_success_between_failures_restarts_the_count() {
    let (_detector, mut endpoints) = endpoints(OutlierDetection::new(), 2);
    let a = &mut endpoints[0];
    send(a, "fail", 4).await;
    send(a, "ok", 1).await;
    // 4 failures again: 4 in a row, not 8.
    send(a, "fail", 4).await;
    assert!(!ejected(a));
    send(a, "fail", 1).await;
    assert!(ejected(a), "the fifth in a row");
}

#[tokio::test(start_paused = true)]
async fn an_ignored_call_neither_counts_nor_restarts() {
    // "cancelled" is ignored: it is no failure, and no success either.
    let classify = |result: &Result<Req, BoxError>| match result {
        Ok("cancelled") => Outcome::Ignored,
        Ok(_) => Outcome::Success,
        Err(_) => Outcome::Failure,
    };
    let (_detector, mut endpoints) = endpoints(OutlierDetection::new().with_classify(classify), 2);
    let a = &mut endpoints[0];
    send(a, "fail", 4).await;
    send(a, "cancelled", 3).await;
    assert!(!ejected(a), "ignored calls are no failures");
    send(a, "fail", 1).await;
    assert!(
        ejected(a),
        "nor successes: this is the fifth failure in a row"
    );
}

// 4. Success rate.

/// Sends each endpoint its share of calls: `calls[i]` calls of which
/// `successes[i]` succeed.
async fn load_with(endpoints: &mut [Watched], calls: &[usize], successes: &[usize]) {
    for (index, endpoint) in endpoints.iter_mut().enumerate() {
        send(endpoint, "ok", successes[index]).await;
        send(endpoint, "fail", calls[index] - successes[index]).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_success_rate_far_below_the_others_ejects_at_the_end_of_the_interval() {
    let start = Instant::now();
    let detection = OutlierDetection::new().without_consecutive_failures();
    let (detector, mut endpoints) = endpoints(detection, 5);
    // 100 calls each in the first interval, at 1 s; rates 1, 1, 1, 1, 0.5.
    // mean = 4.5 / 5 = 0.9; deviations 0.1 (× 4) and −0.4; variance =
    // (4 × 0.01 + 0.16) / 5 = 0.04; stdev = 0.2; threshold = 0.9 − 1.9 ×
    // 0.2 = 0.52. 0.5 < 0.52: the last one is ejected; 1.0 is not.
    advance(SECOND).await;
    load_with(&mut endpoints, &[100; 5], &[100, 100, 100, 100, 50]).await;

    // The interval ends at 10 s.
    advance(9 * SECOND - MS).await;
    assert_eq!(detector.ejected_len(), 0, "at 9.999 s, not yet");
    advance(MS).await;
    assert_eq!(detector.ejected_len(), 1);
    assert!(ejected(&endpoints[4]));
    assert_eq!(until(&endpoints[4]), start + 40 * SECOND, "10 s + 30 s");
    assert_pending!(endpoints[4].poll_ready());
    for endpoint in &mut endpoints[..4] {
        assert!(!ejected(endpoint));
        assert_ready_ok!(endpoint.poll_ready());
    }

    // The counts start again: the next interval has no calls, and ejects
    // nothing more.
    advance(10 * SECOND).await;
    assert_eq!(detector.ejected_len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_interval_ending_unobserved_is_applied_as_of_its_end() {
    let start = Instant::now();
    let detection = OutlierDetection::new().without_consecutive_failures();
    let (_detector, mut endpoints) = endpoints(detection, 5);
    load_with(&mut endpoints, &[100; 5], &[100, 100, 100, 100, 50]).await;
    // Nothing touches the detector until 25 s: the check of the interval
    // ending at 10 s is made then, as of 10 s.
    advance(25 * SECOND).await;
    assert_eq!(until(&endpoints[4]), start + 40 * SECOND);
}

#[tokio::test(start_paused = true)]
async fn fewer_qualifying_endpoints_than_the_minimum_eject_nothing() {
    // A factor of 1 (with 1.9, one endpoint out of 4 could never be below
    // the threshold, and the test could not fail). Rates of the four with
    // 100 calls: 1, 1, 1, 0.5: mean 0.875; variance = (3 × 0.015625 +
    // 0.140625) / 4 = 0.046875; stdev ≈ 0.2165; threshold ≈ 0.6585 > 0.5.
    // The fifth endpoint has 99 calls: it does not qualify.
    let detection = || {
        OutlierDetection::new()
            .without_consecutive_failures()
            .with_success_rate_stdev_factor(1.0)
    };
    let calls = [100, 100, 100, 100, 99];
    let successes = [100, 100, 100, 50, 99];

    // 4 qualify, the minimum is 5: nothing is ejected.
    let (detector, mut watched) = endpoints(detection(), 5);
    load_with(&mut watched, &calls, &successes).await;
    advance(10 * SECOND).await;
    assert_eq!(detector.ejected_len(), 0);

    // The same calls with a minimum of 4: the 0.5 one is ejected.
    let (detector, mut watched) = endpoints(detection().with_success_rate_minimum_hosts(4), 5);
    load_with(&mut watched, &calls, &successes).await;
    advance(10 * SECOND).await;
    assert_eq!(detector.ejected_len(), 1);
    assert!(ejected(&watched[3]));
}

// 5. The share ejected at once.

#[tokio::test(start_paused = true)]
async fn when_every_endpoint_fails_only_the_share_is_ejected() {
    let detection = OutlierDetection::new()
        .without_success_rate()
        .with_max_ejection_share(0.2);
    let (detector, mut endpoints) = endpoints(detection, 10);
    // ⌊0.2 × 10⌋ = 2 may be out. The first fails five times at 0 s, the
    // second at 10 s, the eight others at 10 s too, after it.
    send(&mut endpoints[0], "fail", 5).await;
    advance(10 * SECOND).await;
    for endpoint in &mut endpoints[1..] {
        send(endpoint, "fail", 5).await;
    }
    assert_eq!(detector.ejected_len(), 2);
    assert!(ejected(&endpoints[0]) && ejected(&endpoints[1]));
    for endpoint in &mut endpoints[2..] {
        assert!(!ejected(endpoint));
        assert_ready_ok!(endpoint.poll_ready(), "the others stay in service");
    }

    // At 30 s the first comes back: the next failure of one still failing
    // (its sixth in a row) ejects it; the one after that does not.
    advance(20 * SECOND).await;
    assert!(!ejected(&endpoints[0]));
    send(&mut endpoints[2], "fail", 1).await;
    assert!(ejected(&endpoints[2]));
    send(&mut endpoints[3], "fail", 1).await;
    assert!(!ejected(&endpoints[3]));
    assert_eq!(detector.ejected_len(), 2);
}

#[tokio::test(start_paused = true)]
async fn one_endpoint_may_be_ejected_when_the_share_rounds_down_but_not_the_last() {
    let detection = || OutlierDetection::new().without_success_rate();

    // 5 endpoints, share 0.1: ⌊0.5⌋ = 0, but one may always be out.
    let (detector, mut watched) = endpoints(detection(), 5);
    for endpoint in &mut watched {
        send(endpoint, "fail", 5).await;
    }
    assert_eq!(detector.ejected_len(), 1);

    // Unless told otherwise.
    let (detector, mut watched) = endpoints(detection().with_always_eject_one(false), 5);
    for endpoint in &mut watched {
        send(endpoint, "fail", 5).await;
    }
    assert_eq!(detector.ejected_len(), 0);

    // Never the only endpoint...
    let (detector, mut watched) = endpoints(detection(), 1);
    send(&mut watched[0], "fail", 5).await;
    assert_eq!(detector.ejected_len(), 0);

    // ... unless the share itself allows it: ⌊1 × 1⌋ = 1.
    let (detector, mut watched) = endpoints(detection().with_max_ejection_share(1.0), 1);
    send(&mut watched[0], "fail", 5).await;
    assert_eq!(detector.ejected_len(), 1);
}

// 6. Through a p2c balancer.

/// Sends a request through the ready balancer; the endpoint at `failing`
/// answers with an error, the others with a response. Returns the index
/// of the endpoint that got it.
fn exchange<S>(balance: &mut Spawn<S>, handles: &mut [&mut Handle], failing: usize) -> usize
where
    S: Service<Req, Response = Req, Error = BoxError>,
{
    let mut response = task::spawn(balance.call("request"));
    let mut receiver = None;
    for (index, handle) in handles.iter_mut().enumerate() {
        if let Poll::Ready(Some((_, reply))) = handle.poll_request() {
            assert_eq!(receiver, None, "one endpoint gets the request");
            if index == failing {
                reply.send_error(Teapot);
            } else {
                reply.send_response("response");
            }
            receiver = Some(index);
        }
    }
    let receiver = receiver.expect("an endpoint gets the request");
    let result = assert_ready!(response.poll());
    assert_eq!(result.is_err(), receiver == failing);
    receiver
}

#[tokio::test(start_paused = true)]
async fn a_balancer_sends_nothing_to_an_ejected_endpoint_until_its_time_is_over() {
    let (a, mut handle_a) = open_endpoint(0);
    let (b, mut handle_b) = open_endpoint(0);
    let endpoints = OutlierDetection::new()
        .with_consecutive_failures(1)
        .discover(ServiceList::new(vec![a, b]));
    let detector = endpoints.detector().clone();
    let mut balance = Spawn::new(Balance::from_rng(endpoints, seeded_rng()));
    let handles = &mut [&mut handle_a, &mut handle_b];

    // Both serve, with equal loads, until a gets a request: it fails,
    // which ejects a (one failure is enough here).
    let mut requests = 0;
    loop {
        assert_ready_ok!(balance.poll_ready());
        requests += 1;
        if exchange(&mut balance, handles, 0) == 0 {
            break;
        }
        assert!(requests < 50, "a gets some of the requests");
    }
    assert_eq!(detector.ejected_len(), 1);

    // Every request goes to b for 30 s.
    for _ in 0..50 {
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(exchange(&mut balance, handles, 0), 1);
    }
    advance(30 * SECOND - MS).await;
    for _ in 0..20 {
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(exchange(&mut balance, handles, 0), 1, "at 29.999 s");
    }

    // Then a gets requests again (it still fails: it is ejected again,
    // for 60 s).
    advance(MS).await;
    let mut requests = 0;
    loop {
        assert_ready_ok!(balance.poll_ready());
        requests += 1;
        if exchange(&mut balance, handles, 0) == 0 {
            break;
        }
        assert!(requests < 50, "a gets requests again");
    }
    assert_eq!(detector.ejected_len(), 1);
}

// 7. The readiness contract.

#[tokio::test(start_paused = true)]
async fn an_ejected_endpoint_does_not_poll_its_inner_service_and_surfaces_its_error_after() {
    let detector = OutlierDetection::new()
        .with_consecutive_failures(1)
        .detector();
    let _other = detector.wrap(Verdict);
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| detector.wrap(mock));

    assert_ready_ok!(service.poll_ready());
    let response = service.call("request");
    let (_, reply) = assert_ready!(handle.poll_request()).unwrap();
    reply.send_error(Teapot);
    let error = response.await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<Teapot>(),
        Some(&Teapot),
        "the inner error, unchanged"
    );
    assert!(service.get_ref().is_ejected());

    // The mock's next poll_ready fails; while ejected, it is not polled.
    handle.send_error("not ready");
    assert_pending!(service.poll_ready());
    advance(30 * SECOND).await;
    assert!(service.is_woken());
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.to_string(), "not ready", "the inner readiness error");
}

#[tokio::test(start_paused = true)]
async fn in_service_the_inner_readiness_passes_through() {
    let detector = OutlierDetection::new().detector();
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| detector.wrap(mock));

    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.allow(1);
    assert!(service.is_woken(), "the inner wake-up reaches the task");
    assert_ready_ok!(service.poll_ready());
    let response = service.call("request");
    let (_, reply) = assert_ready!(handle.poll_request()).unwrap();
    reply.send_response("response");
    assert_eq!(response.await.unwrap(), "response");

    handle.send_error("broken");
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.to_string(), "broken");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_response_future_counts_as_neither_success_nor_failure() {
    let (_detector, mut endpoints) =
        endpoints(OutlierDetection::new().with_consecutive_failures(2), 2);
    let a = &mut endpoints[0];
    send(a, "fail", 1).await;
    // Dropped unpolled: a failure would have made two in a row.
    assert_ready_ok!(a.poll_ready());
    drop(a.call("fail"));
    assert!(!ejected(a), "not a failure");
    // A success would have restarted the count.
    send(a, "fail", 1).await;
    assert!(ejected(a), "nor a success");
}

#[tokio::test(start_paused = true)]
async fn an_endpoint_removed_from_discovery_is_unregistered() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u32, Endpoint>>();
    let endpoints = OutlierDetection::new().discover(UnboundedReceiverStream::new(rx));
    let detector = endpoints.detector().clone();
    let mut balance = Spawn::new(Balance::new(endpoints));
    let mut handles = Vec::new();
    for key in 0..3 {
        let (endpoint, handle) = open_endpoint(0);
        tx.send(Ok(Change::Insert(key, endpoint))).unwrap();
        handles.push(handle);
    }
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(detector.len(), 3);

    tx.send(Ok(Change::Remove(1))).unwrap();
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(balance.get_ref().len(), 2);
    assert_eq!(detector.len(), 2, "the removed endpoint is unregistered");
}

#[tokio::test(start_paused = true)]
async fn the_share_is_counted_over_the_endpoints_still_registered() {
    let detection = OutlierDetection::new()
        .without_success_rate()
        .with_max_ejection_share(0.5)
        .with_always_eject_one(false);
    let (detector, mut watched) = endpoints(detection, 4);
    // ⌊0.5 × 4⌋ = 2 could be out; two endpoints go: ⌊0.5 × 2⌋ = 1.
    watched.truncate(2);
    assert_eq!(detector.len(), 2);
    for endpoint in &mut watched {
        send(endpoint, "fail", 5).await;
    }
    assert_eq!(detector.ejected_len(), 1);

    // The ejected one goes too: it no longer counts as ejected.
    let ejected_index = usize::from(!ejected(&watched[0]));
    watched.remove(ejected_index);
    assert_eq!((detector.len(), detector.ejected_len()), (1, 0));
}
