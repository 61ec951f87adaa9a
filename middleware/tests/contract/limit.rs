//! The limits: concurrency (global, try, adaptive), rate, GCRA and keyed rate limits.

use donjon::limit::gcra::Quota;
use donjon::limit::{ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer, RateLimitLayer};

use super::*;

#[tokio::test(start_paused = true)]
async fn concurrency_limit_keeps_the_contract() {
    Contract::new(ConcurrencyLimitLayer::new(1), hello)
        .check_cloneable::<Req, Res>()
        .await;
    Contract::new(ConcurrencyLimitLayer::new(2), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn concurrency_limit_with_a_queue_discipline_keeps_the_contract() {
    use donjon::limit::QueueDiscipline;
    use std::time::Duration;

    let codel = QueueDiscipline::fifo()
        .codel(Duration::from_millis(5), Duration::from_millis(100))
        .newest_first_after(Duration::from_millis(10));
    for max in [1, 2] {
        Contract::new(ConcurrencyLimitLayer::new(max).with_queue(codel), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
    Contract::new(GlobalConcurrencyLimitLayer::new(1).with_queue(codel), hello)
        .check_cloneable::<Req, Res>()
        .await;
    Contract::new(
        donjon::limit::AdaptiveConcurrencyLimitLayer::new(donjon::limit::adaptive::Aimd::new())
            .with_min_limit(1)
            .with_max_limit(1)
            .with_queue(codel),
        hello,
    )
    .check_cloneable::<Req, Res>()
    .await;
}

#[tokio::test(start_paused = true)]
async fn try_concurrency_limit_keeps_the_contract() {
    use donjon::limit::TryConcurrencyLimitLayer;

    // A limit the checks never fill: every call gets a permit.
    Contract::new(TryConcurrencyLimitLayer::new(100), hello)
        .check_cloneable::<Req, Res>()
        .await;

    // A limit of one, filled by the check that keeps a request in
    // flight: the next poll_ready is ready, to refuse the call at once
    // (documented), where a queueing limit would be `Pending`. That is
    // the only rule it breaks.
    let report = Contract::new(TryConcurrencyLimitLayer::new(1), hello)
        .report_cloneable::<Req, Res>()
        .await;
    assert_eq!(
        report.broken(),
        [donjon_test::contract::Rule::PendingPropagates],
        "{report}"
    );
}

#[tokio::test(start_paused = true)]
async fn global_concurrency_limit_keeps_the_contract() {
    Contract::new(GlobalConcurrencyLimitLayer::new(1), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn adaptive_concurrency_limit_keeps_the_contract_with_each_algorithm() {
    use donjon::limit::AdaptiveConcurrencyLimitLayer;
    use donjon::limit::adaptive::{Aimd, Gradient2, Vegas};

    // A limit of one, so that a request in flight makes the next wait.
    Contract::new(
        AdaptiveConcurrencyLimitLayer::new(Aimd::new())
            .with_min_limit(1)
            .with_max_limit(1),
        hello,
    )
    .check_cloneable::<Req, Res>()
    .await;
    Contract::new(
        AdaptiveConcurrencyLimitLayer::new(Vegas::new()).with_initial_limit(2),
        hello,
    )
    .check_cloneable::<Req, Res>()
    .await;
    Contract::new(AdaptiveConcurrencyLimitLayer::new(Gradient2::new()), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

#[tokio::test(start_paused = true)]
async fn rate_limit_keeps_the_contract() {
    // More requests per window than the checks send: drops do not give
    // the budget back, and should not.
    Contract::new(RateLimitLayer::new(100, SECOND), hello)
        .check_cloneable::<Req, Res>()
        .await;
}

/// A burst larger than all the requests the checks send: the paused
/// clock never refills a limit, so a smaller one would run dry.
fn generous() -> Quota {
    Quota::per_second(1000).expect("a valid quota")
}

/// One request, then one per second: the checks never see a second.
fn tight() -> Quota {
    Quota::per_second(1)
        .and_then(|quota| quota.with_burst(1))
        .expect("a valid quota")
}

const CALLED_COUNTS: &str = "documented: only an admission never called is given back \
                             (# Cancellation); a request that reached the inner service \
                             counts against the quota whether its response future is dropped \
                             or not, and the paused clock never refills it";

mod gcra {
    use donjon::limit::gcra::GcraLayer;
    use donjon_test::contract::Rule;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn gcra_keeps_the_contract() {
        Contract::new(GcraLayer::new(generous()), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn gcra_with_a_burst_of_one_keeps_the_contract_but_counts_called_requests() {
        // Each service the layer makes has a limit of its own.
        Contract::new(GcraLayer::new(tight()), hello)
            .skip(Rule::DropReleases, CALLED_COUNTS)
            .check_cloneable::<Req, Res>()
            .await;

        // The exception is needed, and is the only one.
        let report = Contract::new(GcraLayer::new(tight()), hello)
            .report_cloneable::<Req, Res>()
            .await;
        assert_eq!(report.broken(), [Rule::DropReleases], "{report}");
    }
}

mod keyed {
    use std::convert::Infallible;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use donjon::limit::keyed::{
        Answer, Decision, KeyedRateLimitLayer, MemoryStore, RateStore, SharedRateLimit,
        SharedRateLimitLayer,
    };
    use donjon_test::contract::Rule;

    use super::*;

    /// Every request has this key.
    fn everyone(_: &Req) -> &'static str {
        "everyone"
    }

    /// Decides as a `MemoryStore` does, but answers through a future
    /// that is `Pending` once (waking its task) before it resolves, as a
    /// remote store's would.
    #[derive(Clone, Debug, Default)]
    struct AnswersLater(MemoryStore<&'static str>);

    impl RateStore<&'static str> for AnswersLater {
        type Error = Infallible;
        type Future = Later;

        fn acquire(&self, key: &&'static str, quota: Quota) -> Answer<Later, Infallible> {
            Answer::Later(Later {
                decision: self.0.decide(key, quota),
                yielded: false,
            })
        }
    }

    /// The future of [`AnswersLater`].
    struct Later {
        decision: Decision,
        yielded: bool,
    }

    impl Future for Later {
        type Output = Result<Decision, Infallible>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            if self.yielded {
                return Poll::Ready(Ok(self.decision));
            }
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn keyed_rate_limit_keeps_the_contract() {
        // Every service the layer makes shares the store, and the key.
        let layer = KeyedRateLimitLayer::new(MemoryStore::new(), everyone, generous());
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn keyed_rate_limit_with_a_store_that_answers_later_keeps_the_contract() {
        // The ready inner service moves into the response future, and
        // the service keeps a fresh clone, to be made ready again.
        let layer = KeyedRateLimitLayer::new(AnswersLater::default(), everyone, generous());
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn shared_rate_limit_keeps_the_contract_with_a_store_answering_now_or_later() {
        let layer = SharedRateLimitLayer::new(MemoryStore::new(), "api", generous())
            .expect("a memory store takes any key");
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
        let layer = SharedRateLimitLayer::new(AnswersLater::default(), "api", generous())
            .expect("the store takes any key");
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_tight_shared_rate_limit_keeps_the_contract_but_counts_called_requests() {
        // A store for each service, so that each has a limit of its own.
        let layer = layer_fn(|mock: Mock<Req, Res>| {
            SharedRateLimit::new(mock, MemoryStore::new(), "api", tight())
                .expect("a memory store takes any key")
        });
        Contract::new(layer, hello)
            .skip(Rule::DropReleases, CALLED_COUNTS)
            .check_cloneable::<Req, Res>()
            .await;

        // The exception is needed, and is the only one.
        let report = Contract::new(layer, hello)
            .report_cloneable::<Req, Res>()
            .await;
        assert_eq!(report.broken(), [Rule::DropReleases], "{report}");
    }
}
