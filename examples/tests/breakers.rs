//! The `breakers` example on tokio's paused clock, over real HTTP on
//! loopback: per-endpoint circuit breakers in not-ready mode make p2c avoid
//! a failing backend, and bring it back once it recovers.

use donjon::circuit_breaker::State;
use donjon_examples::breaker_demo::{Demo, run};

#[tokio::test(start_paused = true)]
async fn traffic_avoids_the_failing_backend_and_returns_after_it_recovers() {
    let demo = Demo {
        requests_per_phase: 300,
        ..Demo::default()
    };
    let phases = run(&demo).await.expect("the backends start");
    let [healthy, failing, recovered] = phases.as_slice() else {
        panic!("three phases: {phases:?}");
    };

    assert!(
        healthy.share(2) > 0.2,
        "c takes its share while healthy: {healthy:?}"
    );
    assert_eq!(healthy.successes, 300);
    assert_eq!(healthy.c_breaker, State::Closed);

    // While c fails, its breaker opens after 3 failures and lets one probe
    // through per open period: c sees a handful of requests, not a third.
    assert!(failing.share(2) < 0.05, "c is avoided: {failing:?}");
    assert!(
        failing.received[2] >= 3,
        "the failures that opened it, and probes"
    );
    assert_ne!(failing.c_breaker, State::Closed, "{failing:?}");
    assert!(
        failing.successes >= 300 - 20,
        "only the failures and the failed probes are lost: {failing:?}"
    );

    assert!(
        recovered.share(2) > 0.2,
        "c is back in rotation: {recovered:?}"
    );
    assert_eq!(recovered.c_breaker, State::Closed);
    assert_eq!(recovered.successes, 300);
}
