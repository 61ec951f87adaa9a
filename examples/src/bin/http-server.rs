//! An HTTP server whose handler sits behind donjon's load shedding, rate
//! limit, concurrency limit and timeout; see `donjon_examples::http_server`.
//!
//! Try `curl -i http://127.0.0.1:3000/` and `curl -i http://127.0.0.1:3000/hold`
//! (which times out after 2 s with a 504).

use donjon_examples::http_server::{Limits, spawn};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    let server = spawn(listener, Limits::default())?;
    println!("listening on http://{}", server.addr);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
