//! `donjon::limit::adaptive`: the service, its layer and handle against
//! mock inner services, and each algorithm, both through the service (the
//! limit's trajectory under scripted latencies on tokio's paused clock) and
//! alone (scripted samples).

mod aimd;
mod gradient2;
mod props;
mod service;
mod vegas;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use donjon::limit::adaptive::{
    AdaptiveConcurrencyLimit, AdaptiveConcurrencyLimitLayer, Algorithm, Handle, Sample,
    future::ResponseFuture,
};
use donjon_test::mock::{self, SendResponse, Spawn};
use tokio_test::assert_ready_ok;

// The mock's handle, named apart from the limit's `Handle`.
use crate::Handle as MockHandle;
use crate::Mock;
use crate::support::Boom;

/// The limit under test, around a [`Mock`].
pub(crate) type Limited<A> = AdaptiveConcurrencyLimit<Mock, A>;
/// Its response future.
pub(crate) type Response<A> = ResponseFuture<
    donjon_test::mock::future::ResponseFuture<&'static str>,
    A,
    donjon::classify::ErrorsAreFailures,
>;

/// `n` milliseconds.
pub(crate) const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The limit `layer` makes, around a fresh mock, with its handle.
pub(crate) fn new_service<A: Algorithm + Clone>(
    layer: AdaptiveConcurrencyLimitLayer<A>,
) -> (Spawn<Limited<A>>, MockHandle, Handle) {
    let (service, handle) = mock::spawn_layer(layer);
    let limits = service.get_ref().handle();
    (service, handle, limits)
}

/// Sends one request, lets `latency` pass on tokio's (paused) clock,
/// answers it (with an error if `fail`), waits for the response, and
/// returns the limit then.
pub(crate) async fn round_trip<A: Algorithm>(
    service: &mut Spawn<Limited<A>>,
    handle: &mut MockHandle,
    limits: &Handle,
    latency: Duration,
    fail: bool,
) -> usize {
    assert_ready_ok!(service.poll_ready(), "a slot is free for the next call");
    let response = service.call("request");
    let (_, send) = handle.next_request().await.expect("the mock is open");
    tokio::time::advance(latency).await;
    if fail {
        send.send_error(Boom("scripted"));
    } else {
        send.send_response("response");
    }
    let result = response.await;
    assert_eq!(result.is_err(), fail);
    limits.limit()
}

/// `n` calls left unanswered, holding `n` slots so that the calls made
/// next count them in flight. Drop both halves to free the slots: dropped
/// response futures report nothing to the algorithm.
pub(crate) struct Background<A> {
    responses: Vec<Response<A>>,
    senders: Vec<SendResponse<&'static str>>,
}

impl<A: Algorithm> Background<A> {
    pub(crate) async fn hold(
        service: &mut Spawn<Limited<A>>,
        handle: &mut MockHandle,
        n: usize,
    ) -> Self {
        let mut responses = Vec::new();
        let mut senders = Vec::new();
        for _ in 0..n {
            assert_ready_ok!(service.poll_ready());
            responses.push(service.call("background"));
            senders.push(handle.next_request().await.expect("the mock is open").1);
        }
        Background { responses, senders }
    }

    /// Drops `n` of the calls, unfinished.
    pub(crate) fn drop_some(&mut self, n: usize) {
        for _ in 0..n {
            self.responses.pop();
            self.senders.pop();
        }
    }
}

/// An algorithm that records its samples and returns scripted limits (the
/// limit in force when the script is empty). Clones share the record and
/// the script, so a test keeps a clone to look at what the limiter's copy
/// saw.
#[derive(Clone, Debug, Default)]
pub(crate) struct Script {
    state: Arc<Mutex<ScriptState>>,
}

#[derive(Debug, Default)]
struct ScriptState {
    samples: Vec<Sample>,
    next: VecDeque<usize>,
}

impl Script {
    pub(crate) fn new() -> Self {
        Script::default()
    }

    /// Makes the next update return `limit`.
    pub(crate) fn then(&self, limit: usize) {
        self.state.lock().unwrap().next.push_back(limit);
    }

    /// The samples seen so far.
    pub(crate) fn samples(&self) -> Vec<Sample> {
        self.state.lock().unwrap().samples.clone()
    }
}

impl Algorithm for Script {
    fn update(&mut self, sample: Sample) -> usize {
        let mut state = self.state.lock().unwrap();
        state.samples.push(sample);
        state.next.pop_front().unwrap_or(sample.limit())
    }
}

/// A layer whose limit `script` moves, starting at `initial`, between 1 and
/// 100.
pub(crate) fn scripted(script: &Script, initial: usize) -> AdaptiveConcurrencyLimitLayer<Script> {
    AdaptiveConcurrencyLimitLayer::new(script.clone())
        .with_initial_limit(initial)
        .with_max_limit(100)
}

#[test]
fn public_types_are_send_sync_and_unpin() {
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn clone<T: Clone>() {}

    send_sync_unpin::<Limited<donjon::limit::adaptive::Aimd>>();
    send_sync_unpin::<Response<donjon::limit::adaptive::Vegas>>();
    send_sync_unpin::<AdaptiveConcurrencyLimitLayer<donjon::limit::adaptive::Gradient2>>();
    send_sync_unpin::<Handle>();
    send_sync_unpin::<Sample>();
    clone::<Limited<Script>>();
    clone::<AdaptiveConcurrencyLimitLayer<Script>>();
    clone::<Handle>();
}
