//! Circuit breakers, one per endpoint, in not-ready mode under a p2c
//! balancer: traffic avoids a backend while it fails and returns to it once
//! it recovers. See `donjon_examples::breaker_demo`.

use donjon_examples::breaker_demo::{Demo, run};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let demo = Demo::default();
    println!(
        "3 backends (a, b, c), {} requests per phase; a breaker opens after {} failures in a row and probes after {:?}\n",
        demo.requests_per_phase, demo.consecutive_failures, demo.open_for
    );
    println!(
        "{:<12} {:>8} {:>8} {:>8} {:>10}   c's breaker",
        "phase", "to a", "to b", "to c", "successes"
    );
    for phase in run(&demo).await? {
        println!(
            "{:<12} {:>7.0}% {:>7.0}% {:>7.0}% {:>6}/{:<4}   {}",
            phase.name,
            100.0 * phase.share(0),
            100.0 * phase.share(1),
            100.0 * phase.share(2),
            phase.successes,
            phase.requests,
            phase.c_breaker,
        );
    }
    Ok(())
}
