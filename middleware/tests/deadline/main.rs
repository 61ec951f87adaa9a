//! Integration tests of `donjon::deadline`: `Deadline`, the timeouts'
//! `with_deadlines`, `Admit`, `WithinDeadline` for retries and hedges, and
//! the HTTP header layers, on the paused clock.
#![cfg(all(feature = "deadline", feature = "util"))]

#[path = "../support/mod.rs"]
mod support;

#[cfg(feature = "http")]
mod headers;
#[cfg(any(feature = "retry", feature = "hedge"))]
mod policy;

use std::time::Duration;

use donjon::deadline::error::DeadlineExceeded;
use donjon::deadline::{Admit, AdmitLayer, Deadline};
use donjon::{BoxError, Layer, Service, ServiceExt, service_fn};
use donjon_test::mock::{self, Spawn};
use tokio::time::advance;
use tokio_test::{assert_ready_err, assert_ready_ok, task};

use support::{Boom, assert_readiness_follows_mock, take_request};

/// A request carrying its deadline, and how long its work takes.
#[derive(Debug, Clone, Copy)]
struct Job {
    work: Duration,
    deadline: Option<Deadline>,
}

fn deadline_of(job: &Job) -> Option<Deadline> {
    job.deadline
}

/// How the tests read a job's deadline, as a type.
type DeadlineOf = fn(&Job) -> Option<Deadline>;

/// A service doing each job's work on the clock.
fn worker() -> impl Service<Job, Response = Duration, Error = BoxError, Future = impl Send> + Clone
{
    service_fn(|job: Job| async move {
        tokio::time::sleep(job.work).await;
        Ok::<_, BoxError>(job.work)
    })
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

// --- Deadline ---

#[tokio::test(start_paused = true)]
async fn a_deadline_counts_down_and_passes_at_its_instant() {
    let deadline = Deadline::after(ms(100));
    assert_eq!(deadline.remaining(), ms(100));
    assert!(!deadline.has_passed());
    advance(ms(60)).await;
    assert_eq!(deadline.remaining(), ms(40));
    advance(ms(40)).await;
    assert_eq!(deadline.remaining(), Duration::ZERO);
    assert!(deadline.has_passed(), "it passes at its very instant");
    advance(ms(40)).await;
    assert_eq!(deadline.remaining(), Duration::ZERO);
    assert_eq!(Deadline::at(deadline.instant()), deadline);
}

#[tokio::test(start_paused = true)]
async fn the_earliest_of_two_deadlines() {
    let soon = Deadline::after(ms(10));
    let late = Deadline::after(ms(20));
    assert_eq!(Deadline::earliest(Some(late), Some(soon)), Some(soon));
    assert_eq!(Deadline::earliest(None, Some(late)), Some(late));
    assert_eq!(Deadline::earliest(Some(soon), None), Some(soon));
    assert_eq!(Deadline::earliest(None, None), None);
}

#[tokio::test(start_paused = true)]
async fn a_deadline_too_far_for_the_clock_is_held_far_ahead() {
    let far = Deadline::after(Duration::MAX);
    assert!(far.remaining() > Duration::from_secs(86_400 * 365));
    assert!(!far.has_passed());
}

// --- timeouts ---

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_timeout_ends_a_call_at_the_requests_earlier_deadline() {
    use donjon::timeout::Timeout;
    use donjon::timeout::error::Elapsed;
    use tokio::time::Instant;

    let service = Timeout::new(worker(), ms(1_000)).with_deadlines(deadline_of);

    // The request's deadline comes first: it ends the call.
    let start = Instant::now();
    let job = Job {
        work: ms(5_000),
        deadline: Some(Deadline::after(ms(100))),
    };
    let error = service.clone().oneshot(job).await.unwrap_err();
    assert!(error.is::<Elapsed>(), "{error}");
    assert_eq!(start.elapsed(), ms(100));

    // The timeout comes first: it ends the call.
    let start = Instant::now();
    let job = Job {
        work: ms(5_000),
        deadline: Some(Deadline::after(ms(3_000))),
    };
    assert!(
        service
            .clone()
            .oneshot(job)
            .await
            .unwrap_err()
            .is::<Elapsed>()
    );
    assert_eq!(start.elapsed(), ms(1_000));

    // No deadline: the timeout alone; work in time is answered.
    let start = Instant::now();
    let job = Job {
        work: ms(5_000),
        deadline: None,
    };
    assert!(service.clone().oneshot(job).await.is_err());
    assert_eq!(start.elapsed(), ms(1_000));
    let job = Job {
        work: ms(50),
        deadline: Some(Deadline::after(ms(100))),
    };
    assert_eq!(service.oneshot(job).await.unwrap(), ms(50));
}

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_request_whose_deadline_has_passed_times_out_at_once() {
    use donjon::timeout::TimeoutLayer;
    use tokio::time::Instant;

    let service = TimeoutLayer::new(ms(1_000))
        .with_deadlines(deadline_of)
        .layer(worker());
    let passed = Deadline::after(ms(10));
    advance(ms(20)).await;
    let start = Instant::now();
    let error = service
        .oneshot(Job {
            work: ms(5),
            deadline: Some(passed),
        })
        .await
        .unwrap_err();
    assert!(error.is::<donjon::timeout::error::Elapsed>());
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_total_timeout_ends_a_call_at_the_requests_earlier_deadline() {
    use donjon::timeout::{TotalTimeout, TotalTimeoutLayer};
    use tokio::time::Instant;

    let service = TotalTimeout::new(worker(), ms(1_000)).with_deadlines(deadline_of);
    let start = Instant::now();
    let job = Job {
        work: ms(5_000),
        deadline: Some(Deadline::after(ms(250))),
    };
    assert!(service.oneshot(job).await.is_err());
    assert_eq!(start.elapsed(), ms(250));

    let layered = TotalTimeoutLayer::new(ms(300))
        .with_deadlines(deadline_of)
        .layer(worker());
    let start = Instant::now();
    let job = Job {
        work: ms(5_000),
        deadline: Some(Deadline::after(ms(900))),
    };
    assert!(layered.oneshot(job).await.is_err());
    assert_eq!(start.elapsed(), ms(300), "its own timeout came first");
}

// --- Admit ---

type Mock = mock::Mock<Job, &'static str>;

fn admit(
    min_remaining: Duration,
) -> (
    Spawn<Admit<Mock, DeadlineOf>>,
    mock::Handle<Job, &'static str>,
) {
    let (mock, handle) = mock::pair();
    let service = Admit::new(mock, deadline_of as DeadlineOf).min_remaining(min_remaining);
    (Spawn::new(service), handle)
}

#[tokio::test(start_paused = true)]
async fn admit_refuses_a_request_whose_deadline_has_passed_before_any_work() {
    let (mut service, mut handle) = admit(Duration::ZERO);
    handle.allow(10);
    let passed = Deadline::after(ms(10));
    advance(ms(10)).await;

    assert_ready_ok!(service.poll_ready());
    let error = service
        .call(Job {
            work: ms(1),
            deadline: Some(passed),
        })
        .await
        .unwrap_err();
    let refused = error
        .downcast_ref::<DeadlineExceeded>()
        .expect("DeadlineExceeded");
    assert_eq!(refused.remaining(), Duration::ZERO);
    assert_eq!(
        error.to_string(),
        "deadline exceeded: the request's deadline had passed, refused before any work"
    );
    assert!(
        handle.poll_request().is_pending(),
        "the inner service never saw it"
    );

    // One with time left, and one without a deadline, go through.
    for deadline in [Some(Deadline::after(ms(1))), None] {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call(Job {
            work: ms(1),
            deadline,
        }));
        take_request(&mut handle).1.send_response("done");
        assert_eq!(assert_ready_ok!(response.poll()), "done");
    }
}

#[tokio::test(start_paused = true)]
async fn admit_refuses_a_request_with_less_time_left_than_its_work_needs() {
    let (mut service, mut handle) = admit(ms(50));
    handle.allow(10);
    assert_ready_ok!(service.poll_ready());
    let error = service
        .call(Job {
            work: ms(1),
            deadline: Some(Deadline::after(ms(49))),
        })
        .await
        .unwrap_err();
    let refused = error
        .downcast_ref::<DeadlineExceeded>()
        .expect("DeadlineExceeded");
    assert_eq!((refused.remaining(), refused.needed()), (ms(49), ms(50)));
    assert_eq!(
        error.to_string(),
        "deadline exceeded: the request had 49ms left, less than the 50ms its work needs; \
         refused before any work"
    );
    assert!(handle.poll_request().is_pending());

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(Job {
        work: ms(1),
        deadline: Some(Deadline::after(ms(50))),
    }));
    take_request(&mut handle).1.send_response("done");
    assert_eq!(
        assert_ready_ok!(response.poll()),
        "done",
        "exactly enough: admitted"
    );
}

