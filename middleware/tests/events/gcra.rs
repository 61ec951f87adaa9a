//! `donjon::limit::gcra`: a caller made to wait.

use std::time::Duration;

use donjon::limit::gcra::{Gcra, Quota};
use donjon_test::mock::Spawn;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_ok};

use crate::{Traced, capture, lines_with};

#[tokio::test(start_paused = true)]
async fn a_caller_made_to_wait_reports_the_quota_and_when_it_is_admitted() {
    let (captured, _guard) = capture();
    // 10 per second, one at a time: a request every 100 ms.
    let quota = Quota::per_second(10).unwrap().with_burst(1).unwrap();
    let mut limited = Spawn::new(Gcra::new(Traced, quota));

    assert_ready_ok!(limited.poll_ready::<()>());
    drop(limited.call(()));
    assert!(
        lines_with(&captured, "gcra").is_empty(),
        "admitted: no event"
    );
    advance(Duration::from_millis(40)).await;
    assert_pending!(limited.poll_ready::<()>());
    assert_pending!(limited.poll_ready::<()>());
    let expected = "DEBUG gcra: the limit is reached; a caller waits \
                    burst=1 num=10 per=1s retry_in=60ms";
    assert_eq!(lines_with(&captured, "gcra"), [expected], "once per wait");

    advance(Duration::from_millis(60)).await;
    assert_ready_ok!(limited.poll_ready::<()>());
    drop(limited.call(()));
    assert_pending!(limited.poll_ready::<()>());
    assert_eq!(lines_with(&captured, "gcra").len(), 2, "a new wait");
}
