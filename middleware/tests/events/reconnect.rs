//! `donjon::reconnect`: attempts failing, succeeding and given up.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use donjon::reconnect::Reconnect;
use donjon::{BoxError, Service, ServiceExt, service_fn};

use crate::{Traced, capture, lines_with};

type Connecting = Pin<Box<dyn Future<Output = Result<Traced, BoxError>> + Send>>;

/// A connector whose first `failures` attempts are refused.
fn connector(
    failures: usize,
) -> impl Service<&'static str, Response = Traced, Error = BoxError, Future = Connecting> {
    let attempts = Arc::new(AtomicUsize::new(0));
    service_fn(move |_target: &'static str| -> Connecting {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if attempt < failures {
                Err("refused".into())
            } else {
                Ok(Traced)
            }
        })
    })
}

#[tokio::test(start_paused = true)]
async fn failed_attempts_then_a_connection_are_reported_with_the_failures() {
    let (captured, _guard) = capture();
    let mut service = Reconnect::new(connector(2), "db").with_max_attempts(3);

    let mut outcomes = Vec::new();
    for n in 0..3_u32 {
        let answer = ServiceExt::<u32>::ready(&mut service)
            .await
            .expect("ready")
            .call(n)
            .await;
        outcomes.push(answer.is_ok());
    }
    assert_eq!(outcomes, [false, false, true]);

    assert_eq!(
        lines_with(&captured, "reconnect:"),
        [
            "DEBUG reconnect: connection attempt failed failures=1 backoff=false",
            "DEBUG reconnect: connection attempt failed failures=2 backoff=false",
            "DEBUG reconnect: connected failures=2",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_last_attempt_allowed_failing_warns_of_giving_up() {
    let (captured, _guard) = capture();
    let mut service = Reconnect::new(connector(usize::MAX), "db").with_max_attempts(2);

    for n in 0..2_u32 {
        let answer = ServiceExt::<u32>::ready(&mut service)
            .await
            .expect("ready")
            .call(n)
            .await;
        assert!(answer.is_err());
    }
    assert!(
        ServiceExt::<u32>::ready(&mut service).await.is_err(),
        "given up"
    );

    assert_eq!(
        lines_with(&captured, "reconnect:"),
        [
            "DEBUG reconnect: connection attempt failed failures=1 backoff=false",
            " WARN reconnect: connection attempt failed; giving up failures=2",
        ]
    );
}
