//! The `dns-failover` example on tokio's paused clock, over real HTTP and
//! real DNS on loopback: a p2c client over backends found in DNS avoids a
//! backend that starts failing (outlier detection), and takes in a backend
//! added to DNS once the records' TTL runs out, ramping its share up (slow
//! start).

use donjon_examples::dns_demo::{Demo, run};

#[tokio::test(start_paused = true)]
async fn the_client_rides_through_a_backend_failing_and_a_new_one_joining() {
    let demo = Demo::default();
    let phases = run(&demo).await.expect("the backends start");
    let [healthy, failing, joined] = phases.as_slice() else {
        panic!("three phases: {phases:?}");
    };

    // All healthy: the three found in DNS share the traffic; d is not
    // listed yet.
    for backend in 0..3 {
        assert!(
            healthy.share(backend) > 0.2,
            "{backend} takes its share: {healthy:?}"
        );
    }
    assert_eq!(healthy.received[3], 0);
    assert_eq!(healthy.successes, demo.requests_per_phase);
    assert_eq!(healthy.ejected, 0);

    // c answers 500 at once: five in a row eject it for 30 s, so it gets
    // those five (a fast failure would otherwise look like a fast backend).
    assert_eq!(failing.received[2], 5, "{failing:?}");
    assert_eq!(failing.successes, demo.requests_per_phase - 5);
    assert_eq!(failing.ejected, 1);

    // d is added to DNS: found once the TTL (1 s) runs out, then warmed
    // over 2 s: its share in the first tenth is nothing, and grows.
    assert_eq!(joined.received[2], 0, "c is still ejected: {joined:?}");
    assert_eq!(joined.successes, demo.requests_per_phase);
    assert!(joined.share(3) > 0.1, "d takes traffic: {joined:?}");
    assert_eq!(
        joined.d_by_tenth[0], 0,
        "not before the TTL runs out: {joined:?}"
    );
    let first_half: u64 = joined.d_by_tenth[..5].iter().sum();
    let second_half: u64 = joined.d_by_tenth[5..].iter().sum();
    assert!(second_half > first_half, "its share grows: {joined:?}");
}
