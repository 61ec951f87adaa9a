//! `donjon::retry::budget`: the budget running dry.

use std::time::Duration;

use donjon::retry::budget::{Budget, TpsBudget};

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
