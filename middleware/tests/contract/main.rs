//! Every donjon middleware that wraps a service, run through the readiness
//! contract kit (`donjon_test::contract`) around donjon-test mocks.
//!
//! Each test names the middleware; a rule it legitimately does not keep is
//! skipped with the documented reason. The kit never advances the paused
//! clock, so no timeout or rate window ends during the checks.
#![cfg(feature = "util")]

use donjon::BoxError;
use donjon::layer::layer_fn;
use donjon_test::contract::Contract;
use donjon_test::mock::Mock;

/// The mock's request type.
type Req = &'static str;
/// The mock's response type.
type Res = &'static str;

/// The request every check sends.
fn hello() -> Req {
    "hello"
}

/// Longer than the checks take: no timer fires.
#[cfg(any(
    feature = "circuit-breaker",
    feature = "hedge",
    feature = "limit",
    feature = "load-shed",
    feature = "timeout"
))]
const SECOND: std::time::Duration = std::time::Duration::from_secs(1);

mod util {
    use donjon::ServiceBuilder;
    use donjon::layer::util::Identity;
    use donjon::util::{
        AndThenLayer, BoxCloneService, BoxCloneSyncService, BoxService, MapErrLayer,
        MapFutureLayer, MapRequestLayer, MapResponseLayer, MapResultLayer, Optional, ThenLayer,
        UnsyncBoxService, option_layer,
    };
    use donjon_test::mock::future::ResponseFuture;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn identity_keeps_the_contract() {
        Contract::new(Identity::new(), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn map_request_keeps_the_contract() {
        let layer = MapRequestLayer::new(|request: Req| request.len());
        Contract::new(layer, hello)
            .check_cloneable::<usize, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn map_response_keeps_the_contract() {
        let layer = MapResponseLayer::new(|response: Res| response.len());
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn map_err_keeps_the_contract() {
        let layer = MapErrLayer::new(|error: BoxError| error.to_string());
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn map_result_keeps_the_contract() {
        let layer = MapResultLayer::new(|result: Result<Res, BoxError>| result.map(str::len));
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn map_future_keeps_the_contract() {
        let layer = MapFutureLayer::new(|future: ResponseFuture<Res>| future);
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn then_keeps_the_contract() {
        let layer = ThenLayer::new(|result: Result<Res, BoxError>| async move { result });
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn and_then_keeps_the_contract() {
        let layer =
            AndThenLayer::new(|response: Res| async move { Ok::<_, BoxError>(response.len()) });
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn box_service_keeps_the_contract() {
        Contract::new(BoxService::layer(), hello)
            .check::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn unsync_box_service_keeps_the_contract() {
        Contract::new(UnsyncBoxService::layer(), hello)
            .check::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn box_clone_service_keeps_the_contract() {
        Contract::new(BoxCloneService::layer(), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn box_clone_sync_service_keeps_the_contract() {
        Contract::new(BoxCloneSyncService::layer(), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn option_layer_keeps_the_contract_with_and_without_a_layer() {
        let some = option_layer(Some(MapRequestLayer::new(|request: Req| request)));
        Contract::new(some, hello)
            .check_cloneable::<Req, Res>()
            .await;
        let none = option_layer(None::<MapRequestLayer<fn(Req) -> Req>>);
        Contract::new(none, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn optional_with_a_service_keeps_the_contract() {
        let layer = layer_fn(|mock: Mock<Req, Res>| Optional::new::<Req>(Some(mock)));
        Contract::new(layer, hello).check::<Req, Res>().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_builder_stack_keeps_the_contract() {
        let layer = ServiceBuilder::new()
            .map_request(|request: Req| request.trim())
            .map_response(|response: Res| response.len())
            .map_err(|error: BoxError| error.to_string());
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}

#[cfg(feature = "timeout")]
mod timeout {
    use donjon::timeout::{RequestTimeoutLayer, TimeoutLayer, TotalTimeoutLayer};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn timeout_keeps_the_contract() {
        Contract::new(TimeoutLayer::new(SECOND), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn request_timeout_keeps_the_contract() {
        let layer = RequestTimeoutLayer::new(|_: &Req| Some(SECOND));
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
        let layer = RequestTimeoutLayer::with_default(SECOND, |_: &Req| None);
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn total_timeout_keeps_the_contract() {
        Contract::new(TotalTimeoutLayer::new(SECOND), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}

#[cfg(feature = "limit")]
mod limit {
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
}

#[cfg(feature = "load-shed")]
mod load_shed {
    use donjon::load_shed::LoadShedLayer;
    use donjon_test::contract::Rule;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn load_shed_keeps_the_contract_but_is_always_ready() {
        Contract::new(LoadShedLayer::new(), hello)
            .skip(
                Rule::PendingPropagates,
                "documented: always ready; a call made while the inner service is not ready \
                 fails with Overloaded instead of waiting",
            )
            .check_cloneable::<Req, Res>()
            .await;

        // The exception is needed, and is the only one.
        let report = Contract::new(LoadShedLayer::new(), hello)
            .report_cloneable::<Req, Res>()
            .await;
        assert_eq!(report.broken(), [Rule::PendingPropagates], "{report}");
    }

    #[tokio::test(start_paused = true)]
    async fn load_shed_with_a_bounded_wait_keeps_the_contract() {
        // The clock is paused: the wait never ends, so `Pending` propagates.
        Contract::new(LoadShedLayer::with_max_wait(SECOND), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}

#[cfg(feature = "buffer")]
mod buffer {
    use donjon::buffer::{Buffer, BufferLayer};
    use donjon_test::contract::Rule;

    use super::*;

    const QUEUE_READINESS: &str = "documented: readiness is a place in the queue, not the inner \
                                   service's readiness; the worker waits for the inner service";

    #[tokio::test(start_paused = true)]
    async fn buffer_keeps_the_contract_but_is_ready_while_its_queue_has_room() {
        Contract::new(BufferLayer::<Req>::new(1), hello)
            .skip(Rule::PendingPropagates, QUEUE_READINESS)
            .check_cloneable::<Req, Res>()
            .await;

        // The exception is needed, and is the only one.
        let report = Contract::new(BufferLayer::<Req>::new(1), hello)
            .report_cloneable::<Req, Res>()
            .await;
        assert_eq!(report.broken(), [Rule::PendingPropagates], "{report}");
    }

    #[tokio::test(start_paused = true)]
    async fn buffer_through_its_worker_keeps_the_contract() {
        // Made with `pair`, the buffer always goes through its worker.
        let layer = layer_fn(|mock: Mock<Req, Res>| {
            let (buffer, worker) = Buffer::pair(mock, 1);
            tokio::spawn(worker);
            buffer
        });
        Contract::new(layer, hello)
            .skip(Rule::PendingPropagates, QUEUE_READINESS)
            .check_cloneable::<Req, Res>()
            .await;

        let report = Contract::new(layer, hello)
            .report_cloneable::<Req, Res>()
            .await;
        assert_eq!(report.broken(), [Rule::PendingPropagates], "{report}");
    }
}

#[cfg(feature = "spawn-ready")]
mod spawn_ready {
    use donjon::spawn_ready::SpawnReadyLayer;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spawn_ready_keeps_the_contract() {
        Contract::new(SpawnReadyLayer::new(), hello)
            .check::<Req, Res>()
            .await;
    }
}

#[cfg(feature = "filter")]
mod filter {
    use donjon::filter::{AsyncFilterLayer, FilterLayer};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn filter_keeps_the_contract() {
        let layer = FilterLayer::new(|request: Req| Ok::<_, BoxError>(request));
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn async_filter_keeps_the_contract() {
        let layer = AsyncFilterLayer::new(|request: Req| async move { Ok::<_, BoxError>(request) });
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}

#[cfg(feature = "retry")]
mod retry {
    use std::future::{Ready, ready};

    use donjon::retry::{Policy, RetryLayer};

    use super::*;

    /// Retries errors, twice per request, at once.
    #[derive(Clone)]
    struct RetryErrors(usize);

    impl<E> Policy<Req, Res, E> for RetryErrors {
        type Future = Ready<()>;

        fn retry(&mut self, _: &mut Req, result: &mut Result<Res, E>) -> Option<Ready<()>> {
            if result.is_ok() || self.0 == 0 {
                return None;
            }
            self.0 -= 1;
            Some(ready(()))
        }

        fn clone_request(&mut self, request: &Req) -> Option<Req> {
            Some(*request)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_keeps_the_contract() {
        Contract::new(RetryLayer::new(RetryErrors(2)), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}

#[cfg(feature = "hedge")]
mod hedge {
    use donjon::hedge::{Hedge, Policy};

    use super::*;

    /// Hedges every request.
    #[derive(Clone)]
    struct HedgeAll;

    impl Policy<Req> for HedgeAll {
        fn clone_request(&self, request: &Req) -> Option<Req> {
            Some(*request)
        }

        fn can_retry(&self, _: &Req) -> bool {
            true
        }
    }

    #[tokio::test(start_paused = true)]
    async fn hedge_keeps_the_contract() {
        let layer = layer_fn(|mock: Mock<Req, Res>| Hedge::new(mock, HedgeAll, 10, 0.9, SECOND));
        Contract::new(layer, hello).check::<Req, Res>().await;
    }

    #[tokio::test(start_paused = true)]
    async fn hedge_with_armed_hedges_keeps_the_contract() {
        // Enough known latencies that every request arms a hedge (which
        // would fire after 10 ms; the clock does not move).
        let layer = layer_fn(|mock: Mock<Req, Res>| {
            Hedge::new_with_mock_latencies(mock, HedgeAll, 1, 0.9, SECOND, &[10; 10])
        });
        Contract::new(layer, hello).check::<Req, Res>().await;
    }
}

#[cfg(feature = "reconnect")]
mod reconnect {
    use std::future::ready;

    use donjon::reconnect::Reconnect;
    use donjon::service_fn;
    use donjon_test::contract::Rule;

    use super::*;

    const RECONNECTS: &str = "documented: a connection whose poll_ready fails is dropped and \
                              replaced by a new one; the error is only logged";

    #[tokio::test(start_paused = true)]
    async fn reconnect_keeps_the_contract_but_replaces_a_failed_connection() {
        // Each "connection" is a clone of the mock.
        let connecting = layer_fn(|mock: Mock<Req, Res>| {
            let connect = service_fn(move |()| ready(Ok::<_, BoxError>(mock.clone())));
            Reconnect::new(connect, ())
        });
        Contract::new(connecting, hello)
            .skip(Rule::ErrorSurfaces, RECONNECTS)
            .check::<Req, Res>()
            .await;

        let connected = layer_fn(|mock: Mock<Req, Res>| {
            let spare = mock.clone();
            let connect = service_fn(move |()| ready(Ok::<_, BoxError>(spare.clone())));
            Reconnect::with_connection(mock, connect, ())
        });
        Contract::new(connected, hello)
            .skip(Rule::ErrorSurfaces, RECONNECTS)
            .check::<Req, Res>()
            .await;

        // The exception is needed, and is the only one.
        for report in [
            Contract::new(connecting, hello).report::<Req, Res>().await,
            Contract::new(connected, hello).report::<Req, Res>().await,
        ] {
            assert_eq!(report.broken(), [Rule::ErrorSurfaces], "{report}");
        }
    }
}

#[cfg(feature = "load")]
mod load {
    use std::time::Duration;

    use donjon::load::{CompleteOnResponse, Constant, PeakEwma, PendingRequests};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn constant_keeps_the_contract() {
        let layer = layer_fn(|mock: Mock<Req, Res>| Constant::new(mock, 1_u32));
        Contract::new(layer, hello).check::<Req, Res>().await;
    }

    #[tokio::test(start_paused = true)]
    async fn pending_requests_keeps_the_contract() {
        let layer = layer_fn(|mock: Mock<Req, Res>| {
            PendingRequests::new(mock, CompleteOnResponse::default())
        });
        Contract::new(layer, hello).check::<Req, Res>().await;
    }

    #[tokio::test(start_paused = true)]
    async fn peak_ewma_keeps_the_contract() {
        let layer = layer_fn(|mock: Mock<Req, Res>| {
            PeakEwma::new(
                mock,
                Duration::from_millis(30),
                10e9,
                CompleteOnResponse::default(),
            )
        });
        Contract::new(layer, hello).check::<Req, Res>().await;
    }
}

#[cfg(feature = "balance")]
mod balance {
    use donjon::balance::p2c::Balance;
    use donjon::discover::ServiceList;
    use donjon::load::Constant;
    use donjon_test::contract::Rule;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn balance_over_one_endpoint_keeps_the_contract_but_drops_a_failed_endpoint() {
        let layer = layer_fn(|mock: Mock<Req, Res>| {
            Balance::new(ServiceList::new::<Req>(vec![Constant::new(mock, 0_u32)]))
        });
        Contract::new(layer, hello)
            .skip(
                Rule::ErrorSurfaces,
                "documented: an endpoint whose poll_ready fails is dropped from the balancer \
                 (logged), which then waits for another endpoint",
            )
            .check::<Req, Res>()
            .await;

        // The exception is needed, and is the only one.
        let report = Contract::new(layer, hello).report::<Req, Res>().await;
        assert_eq!(report.broken(), [Rule::ErrorSurfaces], "{report}");
    }
}

#[cfg(feature = "steer")]
mod steer {
    use donjon::steer::Steer;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn steer_over_one_service_keeps_the_contract() {
        let layer =
            layer_fn(|mock: Mock<Req, Res>| Steer::new([mock], |_: &Req, _: &[Mock<Req, Res>]| 0));
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}

#[cfg(all(feature = "tower-compat", feature = "timeout"))]
mod tower_compat {
    use donjon::timeout::TimeoutLayer;
    use donjon::tower_compat::{DonjonLayer, TowerLayer};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_layer_through_tower_and_back_keeps_the_contract() {
        let layer = DonjonLayer::new(TowerLayer::new(TimeoutLayer::new(SECOND)));
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_tower_layer_seen_as_donjon_keeps_the_contract() {
        let layer = DonjonLayer::new(tower::limit::ConcurrencyLimitLayer::new(1));
        Contract::new(layer, hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}

#[cfg(feature = "circuit-breaker")]
mod circuit_breaker {
    use donjon::circuit_breaker::{CircuitBreakerLayer, Config, OpenBehavior};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_circuit_breaker_keeps_the_contract_in_both_open_behaviours() {
        // The checks' dropped futures and injected readiness errors are not
        // failed calls: the breaker stays closed and lets everything
        // through.
        Contract::new(CircuitBreakerLayer::new(Config::new()), hello)
            .check_cloneable::<Req, Res>()
            .await;
        let not_ready = Config::new()
            .with_open_duration(SECOND)
            .with_open_behavior(OpenBehavior::NotReady);
        Contract::new(CircuitBreakerLayer::new(not_ready), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}

#[cfg(feature = "fallback")]
mod fallback {
    use donjon::fallback::{Failure, FallbackLayer};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn fallback_keeps_the_contract() {
        let backup =
            donjon::service_fn(|_: Failure<Req, Res>| async { Ok::<Res, BoxError>("backup") });
        Contract::new(FallbackLayer::new(backup), hello)
            .check_cloneable::<Req, Res>()
            .await;
    }
}
