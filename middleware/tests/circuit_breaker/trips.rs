//! Closed to open: what trips the breaker, what does not, and how the
//! sliding windows let go of old outcomes.

use std::time::Duration;

use donjon::circuit_breaker::{CircuitBreaker, Config, State};
use tokio::time::advance;
use tokio_test::assert_ready_ok;

use crate::support::Boom;
use crate::{MS, Req, Scripted, answer, ignoring, mocked, scripted, send, send_all};

/// A count window of `size` that counts rates from `minimum` calls, with
/// the failure-rate threshold `threshold`.
fn counting(size: u32, minimum: u32, threshold: f64) -> Config {
    Config::new()
        .with_count_window(size)
        .with_minimum_calls(minimum)
        .with_failure_rate_threshold(threshold)
}

#[tokio::test(start_paused = true)]
async fn trips_when_the_failure_rate_reaches_its_threshold() {
    let mut breaker = scripted(counting(10, 4, 0.5));
    let handle = breaker.handle();

    send_all(&mut breaker, &[Req::Ok, Req::Fail, Req::Ok]).await;
    assert_eq!(handle.state(), State::Closed);
    assert_eq!(handle.calls(), 3);
    assert_eq!(handle.figures().failures(), 1);

    // 2 failures out of 4 calls: 0.5.
    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(handle.state(), State::Open);
    assert_eq!(handle.failure_rate(), 0.5);
}

