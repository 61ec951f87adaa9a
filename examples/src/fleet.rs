//! A fleet of three axum servers that share one rate limit per API key
//! through Redis, and answer `429 Too Many Requests` with a `Retry-After`
//! header past it.
//!
//! Each replica puts donjon's
//! [`KeyedRateLimit`](donjon::limit::keyed::KeyedRateLimit) (through its layer) in
//! front of its routes, keyed on the request's `x-api-key` header. Given a
//! [`RedisStore`](donjon_redis::RedisStore), the replicas share each key's
//! limit: a client spreading its requests over the fleet gets the quota
//! once, not once per replica. Given each its own
//! [`MemoryStore`](donjon::limit::keyed::MemoryStore), they would let the
//! quota through once per replica, which is what [`compare`] shows.
//!
//! Run it with `cargo run -p donjon-examples --bin fleet`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use donjon::limit::gcra::Quota;
use donjon::limit::keyed::error::RateLimited;
use donjon::limit::keyed::{KeyedRateLimitLayer, RateStore};
use donjon::{BoxError, ServiceBuilder};
use donjon_redis::error::StoreError;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower_http::set_header::SetResponseHeaderLayer;

/// The header a client names itself with; requests without it share the
/// key `anonymous`.
pub const API_KEY: &str = "x-api-key";

/// The header each replica marks its responses with.
pub const REPLICA: &str = "x-replica";

/// The key of a request: its `x-api-key` header.
pub fn api_key(request: &Request<Body>) -> String {
    request
        .headers()
        .get(API_KEY)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .unwrap_or("anonymous")
        .to_owned()
}

/// Turns the limit's errors into responses: `429` with `Retry-After` (in
/// whole seconds, rounded up) past the limit, `503` when the store could
/// not decide.
async fn handle_error(error: BoxError) -> Response {
    if let Some(limited) = error.downcast_ref::<RateLimited>() {
        let retry_after = HeaderValue::from(limited.retry_after_secs());
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, retry_after)],
            "rate limit reached\n",
        )
            .into_response()
    } else if error.is::<StoreError>() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the rate limit store is unavailable\n",
        )
            .into_response()
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
    }
}

/// One replica: `/` answers `hello from <name>`, within `quota` per API key
/// as kept in `store`.
pub fn replica<St>(name: &'static str, store: St, quota: Quota) -> Router
where
    St: RateStore<String> + Clone + Send + Sync + 'static,
    St::Future: Send + 'static,
{
    let limit = ServiceBuilder::new()
        .tower_layer(HandleErrorLayer::new(handle_error))
        .layer(KeyedRateLimitLayer::new(
            store,
            api_key as fn(&Request<Body>) -> String,
            quota,
        ))
        .into_tower_layer();
    Router::new()
        .route(
            "/",
            get(move || async move { format!("hello from {name}\n") }),
        )
        .layer(limit)
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(REPLICA),
            HeaderValue::from_static(name),
        ))
}

/// The replicas' names.
pub const REPLICAS: [&str; 3] = ["a", "b", "c"];

/// Serves the three replicas on loopback ports, each with the store
/// `store_for` gives it; returns their addresses. They run until the
/// runtime stops.
pub async fn start<St>(
    mut store_for: impl FnMut(usize) -> St,
    quota: Quota,
) -> std::io::Result<Vec<SocketAddr>>
where
    St: RateStore<String> + Clone + Send + Sync + 'static,
    St::Future: Send + 'static,
{
    let mut addrs = Vec::new();
    for (index, name) in REPLICAS.into_iter().enumerate() {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        addrs.push(listener.local_addr()?);
        let app = replica(name, store_for(index), quota);
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("replica {name} stopped: {error}");
            }
        });
    }
    Ok(addrs)
}

/// What one response said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The API key the request carried.
    pub key: String,
    /// The replica it was sent to (index into [`REPLICAS`]).
    pub replica: usize,
    /// The response's status.
    pub status: StatusCode,
    /// The `Retry-After` header, in seconds, if any.
    pub retry_after: Option<u64>,
    /// The `x-replica` header, if any.
    pub served_by: Option<String>,
}

