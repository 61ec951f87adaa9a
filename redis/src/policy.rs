use std::fmt;

/// What a limiter does when Redis is too slow or cannot be reached: a call
/// that takes longer than the limiter's call timeout, or fails (connection
/// refused or reset, an error reply).
///
/// The policy applies to each decision Redis could not make, and only to
/// those: the next decision tries Redis again, so a limiter goes back to
/// Redis's decisions as soon as Redis answers. Every decision made by the
/// policy emits a `DEBUG` `tracing` event; the first failure after Redis
/// answered emits a `WARN` event naming the policy and the error, and the
/// first answer after failures an `INFO` event.
///
/// | policy | [`RedisStore`](crate::RedisStore) | [`GlobalConcurrencyLimit`](crate::GlobalConcurrencyLimit) |
/// |---|---|---|
/// | [`FailOpen`](Self::FailOpen) | the request is allowed | the request goes through, holding no lease |
/// | [`FailClosed`](Self::FailClosed) | a [`StoreError`](crate::error::StoreError) | the call fails with a [`StoreError`](crate::error::StoreError) |
/// | [`Local`](Self::Local) | an in-process limit of the quota divided among `replicas` | an in-process limit of `max / replicas` requests at once |
///
/// The default is [`FailOpen`](Self::FailOpen): an outage of Redis lifts the
/// limits rather than stopping traffic. Choose
/// [`Local`](Self::Local) to keep an approximate limit through an outage,
/// or [`FailClosed`](Self::FailClosed) when exceeding the limit is worse
/// than refusing requests.
///
/// # Examples
///
/// ```
/// use donjon_redis::OnFailure;
///
/// // Ten replicas: each takes a tenth of the limit while Redis is away.
/// let policy = OnFailure::Local { replicas: 10 };
/// assert_eq!(policy.to_string(), "local limit (1/10 of the fleet's)");
/// assert_eq!(OnFailure::default(), OnFailure::FailOpen);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OnFailure {
    /// Let the request through, as if the limit allowed it.
    #[default]
    FailOpen,
    /// Refuse the request with a [`StoreError`](crate::error::StoreError)
    /// saying why Redis could not decide.
    FailClosed,
    /// Decide in this process, with a limit of the fleet's limit divided by
    /// `replicas`, the number of processes sharing it: each process then
    /// lets through about its share.
    ///
    /// A rate limit divides its [`Quota`](donjon::limit::gcra::Quota) with
    /// [`Quota::divided_among`](donjon::limit::gcra::Quota::divided_among)
    /// and keeps one in-process GCRA limit per key (in a
    /// [`MemoryStore`](donjon::limit::keyed::MemoryStore)); a concurrency
    /// limit of `max` lets `max / replicas` (at least one) requests through
    /// at once in this process. The in-process limits start afresh at the
    /// first failure and know nothing of what Redis admitted before.
    Local {
        /// The number of processes sharing the limit; at least 1 (checked
        /// when the limiter is built).
        replicas: u64,
    },
}

impl fmt::Display for OnFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnFailure::FailOpen => f.write_str("fail open"),
            OnFailure::FailClosed => f.write_str("fail closed"),
            OnFailure::Local { replicas } => {
                write!(f, "local limit (1/{replicas} of the fleet's)")
            }
        }
    }
}
