//! Integration tests of `donjon::limit::keyed`: `KeyedRateLimit` and
//! `SharedRateLimit` over a `MemoryStore` and over test stores that fail or
//! answer later, the `MemoryStore`'s eviction and cap, property tests
//! against a reference GCRA, and a stress test on real threads.
#![cfg(feature = "limit")]

#[path = "../support/mod.rs"]
mod support;

mod memory;
mod service;
mod shared;

use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use donjon::limit::gcra::Quota;
use donjon::limit::keyed::error::{InvalidKey, RateLimited};
use donjon::limit::keyed::{
    Answer, Decision, KeyedRateLimit, MemoryStore, RateStore, SharedRateLimit,
};
use donjon::{BoxError, Service};
use donjon_test::mock::{self, Spawn};
use tokio::sync::oneshot;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::take_request;

/// A request is its own key.
type Req = &'static str;
/// The mock the limits wrap.
type Mock = mock::Mock<Req, &'static str>;
/// The handle of [`Mock`].
type Handle = mock::Handle<Req, &'static str>;
/// How a [`KeyedRateLimit`] finds a request's key.
type KeyFn = fn(&Req) -> &'static str;
/// A keyed limit around the mock, over the store `St`.
type Keyed<St> = KeyedRateLimit<Mock, St, KeyFn>;
/// A shared limit around the mock, over the store `St`.
type Shared<St> = SharedRateLimit<Mock, St, &'static str>;

/// The smallest step of tokio's timer.
const MS: Duration = Duration::from_millis(1);
/// The emission interval of [`quota`]: 10 requests per second.
const INTERVAL: Duration = Duration::from_millis(100);

fn key_of(request: &Req) -> &'static str {
    request
}

/// 10 requests per second (one every [`INTERVAL`]), with `burst`.
fn quota(burst: u64) -> Quota {
    Quota::per_second(10)
        .and_then(|quota| quota.with_burst(burst))
        .expect("a valid quota")
}

/// A keyed limit of `quota` per key in `store`, around a fresh mock.
fn keyed<St: Clone>(store: &St, quota: Quota) -> (Spawn<Keyed<St>>, Handle) {
    mock::spawn_with(|mock| KeyedRateLimit::new(mock, store.clone(), key_of as KeyFn, quota))
}

/// A shared limit of `quota` on `key` of `store`, around a fresh mock.
fn shared<St: RateStore<&'static str>>(
    store: St,
    key: &'static str,
    quota: Quota,
) -> (Spawn<Shared<St>>, Handle) {
    let (mock, handle) = mock::pair();
    let service = SharedRateLimit::new(mock, store, key, quota).expect("the store takes the key");
    (Spawn::new(service), handle)
}

/// Makes `service` ready, sends `request`, and checks that it reaches the
/// mock and that the mock's answer comes back.
fn passes<S>(service: &mut Spawn<S>, handle: &mut Handle, request: Req)
where
    S: Service<Req, Response = &'static str, Error = BoxError>,
{
    assert_ready_ok!(service.poll_ready(), "ready for {request}");
    let mut response = task::spawn(service.call(request));
    let (received, answer) = take_request(handle);
    assert_eq!(received, request);
    answer.send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

/// Makes `service` ready, sends `request`, and checks that it fails at
/// once with [`RateLimited`] without reaching the mock; returns its
/// `retry_after`.
fn refused<S>(service: &mut Spawn<S>, handle: &mut Handle, request: Req) -> Duration
where
    S: Service<Req, Response = &'static str, Error = BoxError>,
{
    assert_ready_ok!(service.poll_ready(), "ready for {request}");
    let mut response = task::spawn(service.call(request));
    let error = assert_ready_err!(response.poll(), "{request} fails at once");
    assert_pending!(handle.poll_request(), "{request} never reached the mock");
    retry_after(&error)
}

/// The `retry_after` of a [`RateLimited`] error.
fn retry_after(error: &BoxError) -> Duration {
    match error.downcast_ref::<RateLimited>() {
        Some(limited) => limited.retry_after(),
        None => panic!("expected RateLimited, got {error}"),
    }
}

/// The error of the test stores.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StoreDown(&'static str);

impl fmt::Display for StoreDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store down: {}", self.0)
    }
}

impl Error for StoreDown {}

/// The `StoreDown` inside `error`.
fn store_down(error: &BoxError) -> &StoreDown {
    match error.downcast_ref::<StoreDown>() {
        Some(down) => down,
        None => panic!("expected StoreDown, got {error}"),
    }
}

/// A store that fails every decision: at once, or through a future.
#[derive(Clone, Copy, Debug)]
enum Failing {
    Now,
    Later,
}

impl<K: ?Sized> RateStore<K> for Failing {
    type Error = StoreDown;
    type Future = Ready<Result<Decision, StoreDown>>;

    fn acquire(&self, _: &K, _: Quota) -> Answer<Self::Future, StoreDown> {
        match self {
            Failing::Now => Answer::Now(Err(StoreDown("now"))),
            Failing::Later => Answer::Later(ready(Err(StoreDown("later")))),
        }
    }
}

/// A store's verdict.
type Verdict = Result<Decision, StoreDown>;

/// A store that answers every request later, when the test gives the
/// verdict: each `acquire` is a question, answered in order.
#[derive(Clone, Debug, Default)]
struct Deferred {
    questions: Arc<Mutex<VecDeque<oneshot::Sender<Verdict>>>>,
}

impl Deferred {
    /// How many questions wait for their verdict.
    fn waiting(&self) -> usize {
        self.questions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Answers the oldest question; returns whether someone still waited
    /// for the answer.
    fn answer(&self, verdict: Verdict) -> bool {
        let question = self
            .questions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .expect("a question to answer");
        question.send(verdict).is_ok()
    }
}

impl<K: ?Sized> RateStore<K> for Deferred {
    type Error = StoreDown;
    type Future = Deferral;

    fn acquire(&self, _: &K, _: Quota) -> Answer<Deferral, StoreDown> {
        let (tx, rx) = oneshot::channel();
        self.questions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(tx);
        Answer::Later(Deferral(rx))
    }
}

/// The future of a [`Deferred`] store's verdict.
struct Deferral(oneshot::Receiver<Verdict>);

impl Future for Deferral {
    type Output = Verdict;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Verdict> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|verdict| verdict.unwrap_or(Err(StoreDown("question dropped"))))
    }
}

/// A memory store that refuses empty keys and keys longer than 8 bytes.
#[derive(Clone, Debug, Default)]
struct Picky(MemoryStore<&'static str>);

impl Picky {
    fn check(key: &str) -> Result<(), InvalidKey> {
        match key.len() {
            0 => Err(InvalidKey::empty()),
            len @ 9.. => Err(InvalidKey::too_long(len, 8)),
            _ => Ok(()),
        }
    }
}

impl RateStore<&'static str> for Picky {
    type Error = InvalidKey;
    type Future = Ready<Result<Decision, InvalidKey>>;

    fn acquire(&self, key: &&'static str, quota: Quota) -> Answer<Self::Future, InvalidKey> {
        Answer::Now(Picky::check(key).map(|()| self.0.decide(key, quota)))
    }

    fn check_key(&self, key: &&'static str) -> Result<(), InvalidKey> {
        Picky::check(key)
    }
}
