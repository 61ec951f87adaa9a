//! `donjon::retry`: a retry asked for, and the budget running dry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use donjon::retry::budget::{Budget, TpsBudget};
use donjon::retry::{Policy, Retry};
use donjon::{BoxError, ServiceExt, service_fn};

use crate::{capture, lines_with};

#[tokio::test(start_paused = true)]
async fn a_budget_running_dry_warns_once_with_its_balance() {
    let (captured, _guard) = capture();
    // One retry always allowed per second; each request pays a quarter.
    let budget = TpsBudget::new(Duration::from_secs(1), 1, 0.25);

    assert!(budget.withdraw());
    assert!(captured.lines().is_empty(), "granted: no event");
    budget.deposit();
    assert!(!budget.withdraw());
    assert!(!budget.withdraw());
    let expected = " WARN retry budget exhausted: retries are refused until requests pay in \
                    balance=0.25 reserve=1.0 per_request=0.25 ttl=1s";
    assert_eq!(captured.lines(), [expected], "once while dry");

    for _ in 0..3 {
        budget.deposit();
    }
    assert!(budget.withdraw(), "four requests pay for a retry");
    assert!(!budget.withdraw());
    let dry = lines_with(&captured, "retry budget exhausted");
    assert_eq!(dry.len(), 2, "dry again: a warning again");
}

/// Retries up to `left` times, after an error or after a response below 10.
#[derive(Clone)]
struct UpTo {
    left: usize,
}

impl Policy<u32, u32, BoxError> for UpTo {
    type Future = std::future::Ready<()>;

    fn retry(&mut self, _: &mut u32, result: &mut Result<u32, BoxError>) -> Option<Self::Future> {
        let again = matches!(result, Err(_) | Ok(0..10));
        (again && self.left > 0).then(|| {
            self.left -= 1;
            std::future::ready(())
        })
    }

    fn clone_request(&mut self, request: &u32) -> Option<u32> {
        Some(*request)
    }
}

#[tokio::test]
async fn each_retry_the_policy_asks_for_reports_what_the_attempt_gave() {
    let (captured, _guard) = capture();
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&attempts);
    // An error, then 5 (retried as too small), then 50.
    let service = service_fn(move |_: u32| {
        let attempt = counted.fetch_add(1, Ordering::Relaxed);
        async move {
            match attempt {
                0 => Err::<u32, BoxError>("refused".into()),
                1 => Ok(5),
                _ => Ok(50),
            }
        }
    });

    let answer = Retry::new(UpTo { left: 5 }, service)
        .oneshot(1)
        .await
        .unwrap();
    assert_eq!(answer, 50);
    assert_eq!(attempts.load(Ordering::Relaxed), 3);
    assert_eq!(
        lines_with(&captured, "retry:"),
        [
            "DEBUG retry: the policy asked for another attempt after=\"error\"",
            "DEBUG retry: the policy asked for another attempt after=\"response\"",
        ]
    );
}