/// Sends `per_key` requests for each of `keys`, all at once, spread round
/// robin over the replicas at `addrs`; returns every answer.
///
/// # Panics
///
/// If a replica cannot be reached.
pub async fn burst(addrs: &[SocketAddr], keys: &[&str], per_key: usize) -> Vec<Answer> {
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut requests = JoinSet::new();
    let mut sent = 0usize;
    for _ in 0..per_key {
        for key in keys {
            let replica = sent % addrs.len();
            sent += 1;
            let client = client.clone();
            let uri = format!("http://{}/", addrs[replica]);
            let key = (*key).to_owned();
            requests.spawn(async move {
                let request = Request::get(uri)
                    .header(API_KEY, &key)
                    .body(Empty::new())
                    .expect("a valid request");
                let response = client.request(request).await.expect("the replica answers");
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned)
                };
                let answer = Answer {
                    key,
                    replica,
                    status: response.status(),
                    retry_after: header(RETRY_AFTER.as_str()).and_then(|value| value.parse().ok()),
                    served_by: header(REPLICA),
                };
                // Read the body, so the connection can be reused.
                let _ = response.into_body().collect().await;
                answer
            });
        }
    }
    requests.join_all().await
}

/// Counts of a burst, per key and per replica.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests answered `200`, per key (in the order given).
    pub admitted: Vec<usize>,
    /// Requests answered `429`, per key.
    pub limited: Vec<usize>,
    /// Requests answered `200` by each replica.
    pub admitted_by_replica: [usize; 3],
    /// Requests answered `429` by each replica.
    pub limited_by_replica: [usize; 3],
    /// Any other answer.
    pub other: usize,
}

/// Tallies `answers` for `keys`.
pub fn count(answers: &[Answer], keys: &[&str]) -> Counts {
    let mut counts = Counts {
        admitted: vec![0; keys.len()],
        limited: vec![0; keys.len()],
        ..Counts::default()
    };
    for answer in answers {
        let key = keys.iter().position(|key| *key == answer.key);
        match (answer.status, key) {
            (StatusCode::OK, Some(key)) => {
                counts.admitted[key] += 1;
                counts.admitted_by_replica[answer.replica] += 1;
            }
            (StatusCode::TOO_MANY_REQUESTS, Some(key)) => {
                counts.limited[key] += 1;
                counts.limited_by_replica[answer.replica] += 1;
            }
            _ => counts.other += 1,
        }
    }
    counts
}

/// The quota [`compare`] uses: 10 requests per key per minute (one every
/// 6 s), with a burst of 5.
pub fn demo_quota() -> Quota {
    Quota::new(10, Duration::from_secs(60))
        .and_then(|quota| quota.with_burst(5))
        .expect("a valid quota")
}

/// Runs the same burst against a fleet whose replicas each keep their own
/// limits, and against a fleet sharing them through Redis at `redis_url`;
/// returns the two tallies.
///
/// # Errors
///
/// If Redis cannot be reached or a port cannot be bound.
pub async fn compare(
    redis_url: &str,
    keys: &[&str],
    per_key: usize,
) -> Result<(Counts, Counts), BoxError> {
    use donjon::limit::keyed::MemoryStore;
    use donjon_redis::{OnFailure, RedisStore};

    let quota = demo_quota();
    let alone = start(|_| MemoryStore::<String>::new(), quota).await?;
    let alone = count(&burst(&alone, keys, per_key).await, keys);

    let connection = donjon_redis::connect(redis_url).await?;
    let store = RedisStore::builder(connection)
        // A prefix of this run's own, so that runs against one Redis do not
        // see each other's limits.
        .with_prefix(format!("donjon:fleet-demo:{}:", std::process::id()))
        // Redis answers in well under a millisecond on loopback; a second
        // keeps a busy machine from looking like a Redis outage.
        .with_call_timeout(Duration::from_secs(1))
        .with_on_failure(OnFailure::Local { replicas: 3 })
        .build()?;
    let shared = start(|_| store.clone(), quota).await?;
    let shared = count(&burst(&shared, keys, per_key).await, keys);
    Ok((alone, shared))
}
