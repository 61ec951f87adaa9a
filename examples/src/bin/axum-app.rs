//! An axum application with donjon layers next to tower-http layers; see
//! `donjon_examples::axum_app`.
//!
//! Try `curl -i http://127.0.0.1:3001/` (note the `x-served-by` header) and
//! `curl -i http://127.0.0.1:3001/hold` (a 504 after 2 s).

use std::sync::Arc;
use std::time::Duration;

use donjon_examples::axum_app::{Hold, app};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app(Arc::new(Hold::new()), 64, Duration::from_secs(2)),
    )
    .await
}
