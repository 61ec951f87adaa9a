//! A policy drawing on a shared `TpsBudget`: it retries only while the
//! budget allows, and returns the error as it is when the budget refuses.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::Duration;

use donjon::retry::Policy;
use donjon::retry::budget::{Budget, TpsBudget};
use donjon_test::assert_request_eq;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::new_service;

/// Retries errors while `budget` allows: pays in once per request, when
/// its first attempt finishes, and withdraws before each retry.
#[derive(Clone, Debug)]
struct Budgeted {
    budget: Arc<TpsBudget>,
    /// Attempts of this request judged so far (per policy clone).
    judged: usize,
}

impl<Rq: Clone, Rs, E> Policy<Rq, Rs, E> for Budgeted {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Rq, result: &mut Result<Rs, E>) -> Option<Ready<()>> {
        if self.judged == 0 {
            self.budget.deposit();
        }
        self.judged += 1;
        (result.is_err() && self.budget.withdraw()).then(|| ready(()))
    }

    fn clone_request(&mut self, req: &Rq) -> Option<Rq> {
        Some(req.clone())
    }
}

#[tokio::test(start_paused = true)]
async fn retries_stop_when_the_shared_budget_refuses() {
    // Two requests pay for one retry; there is no minimum allowance.
    let budget = Arc::new(TpsBudget::new(Duration::from_secs(10), 0, 0.5));
    let policy = Budgeted {
        budget: budget.clone(),
        judged: 0,
    };
    let (mut service, mut handle) = new_service(policy);

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("first"));
    assert_request_eq!(handle, "first").send_error("first 1");
    assert_eq!(
        assert_ready_err!(first.poll()).to_string(),
        "first 1",
        "one request does not pay for a retry"
    );
    assert_pending!(handle.poll_request(), "the first request was not retried");

    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    assert_request_eq!(handle, "second").send_error("second 1");
    assert_pending!(second.poll(), "two requests pay for a retry");
    assert_request_eq!(handle, "second").send_error("second 2");
    assert_eq!(
        assert_ready_err!(second.poll()).to_string(),
        "second 2",
        "the budget is spent"
    );
    assert_pending!(handle.poll_request(), "no third attempt");
    assert_eq!(
        format!("{budget:?}"),
        "Budget { deposit: 1, withdraw: 2, balance: 0 }"
    );

    assert_ready_ok!(service.poll_ready());
    let mut third = task::spawn(service.call("third"));
    assert_request_eq!(handle, "third").send_response("done");
    assert_eq!(assert_ready_ok!(third.poll()), "done");
    assert_eq!(
        format!("{budget:?}"),
        "Budget { deposit: 1, withdraw: 2, balance: 1 }",
        "a successful request pays in too"
    );
}

// tower-rs/tower#857: tower's `TpsBudget` prices a retry at
// `floor(1 / retry_percent)` deposits (or `floor(1000 / retry_percent)`
// thousandths above 1), so that ten requests at 0.6 pay for ten retries.
#[tokio::test(start_paused = true)]
async fn issue_857_deposits_pay_for_no_more_than_their_share_of_retries() {
    // (retry_percent, deposits, retries they pay for)
    let cases = [
        (0.6, 10, 6),
        (0.6, 1, 0),
        (0.12, 8, 0),
        (0.12, 9, 1),
        (0.03, 33, 0),
        (0.1, 10, 1),
        (0.11, 297, 32),
        (21.368_254, 2, 42),
        (600.0, 1, 600),
    ];
    for (retry_percent, deposits, retries) in cases {
        let budget = TpsBudget::new(Duration::from_secs(10), 0, retry_percent);
        for _ in 0..deposits {
            budget.deposit();
        }
        let allowed = (0..retries + 5).filter(|_| budget.withdraw()).count();
        assert_eq!(
            allowed, retries,
            "{deposits} deposits at {retry_percent} pay for {retries} retries"
        );
    }
}

// A withdrawal counts against the budget until ten buckets (tenths of the
// ttl, from the budget's creation) after its own: tower's `TpsBudget`
// starts a bucket at each call more than a tenth after the last, and moves
// on by two buckets when a call comes a little more than a tenth late, so
// that a withdrawal could stop counting after half the ttl and its retry be
// spent again.
#[tokio::test(start_paused = true)]
async fn a_withdrawal_counts_until_the_bucket_a_ttl_after_its_own() {
    // A reserve of one retry per second, and deposits pay nothing.
    let budget = TpsBudget::new(Duration::from_secs(1), 1, 0.0);
    assert!(budget.withdraw(), "the reserve's one retry");
    for step in 1..=9 {
        tokio::time::advance(Duration::from_millis(101)).await;
        assert!(
            !budget.withdraw(),
            "{} ms after the first withdrawal, it still counts",
            step * 101
        );
    }
    // 909 ms; the bucket of a ttl after the first starts at 1 s.
    tokio::time::advance(Duration::from_millis(90)).await;
    assert!(!budget.withdraw(), "999 ms after it, it still counts");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(budget.withdraw(), "a ttl after it, it no longer counts");
    assert!(!budget.withdraw());
}

#[test]
fn concurrent_withdrawals_never_spend_the_same_retry() {
    const THREADS: usize = 4;
    const TRIES: usize = 2_000;
    // A reserve of 1000 retries, which the test cannot outlive.
    let budget = TpsBudget::new(Duration::from_secs(10), 100, 0.0);
    let allowed: usize = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|_| scope.spawn(|| (0..TRIES).filter(|_| budget.withdraw()).count()))
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .sum()
    });
    assert_eq!(allowed, 1_000);
}
