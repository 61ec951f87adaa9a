//! The tower stack's retry policy: [`RetryPolicy`](super::RetryPolicy)'s
//! rules, written against the `tower` crate's traits and types.

use super::policy::retry_policy;

retry_policy!(
    /// Retries an idempotent request that failed (an error, or a 5xx answer)
    /// up to `max_retries` times, when tower's shared [`TpsBudget`] allows, each
    /// after tower's exponential backoff: the same rules as the donjon stack's
    /// [`RetryPolicy`](crate::http_client::RetryPolicy), as a [`tower::retry::Policy`].
    ///
    /// tower's `Retry` clones the policy for each request, so the per-request
    /// state (retries left, the backoff, whether the request has paid into the
    /// budget) lives in the clone, and the budget and the retry counter are
    /// shared through `Arc`s.
    TowerRetryPolicy in tower_retry_policy,
    tower
);
