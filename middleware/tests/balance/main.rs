//! Integration tests of `donjon::balance`: the power-of-two-choices
//! `Balance` over mock endpoints (discovery, readiness and wake-ups, load-based
//! choice, failures, removal and replacement, misuse), a randomized stress
//! test, background readiness, and `MakeBalance` with its layer.
#![cfg(feature = "balance")]

#[path = "../support/mod.rs"]
mod support;

mod background;
mod choice;
mod failures;
mod health;
mod make;
mod membership;
mod outlier;
mod p2c;
mod readiness;
mod regressions;
mod slow_start;
mod stress;
mod traits;

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use donjon::balance::error::Discover as DiscoverError;
use donjon::balance::p2c::{Balance, MakeBalance, MakeBalanceLayer};
use donjon::discover::{Change, ServiceList};
use donjon::load::{Constant, Load};
use donjon::util::rng::{HasherRng, Rng};
use donjon::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use support::mock_dropped;

type Req = &'static str;
type Mock = mock::Mock<Req, Req>;
type Handle = mock::Handle<Req, Req>;
/// An endpoint: a mock with a fixed load.
type Endpoint = Constant<Mock, u32>;
type Changes<K, S> = Result<Change<K, S>, &'static str>;
type Channel<K, S> = UnboundedReceiverStream<Changes<K, S>>;
type Sender<K, S> = tokio::sync::mpsc::UnboundedSender<Changes<K, S>>;

/// A balancer fed by a channel of changes, under a mock task.
type ChannelBalance<K, S> = Spawn<Balance<Channel<K, S>, Req>>;

/// A balancer fed by a channel of changes, and the channel's sender.
fn channel_balance<K, S>() -> (ChannelBalance<K, S>, Sender<K, S>)
where
    K: Eq + std::hash::Hash,
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    (
        Spawn::new(Balance::new(UnboundedReceiverStream::new(rx))),
        tx,
    )
}

/// A reproducible rng for the balancer.
fn seeded_rng() -> HasherRng<BuildHasherDefault<DefaultHasher>> {
    HasherRng::with_hasher(BuildHasherDefault::default())
}

/// A mock endpoint with a load, and no calls allowed yet.
fn endpoint(load: u32) -> (Endpoint, Handle) {
    let (mock, mut handle) = mock::pair();
    handle.allow(0);
    (Constant::new(mock, load), handle)
}

/// A mock endpoint with a load, always ready (mocks allow any number of
/// calls until told otherwise).
fn open_endpoint(load: u32) -> (Endpoint, Handle) {
    let (mock, handle) = mock::pair();
    (Constant::new(mock, load), handle)
}

/// Asserts that the balancer is `Pending` and waits for a wake-up: polling
/// newly pending endpoints may wake the task once, but the next poll must
/// not, or the caller would spin.
fn assert_parked<S: Service<Req>>(service: &mut Spawn<S>)
where
    S::Error: fmt::Debug,
{
    assert_pending!(service.poll_ready());
    if service.is_woken() {
        assert_pending!(service.poll_ready());
        assert!(!service.is_woken(), "the balancer keeps waking its task");
    }
}

/// Sends a request through the ready balancer and answers it from whichever
/// handle receives it; returns the index of that handle.
fn route<S>(balance: &mut Spawn<S>, handles: &mut [&mut Handle]) -> usize
where
    S: Service<Req, Response = Req, Error = BoxError>,
{
    let mut response = task::spawn(balance.call("request"));
    let mut receivers = Vec::new();
    for (index, handle) in handles.iter_mut().enumerate() {
        if let Poll::Ready(Some((request, reply))) = handle.poll_request() {
            assert_eq!(request, "request");
            reply.send_response("response");
            receivers.push(index);
        }
    }
    assert_eq!(
        receivers.len(),
        1,
        "one endpoint gets the request: {receivers:?}"
    );
    assert_eq!(assert_ready_ok!(response.poll()), "response");
    receivers[0]
}

/// The test's side of a [`Switched`] endpoint.
#[derive(Clone, Debug, Default)]
struct Switch(Arc<Mutex<(bool, Option<std::task::Waker>)>>);

impl Switch {
    fn set(&self, on: bool) {
        let waker = {
            let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 = on;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A mock endpoint behind a switch: not ready while the switch is off, and
/// ready again when it is turned back on (a mock alone keeps the readiness
/// it reserved).
#[derive(Debug)]
struct Switched {
    switch: Switch,
    inner: Mock,
}

impl Load for Switched {
    type Metric = u32;

    fn load(&self) -> u32 {
        0
    }
}

impl Service<Req> for Switched {
    type Response = Req;
    type Error = BoxError;
    type Future = mock::future::ResponseFuture<Req>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        {
            let mut state = self.switch.0.lock().unwrap_or_else(PoisonError::into_inner);
            if !state.0 {
                state.1 = Some(cx.waker().clone());
                return Poll::Pending;
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        self.inner.call(request)
    }
}

fn switched_endpoint(on: bool) -> (Switched, Switch, Handle) {
    let (inner, handle) = mock::pair();
    let switch = Switch::default();
    switch.set(on);
    (
        Switched {
            switch: switch.clone(),
            inner,
        },
        switch,
        handle,
    )
}

/// An error with a type of its own.
#[derive(Debug, PartialEq, Eq)]
struct Teapot;

impl fmt::Display for Teapot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("i am a teapot")
    }
}

impl std::error::Error for Teapot {}

/// Checks that `service`, wrapping the mock of `handle`, passes through
/// the mock's readiness (`Pending`, wake-up, `Ready`), its responses, its
/// response errors and its readiness errors, unchanged.
async fn assert_passes_through<S>(service: &mut Spawn<S>, handle: &mut mock::Handle<Req, Req>)
where
    S: Service<Req, Response = Req, Error = BoxError>,
{
    use tokio_test::{assert_ready_err, assert_ready_ok, task};

    support::assert_readiness_follows_mock(service, handle);
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("teapot"));
    assert_request_eq!(handle, "teapot").send_error(Teapot);
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Teapot>(), Some(&Teapot));

    handle.send_error(Teapot);
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Teapot>(), Some(&Teapot));
}
