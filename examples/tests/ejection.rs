//! The outlier ejection the HTTP client puts on each endpoint, driven step
//! by step with a mock endpoint and tokio's paused clock.

use std::time::Duration;

use donjon_examples::http_client::{Ejection, EjectionConfig};
use donjon_test::mock::{self, Handle, Spawn};
use http::{Response, StatusCode};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_ok};

type Endpoint = Ejection<mock::Mock<(), Response<()>>>;

fn answer(status: u16) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::from_u16(status).expect("a valid status");
    response
}

fn ejection() -> (Spawn<Endpoint>, Handle<(), Response<()>>) {
    let (service, handle) = mock::pair();
    let config = EjectionConfig {
        consecutive_failures: 3,
        base_duration: Duration::from_millis(500),
        max_duration: Duration::from_secs(2),
    };
    (Spawn::new(Ejection::new(service, config)), handle)
}

/// One request through `service`, answered with `status` (0: an error).
async fn attempt(
    service: &mut Spawn<Endpoint>,
    handle: &mut Handle<(), Response<()>>,
    status: u16,
) {
    assert_ready_ok!(service.poll_ready(), "ready for the attempt");
    let response = service.call(());
    let (_, reply) = handle.next_request().await.expect("the request arrives");
    if status == 0 {
        reply.send_error("connection refused");
        assert!(response.await.is_err());
    } else {
        reply.send_response(answer(status));
        assert_eq!(response.await.expect("an answer").status().as_u16(), status);
    }
}

#[tokio::test(start_paused = true)]
async fn failures_in_a_row_eject_until_the_ejection_ends() {
    let (mut service, mut handle) = ejection();
    attempt(&mut service, &mut handle, 500).await;
    attempt(&mut service, &mut handle, 0).await;
    assert_ready_ok!(service.poll_ready(), "two failures are not enough");
    attempt(&mut service, &mut handle, 503).await;

    assert_pending!(service.poll_ready(), "ejected after three");
    advance(Duration::from_millis(499)).await;
    assert_pending!(service.poll_ready());
    advance(Duration::from_millis(1)).await;
    assert!(
        service.is_woken(),
        "the end of the ejection wakes the caller"
    );
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_ejects_again_for_twice_as_long_up_to_the_maximum() {
    let (mut service, mut handle) = ejection();
    for _ in 0..3 {
        attempt(&mut service, &mut handle, 500).await;
    }
    assert_pending!(service.poll_ready());
    advance(Duration::from_millis(500)).await;

    for length in [1_000, 2_000, 2_000] {
        // The probe fails: one failure is enough now.
        attempt(&mut service, &mut handle, 500).await;
        assert_pending!(service.poll_ready());
        advance(Duration::from_millis(length - 1)).await;
        assert_pending!(service.poll_ready(), "still ejected before {length} ms");
        advance(Duration::from_millis(1)).await;
        assert_ready_ok!(service.poll_ready(), "back after {length} ms");
    }
}

#[tokio::test(start_paused = true)]
async fn a_success_clears_the_record() {
    let (mut service, mut handle) = ejection();
    for _ in 0..3 {
        attempt(&mut service, &mut handle, 500).await;
    }
    advance(Duration::from_millis(500)).await;
    assert_ready_ok!(service.poll_ready());
    attempt(&mut service, &mut handle, 200).await;

    // Two failures after a success do not eject, and the next ejection
    // lasts the base duration again.
    attempt(&mut service, &mut handle, 500).await;
    attempt(&mut service, &mut handle, 500).await;
    assert_ready_ok!(service.poll_ready());
    attempt(&mut service, &mut handle, 500).await;
    assert_pending!(service.poll_ready());
    advance(Duration::from_millis(500)).await;
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_attempt_counts_neither_way_and_4xx_is_not_a_failure() {
    let (mut service, mut handle) = ejection();
    attempt(&mut service, &mut handle, 500).await;
    attempt(&mut service, &mut handle, 500).await;
    assert_ready_ok!(service.poll_ready());
    drop(service.call(()));
    let _ = handle.next_request().await.expect("the request arrives");
    attempt(&mut service, &mut handle, 404).await;
    attempt(&mut service, &mut handle, 500).await;
    attempt(&mut service, &mut handle, 500).await;
    assert_ready_ok!(service.poll_ready(), "the 404 broke the run of failures");
}

#[tokio::test(start_paused = true)]
async fn the_inner_service_readiness_passes_through() {
    let (mut service, mut handle) = ejection();
    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    handle.send_error("gone");
    drop(service.call(()));
    assert!(service.poll_ready().is_ready());
}

#[test]
#[should_panic(expected = "EjectionConfig::consecutive_failures must be at least 1")]
fn zero_failures_is_refused() {
    let (service, _handle) = mock::pair::<(), Response<()>>();
    let config = EjectionConfig {
        consecutive_failures: 0,
        ..EjectionConfig::default()
    };
    let _ = Ejection::new(service, config);
}
