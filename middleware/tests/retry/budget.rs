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
