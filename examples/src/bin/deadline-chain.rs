//! A caller's deadline across two HTTP hops on loopback; see
//! `donjon_examples::deadline_chain`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use donjon_examples::deadline_chain::{Work, ask, hop_a, hop_b, serve};

/// Hop a's own share of the work.
const OWN_WORK: Duration = Duration::from_millis(100);

#[tokio::main]
async fn main() {
    let work = Arc::new(Work::default());
    let b = serve(hop_b(Arc::clone(&work))).await;
    let a = serve(hop_a(b, OWN_WORK)).await;

    println!("hop a works {OWN_WORK:?}, then asks hop b, whose work takes an hour");
    for grpc_timeout in ["300m", "50m"] {
        let sent = Instant::now();
        let (status, body) = ask(&a, Some(grpc_timeout)).await;
        println!(
            "grpc-timeout {grpc_timeout:>4}: {status} after {:>4} ms: {}",
            sent.elapsed().as_millis(),
            body.trim_end()
        );
    }
    println!(
        "hop b started {} requests' work, and dropped {} of them at the caller's deadline",
        work.started(),
        work.abandoned()
    );
}
