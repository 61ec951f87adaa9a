//! `donjon::limit::rate`: a window exhausted.

use std::time::Duration;

use donjon::limit::rate::{Rate, RateLimit};
use donjon_test::mock::Spawn;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_ok};

use crate::{Traced, capture, lines_with};

#[tokio::test(start_paused = true)]
async fn an_exhausted_window_reports_its_budget_and_end_once() {
    let (captured, _guard) = capture();
    let limited = RateLimit::new(Traced, Rate::new(2, Duration::from_secs(1)));
    let mut second = Spawn::new(limited.clone());
    let mut first = Spawn::new(limited);

    for _ in 0..2 {
        assert_ready_ok!(first.poll_ready::<()>());
        drop(first.call(()));
    }
    assert!(
        lines_with(&captured, "rate limit").is_empty(),
        "room left: no event"
    );
    advance(Duration::from_millis(250)).await;
    assert_pending!(first.poll_ready::<()>());
    assert_pending!(second.poll_ready::<()>());
    let expected = "DEBUG rate limit: the window is exhausted; callers wait for the next one \
                    budget=2 per=1s ends_in=Some(750ms)";
    assert_eq!(
        lines_with(&captured, "rate limit"),
        [expected],
        "one event per window"
    );

    advance(Duration::from_millis(750)).await;
    assert_ready_ok!(first.poll_ready::<()>(), "a new window");
    assert_eq!(lines_with(&captured, "rate limit").len(), 1);
}
