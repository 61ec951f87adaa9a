//! The tower stack's retry policy: [`RetryPolicy`](super::RetryPolicy)'s
//! rules, written against the `tower` crate's traits and types.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use donjon::BoxError;
use donjon::classify::Outcome;
use http::{Request, Response};
use tokio::time::Sleep;
use tower::retry::Policy;
use tower::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::retry::budget::{Budget, TpsBudget};

use super::policy::copy_if_idempotent;
use super::server_errors_fail;

/// Retries an idempotent request that failed (an error, or a 5xx answer)
/// up to `max_retries` times, when tower's shared [`TpsBudget`] allows, each
/// after tower's exponential backoff: the same rules as the donjon stack's
/// [`RetryPolicy`](super::RetryPolicy), as a [`tower::retry::Policy`].
///
/// tower's `Retry` clones the policy for each request, so the per-request
/// state (retries left, the backoff, whether the request has paid into the
/// budget) lives in the clone, and the budget and the retry counter are
/// shared through `Arc`s.
#[derive(Debug, Clone)]
pub struct TowerRetryPolicy {
    budget: Arc<TpsBudget>,
    backoffs: ExponentialBackoffMaker,
    backoff: Option<ExponentialBackoff>,
    retries_left: u32,
    deposited: bool,
    retries: Arc<AtomicU64>,
}

impl TowerRetryPolicy {
    /// A policy drawing on `budget`, retrying each request at most
    /// `max_retries` times with delays from `backoffs`.
    pub fn new(budget: TpsBudget, backoffs: ExponentialBackoffMaker, max_retries: u32) -> Self {
        TowerRetryPolicy {
            budget: Arc::new(budget),
            backoffs,
            backoff: None,
            retries_left: max_retries,
            deposited: false,
            retries: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The counter of retries made, shared by every clone.
    pub fn retries(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.retries)
    }
}

impl Policy<Request<Bytes>, Response<Bytes>, BoxError> for TowerRetryPolicy {
    type Future = Sleep;

    fn retry(
        &mut self,
        _request: &mut Request<Bytes>,
        result: &mut Result<Response<Bytes>, BoxError>,
    ) -> Option<Sleep> {
        // Once per request: this clone of the policy belongs to it.
        if !self.deposited {
            self.budget.deposit();
            self.deposited = true;
        }
        let failed = server_errors_fail(result) == Outcome::Failure;
        if !failed || self.retries_left == 0 || !self.budget.withdraw() {
            return None;
        }
        self.retries_left -= 1;
        self.retries.fetch_add(1, Ordering::Relaxed);
        let backoffs = &mut self.backoffs;
        Some(
            self.backoff
                .get_or_insert_with(|| backoffs.make_backoff())
                .next_backoff(),
        )
    }

    fn clone_request(&mut self, request: &Request<Bytes>) -> Option<Request<Bytes>> {
        copy_if_idempotent(request)
    }
}
