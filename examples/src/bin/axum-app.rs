//! An axum application with donjon layers next to tower-http layers; see
//! `donjon_examples::axum_app`.
//!
//! Try `curl -i http://127.0.0.1:3001/` (note the `x-served-by` header),
//! `curl -i http://127.0.0.1:3001/hold` (a 504 after 2 s), then
//! `curl http://127.0.0.1:3001/metrics` (donjon's counts of both).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use donjon_examples::axum_app::{Hold, app, prometheus};

#[tokio::main]
async fn main() -> io::Result<()> {
    // Installed before the app is built: donjon takes its metrics' handles
    // from the recorder installed when the stack is made.
    let metrics = prometheus().install_recorder().map_err(io::Error::other)?;
    // Without the exporter's own listener, nothing else drains the
    // histograms between scrapes.
    tokio::spawn({
        let metrics = metrics.clone();
        async move {
            let mut upkeep = tokio::time::interval(Duration::from_secs(5));
            loop {
                upkeep.tick().await;
                metrics.run_upkeep();
            }
        }
    });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app(Arc::new(Hold::new()), 64, Duration::from_secs(2), metrics),
    )
    .await
}
