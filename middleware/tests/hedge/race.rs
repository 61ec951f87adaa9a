//! The original request and its hedge race: the first answer, success or
//! error, is the response, and the other attempt is cancelled.

use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::Boom;
use crate::{
    PAST_DELAY, Res, TestPolicy, Witness, assert_no_request, expect_request, receiver_gone,
    upstream_setup,
};

#[tokio::test(start_paused = true)]
async fn original_wins_and_the_hedge_is_cancelled() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let hedge = expect_request(&mut handle, "orig");

    original.send_response(Witness::new("original"));
    let winner = assert_ready_ok!(response.poll());
    assert_eq!(winner.name, "original");
    assert_eq!(
        winner.dropped.get(),
        0,
        "the winner is delivered, not dropped"
    );

    drop(response);
    assert!(receiver_gone(hedge), "the losing hedge was cancelled");
}

#[tokio::test(start_paused = true)]
async fn hedge_wins_and_the_original_is_cancelled() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let hedge = expect_request(&mut handle, "orig");

    hedge.send_response(Witness::new("hedge"));
    let winner = assert_ready_ok!(response.poll());
    assert_eq!(winner.name, "hedge");

    drop(response);
    assert!(receiver_gone(original), "the losing original was cancelled");
}

#[tokio::test(start_paused = true)]
async fn original_wins_when_both_answered_before_the_next_poll() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let hedge = expect_request(&mut handle, "orig");

    hedge.send_response("hedge-done");
    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn error_of_the_original_is_final_even_with_a_hedge_in_flight() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let hedge = expect_request(&mut handle, "orig");

    original.send_error(Boom("original"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("original")));

    drop(response);
    assert!(receiver_gone(hedge), "no fallback: the hedge was cancelled");
}

#[tokio::test(start_paused = true)]
async fn error_of_the_hedge_is_final_when_it_comes_first() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let hedge = expect_request(&mut handle, "orig");

    hedge.send_error(Boom("hedge"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("hedge")));

    drop(response);
    assert!(
        receiver_gone(original),
        "no fallback: the original was cancelled"
    );
}

#[tokio::test(start_paused = true)]
async fn error_before_the_delay_is_the_answer_and_nothing_is_hedged() {
    let (mut service, mut handle) = upstream_setup::<_, Res>(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    expect_request(&mut handle, "orig").send_error(Boom("original"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("original")));

    advance(PAST_DELAY).await;
    assert_no_request(&mut handle, "the request is over");
}
