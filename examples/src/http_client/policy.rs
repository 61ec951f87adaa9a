//! The retry policy: retry errors and 5xx answers of idempotent requests,
//! within a budget, after a backoff.

use bytes::Bytes;
use http::{Method, Request};

/// Writes the retry policy `$name`, in a module `$module` of its own,
/// against `$lib`'s retry traits and types (`donjon` or `tower`, whose APIs
/// are the same): one set of rules for both stacks of the flagship.
macro_rules! retry_policy {
    ($(#[$doc:meta])* $name:ident in $module:ident, $lib:ident) => {
        mod $module {
            use std::sync::Arc;
            use std::sync::atomic::{AtomicU64, Ordering};

            use bytes::Bytes;
            use donjon::BoxError;
            use donjon::classify::Outcome;
            use http::{Request, Response};
            use tokio::time::Sleep;
            use $lib::retry::Policy;
            use $lib::retry::backoff::{
                Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff,
            };
            use $lib::retry::budget::{Budget, TpsBudget};

            use super::super::policy::copy_if_idempotent;
            use super::super::server_errors_fail;

            $(#[$doc])*
            #[derive(Debug, Clone)]
            pub struct $name {
                budget: Arc<TpsBudget>,
                backoffs: ExponentialBackoffMaker,
                backoff: Option<ExponentialBackoff>,
                retries_left: u32,
                deposited: bool,
                retries: Arc<AtomicU64>,
            }

            impl $name {
                /// A policy drawing on `budget`, retrying each request at most
                /// `max_retries` times with delays from `backoffs`.
                pub fn new(budget: TpsBudget, backoffs: ExponentialBackoffMaker, max_retries: u32) -> Self {
                    $name {
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

            impl Policy<Request<Bytes>, Response<Bytes>, BoxError> for $name {
                type Future = Sleep;

                fn retry(
                    &mut self,
                    _request: &mut Request<Bytes>,
                    result: &mut Result<Response<Bytes>, BoxError>,
                ) -> Option<Sleep> {
                    // `retry` runs on the request's own clone of the policy, so this
                    // pays in once per request, not per attempt.
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
        }
        pub use self::$module::$name;
    };
}
pub(super) use retry_policy;

retry_policy!(
    /// Retries an idempotent request that failed (an error, or a 5xx answer)
    /// up to `max_retries` times, when the shared budget allows, each after an
    /// exponential backoff.
    ///
    /// Every request deposits into the budget once; every retry withdraws. With
    /// a budget of 20%, a backend that fails every request receives at most
    /// 1.2 times the traffic, not `1 + max_retries` times: retries do not turn
    /// an outage into a retry storm.
    RetryPolicy in donjon_policy,
    donjon
);

/// A copy of `request` to retry, if its method is idempotent: what both
/// retry policies (donjon's and tower's) keep for a retry.
pub(super) fn copy_if_idempotent(request: &Request<Bytes>) -> Option<Request<Bytes>> {
    let idempotent = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    );
    if !idempotent {
        return None;
    }
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    Some(copy)
}
