//! `donjon::limit::adaptive`: the limit moving.

use std::future::{Ready, poll_fn, ready};
use std::task::{Context, Poll};

use donjon::limit::adaptive::{AdaptiveConcurrencyLimitLayer, Aimd};
use donjon::{Layer, Service};

use crate::{capture, lines_with};

/// Always ready; fails the requests that say so.
#[derive(Clone, Copy, Debug)]
struct Scripted;

impl Service<bool> for Scripted {
    type Response = ();
    type Error = String;
    type Future = Ready<Result<(), String>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), String>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, fail: bool) -> Self::Future {
        ready(if fail { Err("fail".into()) } else { Ok(()) })
    }
}

#[tokio::test(start_paused = true)]
async fn each_move_of_the_limit_reports_the_sample_that_moved_it() {
    let (captured, _guard) = capture();
    let mut service = AdaptiveConcurrencyLimitLayer::new(Aimd::new().with_backoff_ratio(0.5))
        .with_initial_limit(4)
        .with_max_limit(5)
        .layer(Scripted);

    for fail in [false, false, true] {
        poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
        let _ = service.call(fail).await;
    }

    assert_eq!(
        lines_with(&captured, "limit changed"),
        [
            "DEBUG adaptive concurrency limit changed limit=5 previous=4 latency=0ns \
             in_flight=1 failure=false",
            "DEBUG adaptive concurrency limit changed limit=2 previous=5 latency=0ns \
             in_flight=1 failure=true",
        ],
        "at the maximum, a success moves nothing"
    );
}
