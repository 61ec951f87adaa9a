//! What the demos over HTTP backends share: sending a phase of requests
//! through a client and counting what reached each backend.

use bytes::Bytes;
use donjon::{BoxError, Service, ServiceExt};
use http::{Request, Response};

use crate::backend::Backend;

/// What one phase of requests did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Requests that reached each backend, in the order given.
    pub received: Vec<u64>,
    /// Requests that got a 2xx.
    pub successes: usize,
}

/// Sends `requests` `GET /` through `client`, one at a time, calling
/// `after_each` with the number sent so far less one after each; counts the
/// requests that reached each of `backends` meanwhile.
pub async fn send<C>(
    client: &mut C,
    backends: &[Backend],
    requests: usize,
    mut after_each: impl FnMut(usize),
) -> Sent
where
    C: Service<Request<Bytes>, Response = Response<Bytes>, Error = BoxError>,
{
    let before: Vec<u64> = backends.iter().map(Backend::received).collect();
    let mut successes = 0;
    for sent in 0..requests {
        let request = Request::get("/")
            .body(Bytes::new())
            .expect("a valid request");
        let response = match client.ready().await {
            Ok(ready) => ready.call(request).await,
            Err(error) => Err(error),
        };
        if matches!(&response, Ok(response) if response.status().is_success()) {
            successes += 1;
        }
        after_each(sent);
    }
    let received = backends
        .iter()
        .zip(&before)
        .map(|(backend, before)| backend.received() - before)
        .collect();
    Sent {
        received,
        successes,
    }
}

/// The share of all the requests counted in `received` that index took.
pub fn share(received: &[u64], index: usize) -> f64 {
    let total: u64 = received.iter().sum();
    received[index] as f64 / total.max(1) as f64
}
