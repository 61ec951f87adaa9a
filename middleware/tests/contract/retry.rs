//! `Retry`, with a policy that retries errors.

use std::future::{Ready, ready};

use donjon::retry::{Policy, RetryLayer};

use super::*;

/// Retries errors, twice per request, at once.
#[derive(Clone)]
struct RetryErrors(usize);

impl<E> Policy<Req, Res, E> for RetryErrors {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, E>) -> Option<Ready<()>> {
        if result.is_ok() || self.0 == 0 {
            return None;
        }
        self.0 -= 1;
        Some(ready(()))
    }

    fn clone_request(&mut self, request: &Req) -> Option<Req> {
        Some(*request)
    }
}

#[tokio::test(start_paused = true)]
async fn retry_keeps_the_contract() {
    Contract::new(RetryLayer::new(RetryErrors(2)), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn an_in_flight_budgets_counting_layer_keeps_the_contract() {
    let budget = donjon::retry::budget::InFlightBudget::new(0.1, 1);
    Contract::new(budget.layer(), hello)
        .check_cloneable::<Req, Res>()
        .await;
    assert_eq!(
        budget.executions(),
        0,
        "every execution the checks made is over"
    );
}