#[tokio::test(start_paused = true)]
async fn stays_closed_just_below_the_failure_rate_threshold() {
    let mut breaker = scripted(counting(10, 4, 0.5));
    let handle = breaker.handle();

    // 2 failures out of 5 calls: 0.4, then 3 out of 7: 0.43.
    send_all(
        &mut breaker,
        &[Req::Ok, Req::Fail, Req::Ok, Req::Ok, Req::Fail],
    )
    .await;
    assert_eq!(handle.state(), State::Closed);
    send_all(&mut breaker, &[Req::Ok, Req::Fail]).await;
    assert_eq!(handle.state(), State::Closed);
    assert_eq!(handle.figures().failures(), 3);
    assert_eq!(handle.calls(), 7);
    // 4 out of 8: 0.5.
    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(handle.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn the_failure_rate_does_not_count_below_minimum_calls() {
    let mut breaker = scripted(counting(10, 5, 0.5));
    let handle = breaker.handle();

    send_all(&mut breaker, &[Req::Fail; 4]).await;
    assert_eq!(handle.failure_rate(), 1.0);
    assert_eq!(handle.state(), State::Closed, "4 calls, 5 needed");

    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(handle.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn a_count_window_smaller_than_minimum_calls_trips_when_full() {
    let mut breaker = scripted(counting(3, 50, 0.5));
    let handle = breaker.handle();

    send_all(&mut breaker, &[Req::Fail, Req::Fail]).await;
    assert_eq!(handle.state(), State::Closed);
    send_all(&mut breaker, &[Req::Ok]).await;
    assert_eq!(handle.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn the_count_window_lets_go_of_its_oldest_outcomes() {
    let mut breaker = scripted(counting(4, 4, 0.75));
    let handle = breaker.handle();
    let failures = |handle: &donjon::circuit_breaker::Handle| handle.figures().failures();

    send_all(&mut breaker, &[Req::Fail, Req::Fail, Req::Ok, Req::Ok]).await;
    assert_eq!((handle.calls(), failures(&handle)), (4, 2));

    // Each new outcome pushes the oldest one out.
    send_all(&mut breaker, &[Req::Ok]).await;
    assert_eq!((handle.calls(), failures(&handle)), (4, 1));
    send_all(&mut breaker, &[Req::Ok]).await;
    assert_eq!((handle.calls(), failures(&handle)), (4, 0));
    send_all(&mut breaker, &[Req::Fail, Req::Fail]).await;
    assert_eq!((handle.calls(), failures(&handle)), (4, 2));
    assert_eq!(handle.state(), State::Closed);

    // [Ok, Fail, Fail, Fail]: 7 failures out of 10 calls in all, 3 out of
    // the last 4.
    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(handle.state(), State::Open);
    assert_eq!((handle.calls(), failures(&handle)), (4, 3));
}

#[tokio::test(start_paused = true)]
async fn the_time_window_lets_go_of_outcomes_older_than_its_length() {
    // 10 s in 5 buckets of 2 s.
    let config = Config::new()
        .with_time_window(Duration::from_secs(10), 5)
        .with_minimum_calls(3)
        .with_failure_rate_threshold(0.5);
    let mut breaker = scripted(config);
    let handle = breaker.handle();

    // Two failures in the first bucket, [0 s, 2 s).
    advance(Duration::from_millis(1_500)).await;
    send_all(&mut breaker, &[Req::Fail, Req::Fail]).await;
    advance(Duration::from_millis(8_499)).await;
    assert_eq!(
        handle.calls(),
        2,
        "at 9.999 s, the first bucket is still in"
    );

    advance(MS).await;
    assert_eq!(handle.calls(), 0, "at 10 s, it is out");
    assert_eq!(handle.failure_rate(), 0.0);

    // Had they stayed, these two calls would have tripped the breaker.
    send_all(&mut breaker, &[Req::Ok, Req::Fail]).await;
    assert_eq!(handle.state(), State::Closed);
    assert_eq!((handle.calls(), handle.figures().failures()), (2, 1));
    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(handle.state(), State::Open);
    assert_eq!((handle.calls(), handle.figures().failures()), (3, 2));
}

#[tokio::test(start_paused = true)]
async fn trips_when_the_slow_call_rate_reaches_its_threshold() {
    // Slow: more than 1 s. The failure rate alone never trips it here.
    let config = counting(4, 4, 1.0).with_slow_calls(Duration::from_secs(1), 0.5);
    let mut breaker = scripted(config);
    let handle = breaker.handle();

    send_all(
        &mut breaker,
        &[Req::Ok, Req::SlowOk(1_001), Req::SlowOk(1_000), Req::Ok],
    )
    .await;
    assert_eq!(handle.figures().slow_calls(), 1, "1 s exactly is not slow");
    assert_eq!(handle.state(), State::Closed);

    // [1.001 s, 1 s, ok, 1.5 s]: 2 slow calls out of 4.
    send_all(&mut breaker, &[Req::SlowOk(1_500)]).await;
    assert_eq!(handle.state(), State::Open);
    assert_eq!(handle.slow_call_rate(), 0.5);
    assert_eq!(handle.failure_rate(), 0.0);
}

#[tokio::test(start_paused = true)]
async fn a_slow_failure_counts_as_slow_and_as_failed() {
    let config = counting(10, 10, 1.0).with_slow_calls(Duration::from_secs(1), 1.0);
    let mut breaker = scripted(config);
    let handle = breaker.handle();

    send_all(&mut breaker, &[Req::SlowFail(2_000), Req::Ok]).await;
    let figures = handle.figures();
    assert_eq!(
        (figures.calls(), figures.failures(), figures.slow_calls()),
        (2, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_is_timed_from_call_to_its_response() {
    let config = counting(10, 10, 1.0).with_slow_calls(Duration::from_secs(1), 1.0);
    let (mut service, mut handle) = mocked(config);
    let breaker = service.get_ref().handle();

    // Time spent waiting for readiness does not count...
    handle.allow(0);
    tokio_test::assert_pending!(service.poll_ready());
    advance(Duration::from_secs(5)).await;
    handle.allow(2);
    assert_ready_ok!(service.poll_ready());
    // ...time spent between `call` and the response does, even when the
    // response future is first polled late.
    let response = service.call("slow");
    advance(Duration::from_millis(1_001)).await;
    let (_, reply) = tokio_test::assert_ready!(handle.poll_request()).unwrap();
    reply.send_response("done");
    assert_eq!(response.await.unwrap(), "done");
    assert_eq!(breaker.figures().slow_calls(), 1);

    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "fast", Ok("done"))
        .await
        .unwrap();
    assert_eq!(breaker.figures().slow_calls(), 1);
    assert_eq!(breaker.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn trips_after_consecutive_failures_whatever_the_minimum_calls() {
    let config = counting(100, 100, 1.0).with_consecutive_failures(3);
    let mut breaker = scripted(config);
    let handle = breaker.handle();

    send_all(
        &mut breaker,
        &[Req::Fail, Req::Fail, Req::Ok, Req::Fail, Req::Fail],
    )
    .await;
    assert_eq!(
        handle.figures().consecutive_failures(),
        2,
        "a success resets the count"
    );
    assert_eq!(handle.state(), State::Closed);

    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(handle.state(), State::Open);
    assert_eq!(handle.figures().consecutive_failures(), 3);
    assert_eq!(handle.calls(), 6);
}

#[tokio::test(start_paused = true)]
async fn ignored_calls_count_for_nothing() {
    let config = counting(10, 3, 0.5).with_consecutive_failures(2);
    let mut breaker = CircuitBreaker::with_classifier(Scripted, config, ignoring);
    let handle = breaker.handle();

    // An ignored call neither counts in the window nor breaks a run of
    // failures.
    let error = send(&mut breaker, Req::Ignore).await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("ignore")));
    send_all(&mut breaker, &[Req::Fail, Req::Ignore, Req::Ignore]).await;
    assert_eq!(handle.calls(), 1);
    assert_eq!(handle.figures().consecutive_failures(), 1);
    assert_eq!(handle.state(), State::Closed);

    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(handle.state(), State::Open);
    assert_eq!(handle.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn calls_started_before_a_change_of_state_are_not_counted_after_it() {
    let config = counting(10, 1, 1.0).with_consecutive_failures(1);
    let (mut service, mut handle) = mocked(config);
    let breaker = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    let early = service.call("early");
    let (_, early_reply) = tokio_test::assert_ready!(handle.poll_request()).unwrap();

    // Another call fails: the breaker opens; then it is closed by hand.
    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "second", Err(Boom("down")))
        .await
        .unwrap_err();
    assert_eq!(breaker.state(), State::Open);
    breaker.force_closed();

    // The early call's failure belongs to before: it does not trip the
    // breaker again.
    early_reply.send_error(Boom("late"));
    let error = early.await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("late")));
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.calls(), 0);
}