#[tokio::test]
async fn admit_passes_readiness_and_errors_through() {
    let (mut service, mut handle) = admit(Duration::ZERO);
    assert_readiness_follows_mock::<Job, _, _, _>(&mut service, &mut handle);
    let mut response = task::spawn(service.call(Job {
        work: ms(1),
        deadline: None,
    }));
    take_request(&mut handle).1.send_error(Boom("inner"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("inner")));

    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
    drop(handle);
    assert!(assert_ready_err!(service.poll_ready()).is::<mock::error::Closed>());
}

#[tokio::test(start_paused = true)]
async fn admit_layer_and_a_dropped_refusal_hold_nothing() {
    let service = AdmitLayer::new(deadline_of)
        .min_remaining(ms(5))
        .layer(worker());
    let response = service.clone().oneshot(Job {
        work: ms(1),
        deadline: Some(Deadline::after(ms(1))),
    });
    drop(response);
    let answered = service
        .oneshot(Job {
            work: ms(1),
            deadline: Some(Deadline::after(ms(100))),
        })
        .await
        .unwrap();
    assert_eq!(answered, ms(1));
}

#[cfg(feature = "metrics")]
#[tokio::test(start_paused = true)]
async fn a_refusal_counts_as_a_timeout_in_the_metrics() {
    let passed = Some(Deadline::after(Duration::ZERO));
    let error = Admit::new(worker(), deadline_of)
        .oneshot(Job {
            work: ms(1),
            deadline: passed,
        })
        .await
        .unwrap_err();
    assert_eq!(donjon::metrics::error_kind(&error), "timeout");
}

#[test]
fn its_types_are_send_sync_and_unpin() {
    support::assert_send::<Deadline>();
    support::assert_sync::<Deadline>();
    support::assert_send::<Admit<Mock, DeadlineOf>>();
    support::assert_sync::<Admit<Mock, DeadlineOf>>();
    support::assert_send::<DeadlineExceeded>();
    support::assert_sync::<DeadlineExceeded>();
}
