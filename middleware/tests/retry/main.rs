//! Integration tests of `donjon::retry`: `Retry`, `RetryLayer`, `Policy`,
//! the public behaviour of `backoff` and `budget`, and
//! `ServiceBuilder::retry`, driven by mock inner services and tokio's paused
//! clock.
#![cfg(feature = "retry")]

#[path = "../support/mod.rs"]
mod support;

mod backoff;
mod budget;
mod cancellation;
mod construction;
mod errors;
mod in_flight;
mod policy;
mod props;
mod readiness;
#[cfg(feature = "hedge")]
mod storm;
mod upstream;

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon::retry::backoff::Backoff;
use donjon::retry::{Policy, Retry, RetryLayer};
use donjon_test::mock::{self, Handle, Mock, Spawn};

use support::Tally;

/// The request type of the mock-based tests.
type Req = &'static str;
/// The response type of the mock-based tests.
type Res = &'static str;

/// A `Retry` with policy `P` around a mock, polled by its own mock task.
type Service<P> = Spawn<Retry<P, Mock<Req, Res>>>;

/// A `Retry` around a fresh mock, built with `RetryLayer`, and the mock's
/// handle.
fn new_service<P: Clone>(policy: P) -> (Service<P>, Handle<Req, Res>) {
    mock::spawn_layer(RetryLayer::new(policy))
}

/// More retries than any test uses: a finite number, so that a response
/// future that fails to stop retrying fails its test instead of hanging it.
const PLENTY: usize = 100;

/// What the clones of a policy were asked, counted across all clones.
#[derive(Clone, Debug, Default)]
struct Seen {
    retries: Tally,
    clones: Tally,
}

impl Seen {
    /// How many times `Policy::retry` was called.
    fn retries(&self) -> usize {
        self.retries.get()
    }

    /// How many times `Policy::clone_request` was called.
    fn clones(&self) -> usize {
        self.clones.get()
    }
}

/// Retries errors, up to `retries_left` times per request, after the delays
/// of `backoff`; accepts every success. Counts its calls in `seen`.
#[derive(Clone, Debug)]
struct RetryErrors<B = Now> {
    retries_left: usize,
    backoff: B,
    seen: Seen,
}

impl RetryErrors {
    /// Retries errors `retries` times per request, at once.
    fn new(retries: usize) -> Self {
        RetryErrors::with_backoff(retries, Now)
    }
}

impl<B> RetryErrors<B> {
    /// Retries errors `retries` times per request, after the delays of
    /// `backoff`.
    fn with_backoff(retries: usize, backoff: B) -> Self {
        RetryErrors {
            retries_left: retries,
            backoff,
            seen: Seen::default(),
        }
    }

    /// A view on what this policy and its clones are asked.
    fn seen(&self) -> Seen {
        self.seen.clone()
    }
}

impl<Rq: Clone, Rs, E, B: Backoff> Policy<Rq, Rs, E> for RetryErrors<B> {
    type Future = B::Future;

    fn retry(&mut self, _: &mut Rq, result: &mut Result<Rs, E>) -> Option<Self::Future> {
        self.seen.retries.bump();
        if result.is_ok() || self.retries_left == 0 {
            return None;
        }
        self.retries_left -= 1;
        Some(self.backoff.next_backoff())
    }

    fn clone_request(&mut self, req: &Rq) -> Option<Rq> {
        self.seen.clones.bump();
        Some(req.clone())
    }
}

/// A backoff of no delay at all.
#[derive(Clone, Copy, Debug)]
struct Now;

impl Backoff for Now {
    type Future = Ready<()>;

    fn next_backoff(&mut self) -> Ready<()> {
        ready(())
    }
}

/// The delays of `B`, counting how many were made and how many dropped.
#[derive(Clone, Debug)]
struct Flagged<B> {
    inner: B,
    made: Tally,
    dropped: Tally,
}

impl<B> Flagged<B> {
    fn new(inner: B) -> Self {
        Flagged {
            inner,
            made: Tally::new(),
            dropped: Tally::new(),
        }
    }
}

impl<B: Backoff> Backoff for Flagged<B> {
    type Future = FlaggedDelay<B::Future>;

    fn next_backoff(&mut self) -> Self::Future {
        self.made.bump();
        FlaggedDelay {
            inner: Box::pin(self.inner.next_backoff()),
            dropped: self.dropped.clone(),
        }
    }
}

/// A delay of [`Flagged`]: completes with its inner delay, counted when
/// dropped.
#[derive(Debug)]
struct FlaggedDelay<F> {
    inner: Pin<Box<F>>,
    dropped: Tally,
}

impl<F: Future<Output = ()>> Future for FlaggedDelay<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.as_mut().poll(cx)
    }
}

impl<F> Drop for FlaggedDelay<F> {
    fn drop(&mut self) {
        self.dropped.bump();
    }
}
