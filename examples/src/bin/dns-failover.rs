//! A p2c client over HTTP backends found in DNS (SRV records, followed as
//! their TTL runs out), with outlier detection and slow start: it rides
//! through one backend failing and a new one joining. See
//! `donjon_examples::dns_demo`.

use donjon_examples::dns_demo::{Demo, SERVICE, run};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let demo = Demo::default();
    println!(
        "3 backends (a, b, c) listed in DNS under {SERVICE} (TTL {} s), {} requests per phase;\n\
         5 errors in a row eject a backend for 30 s; a backend added later warms up over {:?}\n",
        demo.ttl, demo.requests_per_phase, demo.slow_start
    );
    println!(
        "{:<12} {:>7} {:>7} {:>7} {:>7} {:>10} {:>8}",
        "phase", "to a", "to b", "to c", "to d", "successes", "ejected"
    );
    let phases = run(&demo).await?;
    for phase in &phases {
        println!(
            "{:<12} {:>6.0}% {:>6.0}% {:>6.0}% {:>6.0}% {:>5}/{:<4} {:>8}",
            phase.name,
            100.0 * phase.share(0),
            100.0 * phase.share(1),
            100.0 * phase.share(2),
            100.0 * phase.share(3),
            phase.successes,
            phase.requests,
            phase.ejected,
        );
    }
    if let Some(joined) = phases.last() {
        println!(
            "\nrequests to d in each tenth of the last phase: {:?}",
            joined.d_by_tenth
        );
    }
    Ok(())
}
