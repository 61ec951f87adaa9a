//! `donjon::fallback`: a call answered by the fallback.

use donjon::fallback::{Failure, Fallback};
use donjon::{BoxError, ServiceExt, service_fn};

use crate::{capture, lines_with};

#[tokio::test(start_paused = true)]
async fn a_call_answered_by_the_fallback_reports_the_error() {
    let (captured, _guard) = capture();
    let primary = service_fn(|fail: bool| async move {
        if fail {
            Err::<u32, BoxError>("not found".into())
        } else {
            Ok(1)
        }
    });
    let backup = service_fn(|_: Failure<bool, u32>| async { Ok::<_, BoxError>(2) });
    let service = Fallback::new(primary, backup);

    assert_eq!(service.clone().oneshot(false).await.unwrap(), 1);
    assert!(
        lines_with(&captured, "fallback").is_empty(),
        "answered: no event"
    );
    assert_eq!(service.oneshot(true).await.unwrap(), 2);
    assert_eq!(
        lines_with(&captured, "fallback"),
        ["DEBUG fallback: the call failed; answering from the fallback error=not found"]
    );
}
