//! A caller's deadline across two HTTP hops on loopback; see
//! `donjon_examples::deadline_chain`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use donjon_examples::deadline_chain::{Work, hop_a, hop_b, serve};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Hop a's own share of the work.
const OWN_WORK: Duration = Duration::from_millis(100);

#[tokio::main]
async fn main() {
    let work = Arc::new(Work::default());
    let b = serve(hop_b(Arc::clone(&work))).await;
    let a = serve(hop_a(b, OWN_WORK)).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();

    println!("hop a works {OWN_WORK:?}, then asks hop b, whose work takes an hour");
    for grpc_timeout in ["300m", "50m"] {
        let request = http::Request::get(format!("{a}/"))
            .header("grpc-timeout", grpc_timeout)
            .body(Empty::new())
            .expect("a valid request");
        let sent = Instant::now();
        let answer = client.request(request).await.expect("hop a answers");
        let status = answer.status();
        let body = answer
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        println!(
            "grpc-timeout {grpc_timeout:>4}: {status} after {:>4} ms: {}",
            sent.elapsed().as_millis(),
            String::from_utf8_lossy(&body).trim_end()
        );
    }
    println!(
        "hop b started {} requests' work, and dropped {} of them at the caller's deadline",
        work.started(),
        work.abandoned()
    );
}
