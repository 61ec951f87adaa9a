//! Integration tests of `donjon::circuit_breaker`: `CircuitBreaker`, its
//! layer, its handle and its errors, driven by a scripted inner service or a
//! mock, under tokio's paused clock.
#![cfg(feature = "circuit-breaker")]

#[path = "../support/mod.rs"]
mod support;

mod config;
mod contract;
mod handle;
mod open;
mod recovery;
mod trips;

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use donjon::circuit_breaker::error::CircuitOpen;
use donjon::circuit_breaker::{CircuitBreaker, CircuitBreakerLayer, Config};
use donjon::classify::Outcome;
use donjon::{BoxError, Service};
use donjon_test::mock::{self, Spawn};
use tokio_test::assert_ready;

use support::Boom;

/// The mock some tests wrap.
pub(crate) type Mock = mock::Mock<&'static str, &'static str>;
/// The handle of [`Mock`].
pub(crate) type MockHandle = mock::Handle<&'static str, &'static str>;
/// A breaker around [`Mock`].
pub(crate) type MockBreaker = CircuitBreaker<Mock>;

/// One millisecond: the smallest step of tokio's timer.
pub(crate) const MS: Duration = Duration::from_millis(1);

/// What [`Scripted`] does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Req {
    /// Succeeds at once.
    Ok,
    /// Fails at once.
    Fail,
    /// Fails at once with an error that [`ignoring`] classifies as ignored.
    Ignore,
    /// Succeeds after that many milliseconds.
    SlowOk(u64),
    /// Fails after that many milliseconds.
    SlowFail(u64),
}

/// Always ready; answers each request as the request says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scripted;

impl Service<Req> for Scripted {
    type Response = &'static str;
    type Error = Boom;
    type Future = Pin<Box<dyn Future<Output = Result<&'static str, Boom>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        Box::pin(async move {
            match request {
                Req::Ok => Ok("ok"),
                Req::Fail => Err(Boom("fail")),
                Req::Ignore => Err(Boom("ignore")),
                Req::SlowOk(millis) => {
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                    Ok("slow")
                }
                Req::SlowFail(millis) => {
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                    Err(Boom("slow fail"))
                }
            }
        })
    }
}

/// Counts `Boom("ignore")` as ignored, other errors as failures.
pub(crate) fn ignoring(result: &Result<&'static str, Boom>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(Boom("ignore")) => Outcome::Ignored,
        Err(_) => Outcome::Failure,
    }
}

/// A breaker configured by `config` around [`Scripted`].
pub(crate) fn scripted(config: Config) -> CircuitBreaker<Scripted> {
    CircuitBreaker::new(Scripted, config)
}

/// A breaker configured by `config` around a fresh mock, in a mock task.
pub(crate) fn mocked(config: Config) -> (Spawn<MockBreaker>, MockHandle) {
    mock::spawn_layer(CircuitBreakerLayer::new(config))
}

/// Waits for `service` to be ready, then sends it `request`.
pub(crate) async fn send<S, R>(service: &mut S, request: R) -> Result<S::Response, BoxError>
where
    S: Service<R, Error = BoxError>,
{
    poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}

/// Sends each of `requests` in turn, ignoring the results.
pub(crate) async fn send_all<S>(service: &mut S, requests: &[Req])
where
    S: Service<Req, Error = BoxError>,
{
    for request in requests {
        let _ = send(service, *request).await;
    }
}

/// Calls a ready `service` with `request`, answers it through `handle` with
/// `answer`, and returns what the caller gets.
pub(crate) async fn answer(
    service: &mut Spawn<MockBreaker>,
    handle: &mut MockHandle,
    request: &'static str,
    answer: Result<&'static str, Boom>,
) -> Result<&'static str, BoxError> {
    let response = service.call(request);
    let (_, reply) = assert_ready!(handle.poll_request()).expect("the request reached the mock");
    match answer {
        Ok(value) => reply.send_response(value),
        Err(error) => reply.send_error(error),
    }
    response.await
}

/// The `CircuitOpen` in `error`, which must be one.
pub(crate) fn circuit_open(error: &BoxError) -> &CircuitOpen {
    error
        .downcast_ref::<CircuitOpen>()
        .unwrap_or_else(|| panic!("expected CircuitOpen, got {error:?}"))
}
