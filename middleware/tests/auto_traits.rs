//! Compile-time checks of the auto traits (`Send`, `Sync`, `Unpin`) and of
//! `Clone`, for the public types, as the API reference requires them.
//!
//! Each check is a call to a generic function whose bounds are the traits
//! checked: if a type loses one, this file stops compiling. Only positive
//! facts are checked; the absence of a trait cannot be asserted this way.

#![allow(
    dead_code,
    reason = "the helper types only exist to appear in type positions"
)]

mod support;

use support::{assert_clone, assert_send, assert_sync, assert_unpin};

#[test]
fn service_builder_is_send_sync_and_unpin() {
    use donjon::ServiceBuilder;
    use donjon::layer::util::{Identity, Stack};

    assert_send::<ServiceBuilder<Identity>>();
    assert_sync::<ServiceBuilder<Identity>>();
    assert_unpin::<ServiceBuilder<Identity>>();
    assert_clone::<ServiceBuilder<Identity>>();
    assert_send::<ServiceBuilder<Stack<Identity, Identity>>>();
    assert_sync::<ServiceBuilder<Stack<Identity, Identity>>>();
}

#[cfg(feature = "util")]
mod util {
    use std::future::Ready;
    use std::marker::PhantomPinned;
    use std::rc::Rc;
    use std::task::{Context, Poll};

    use donjon::layer::util::{Identity, Stack};
    use donjon::util::error::optional::None as Missing;
    use donjon::util::future::{
        AndThenFuture, EitherResponseFuture, MapErrFuture, MapResponseFuture, MapResultFuture,
        ThenFuture, optional::ResponseFuture as OptionalFuture,
    };
    use donjon::util::rng::HasherRng;
    use donjon::util::{
        AndThen, AndThenLayer, BoxCloneService, BoxCloneServiceLayer, BoxCloneSyncService,
        BoxCloneSyncServiceLayer, BoxLayer, BoxService, CallAll, CallAllUnordered, Either,
        FutureService, MapErr, MapErrLayer, MapFuture, MapFutureLayer, MapRequest, MapRequestLayer,
        MapResponse, MapResponseLayer, MapResult, MapResultLayer, Oneshot, Optional,
        Ready as ReadyFuture, ReadyOneshot, ServiceFn, Then, ThenLayer, UnsyncBoxService,
    };
    use donjon::{BoxError, Service, ServiceBuilder};
    use donjon_test::mock::Mock;
    use futures::stream::Iter;

    use crate::support::{assert_clone, assert_copy, assert_send, assert_sync, assert_unpin};

    type M = Mock<u8, u8>;
    type MockFuture = donjon_test::mock::future::ResponseFuture<u8>;
    type Fut = Ready<Result<u8, BoxError>>;
    type Map = fn(u8) -> u8;
    type Requests = Iter<std::vec::IntoIter<u8>>;

    /// A service that is not `Unpin`; its future is `Unpin`.
    struct Pinned(PhantomPinned);

    impl Service<u8> for Pinned {
        type Response = u8;
        type Error = BoxError;
        type Future = Fut;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: u8) -> Fut {
            std::future::ready(Ok(request))
        }
    }

    /// A request type that is not `Unpin`, nor `Send`, nor `Sync`.
    struct Awkward(PhantomPinned, Rc<()>);

    #[test]
    fn boxed_services_have_the_documented_auto_traits() {
        assert_send::<BoxService<(), (), ()>>();
        assert_sync::<BoxService<(), (), ()>>();
        assert_unpin::<BoxService<(), (), ()>>();

        assert_send::<BoxCloneService<(), (), ()>>();
        assert_clone::<BoxCloneService<(), (), ()>>();
        assert_unpin::<BoxCloneService<(), (), ()>>();

        assert_send::<BoxCloneSyncService<(), (), ()>>();
        assert_sync::<BoxCloneSyncService<(), (), ()>>();
        assert_clone::<BoxCloneSyncService<(), (), ()>>();
        assert_unpin::<BoxCloneSyncService<(), (), ()>>();

        assert_unpin::<UnsyncBoxService<(), (), ()>>();

        // Their response futures are boxed, hence `Unpin`; all but the unsync
        // one are `Send`.
        assert_send::<<BoxService<(), (), ()> as Service<()>>::Future>();
        assert_unpin::<<BoxService<(), (), ()> as Service<()>>::Future>();
        assert_send::<<BoxCloneService<(), (), ()> as Service<()>>::Future>();
        assert_send::<<BoxCloneSyncService<(), (), ()> as Service<()>>::Future>();
        assert_unpin::<<UnsyncBoxService<(), (), ()> as Service<()>>::Future>();
    }

    #[test]
    fn boxed_layers_are_send_sync_and_clone() {
        assert_send::<BoxLayer<M, u8, u8, BoxError>>();
        assert_sync::<BoxLayer<M, u8, u8, BoxError>>();
        assert_clone::<BoxLayer<M, u8, u8, BoxError>>();
        assert_send::<BoxCloneServiceLayer<M, u8, u8, BoxError>>();
        assert_sync::<BoxCloneServiceLayer<M, u8, u8, BoxError>>();
        assert_clone::<BoxCloneServiceLayer<M, u8, u8, BoxError>>();
        assert_send::<BoxCloneSyncServiceLayer<M, u8, u8, BoxError>>();
        assert_sync::<BoxCloneSyncServiceLayer<M, u8, u8, BoxError>>();
        assert_clone::<BoxCloneSyncServiceLayer<M, u8, u8, BoxError>>();
    }

    #[test]
    fn ready_and_ready_oneshot_are_unpin_even_over_a_service_that_is_not() {
        assert_unpin::<ReadyOneshot<Pinned, u8>>();
        assert_unpin::<ReadyFuture<'static, Pinned, u8>>();
        assert_unpin::<ReadyOneshot<M, Awkward>>();
        assert_unpin::<ReadyFuture<'static, M, Awkward>>();
    }

    #[test]
    fn ready_and_ready_oneshot_are_send_and_sync_whatever_the_request_type() {
        assert_send::<ReadyOneshot<M, Awkward>>();
        assert_sync::<ReadyOneshot<M, Awkward>>();
        assert_send::<ReadyFuture<'static, M, Awkward>>();
        assert_sync::<ReadyFuture<'static, M, Awkward>>();
    }

    #[test]
    fn oneshot_is_unpin_when_the_service_future_is() {
        assert_unpin::<Oneshot<M, u8>>();
        // The service and the request are not pinned, only the future is.
        assert_unpin::<Oneshot<Pinned, u8>>();
        assert_send::<Oneshot<M, u8>>();
        assert_sync::<Oneshot<M, u8>>();
    }

    #[test]
    fn combinator_services_and_layers_are_send_sync_unpin_and_clone() {
        macro_rules! check_service_and_layer {
            ($service:ident, $layer:ident) => {
                assert_send::<$service<M, Map>>();
                assert_sync::<$service<M, Map>>();
                assert_unpin::<$service<M, Map>>();
                assert_clone::<$service<M, Map>>();
                assert_send::<$layer<Map>>();
                assert_sync::<$layer<Map>>();
                assert_unpin::<$layer<Map>>();
                assert_clone::<$layer<Map>>();
            };
        }
        check_service_and_layer!(MapRequest, MapRequestLayer);
        check_service_and_layer!(MapResponse, MapResponseLayer);
        check_service_and_layer!(MapErr, MapErrLayer);
        check_service_and_layer!(MapResult, MapResultLayer);
        check_service_and_layer!(AndThen, AndThenLayer);
        check_service_and_layer!(Then, ThenLayer);
        check_service_and_layer!(MapFuture, MapFutureLayer);
    }

    #[test]
    fn combinator_futures_are_unpin_and_send_when_what_they_wrap_is() {
        type ErrMap = fn(BoxError) -> BoxError;
        type ResultMap = fn(Result<u8, BoxError>) -> Result<u8, BoxError>;
        type ThenMap = fn(Result<u8, BoxError>) -> Fut;
        type AndThenMap = fn(u8) -> Fut;

        assert_unpin::<MapResponseFuture<MockFuture, Map>>();
        assert_send::<MapResponseFuture<MockFuture, Map>>();
        assert_unpin::<MapErrFuture<MockFuture, ErrMap>>();
        assert_send::<MapErrFuture<MockFuture, ErrMap>>();
        assert_unpin::<MapResultFuture<MockFuture, ResultMap>>();
        assert_send::<MapResultFuture<MockFuture, ResultMap>>();
        assert_unpin::<ThenFuture<MockFuture, Fut, ThenMap>>();
        assert_send::<ThenFuture<MockFuture, Fut, ThenMap>>();
        assert_unpin::<AndThenFuture<MockFuture, Fut, AndThenMap>>();
        assert_send::<AndThenFuture<MockFuture, Fut, AndThenMap>>();
        assert_unpin::<EitherResponseFuture<MockFuture, Fut>>();
        assert_send::<EitherResponseFuture<MockFuture, Fut>>();
        assert_unpin::<OptionalFuture<MockFuture>>();
        assert_send::<OptionalFuture<MockFuture>>();
    }

    #[test]
    fn service_fn_future_service_either_and_optional_keep_their_parts_auto_traits() {
        assert_send::<ServiceFn<Map>>();
        assert_sync::<ServiceFn<Map>>();
        assert_unpin::<ServiceFn<Map>>();
        assert_copy::<ServiceFn<Map>>();

        type Make = Ready<Result<M, BoxError>>;
        assert_send::<FutureService<Make, M>>();
        assert_sync::<FutureService<Make, M>>();
        assert_unpin::<FutureService<Make, M>>();

        assert_send::<Either<M, M>>();
        assert_sync::<Either<M, M>>();
        assert_unpin::<Either<M, M>>();
        assert_copy::<Either<Identity, Identity>>();

        assert_send::<Optional<M>>();
        assert_sync::<Optional<M>>();
        assert_unpin::<Optional<M>>();
    }

    #[test]
    fn call_all_is_unpin_and_send_when_its_stream_is() {
        assert_unpin::<CallAll<M, Requests>>();
        assert_send::<CallAll<M, Requests>>();
        assert_unpin::<CallAllUnordered<M, Requests>>();
        assert_send::<CallAllUnordered<M, Requests>>();
        // Over a service that is not `Unpin` either: only the stream is pinned.
        assert_unpin::<CallAll<Pinned, Requests>>();
        assert_unpin::<CallAll<M, futures::stream::Pending<u8>>>();
    }

    #[test]
    fn util_builders_rng_and_errors_are_send_and_sync() {
        assert_send::<ServiceBuilder<Stack<MapRequestLayer<Map>, Identity>>>();
        assert_sync::<ServiceBuilder<Stack<MapRequestLayer<Map>, Identity>>>();
        assert_send::<HasherRng>();
        assert_sync::<HasherRng>();
        assert_send::<Missing>();
        assert_sync::<Missing>();
    }
}

/// The mock service most checks wrap, and its response future.
#[cfg(any(
    feature = "buffer",
    feature = "filter",
    feature = "limit",
    feature = "load-shed",
    feature = "reconnect",
    feature = "retry",
    feature = "spawn-ready",
    feature = "steer",
    feature = "timeout"
))]
mod middleware {
    use donjon_test::mock::Mock;

    use crate::support::{assert_clone, assert_copy, assert_send, assert_sync, assert_unpin};

    type M = Mock<u8, u8>;
    type MockFuture = donjon_test::mock::future::ResponseFuture<u8>;

    /// Send, Sync and Unpin, as a service over the mock should be.
    fn assert_all<T: Send + Sync + Unpin>() {}

    #[cfg(feature = "timeout")]
    #[test]
    fn timeout_types() {
        use donjon::timeout::{Timeout, TimeoutLayer, error::Elapsed, future::ResponseFuture};
        assert_all::<Timeout<M>>();
        assert_clone::<Timeout<M>>();
        assert_all::<TimeoutLayer>();
        assert_send::<ResponseFuture<MockFuture>>();
        assert_sync::<ResponseFuture<MockFuture>>();
        assert_all::<Elapsed>();
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn metrics_types() {
        use donjon::metrics::{Metrics, MetricsLayer, ResponseFuture};
        assert_all::<Metrics<M>>();
        assert_clone::<Metrics<M>>();
        assert_all::<MetricsLayer>();
        assert_clone::<MetricsLayer>();
        assert_send::<ResponseFuture<MockFuture>>();
        assert_sync::<ResponseFuture<MockFuture>>();
    }

    #[cfg(feature = "limit")]
    #[test]
    fn limit_types() {
        use donjon::limit::concurrency::future::ResponseFuture;
        use donjon::limit::rate::Rate;
        use donjon::limit::{
            ConcurrencyLimit, ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer, RateLimit,
            RateLimitLayer,
        };
        assert_all::<ConcurrencyLimit<M>>();
        assert_clone::<ConcurrencyLimit<M>>();
        assert_all::<ResponseFuture<MockFuture>>();
        assert_all::<ConcurrencyLimitLayer>();
        assert_all::<GlobalConcurrencyLimitLayer>();
        // RateLimit boxes its timer, so it stays Unpin.
        assert_all::<RateLimit<M>>();
        assert_clone::<RateLimit<M>>();
        assert_all::<RateLimitLayer>();
        assert_all::<Rate>();
    }

    #[cfg(feature = "limit")]
    #[test]
    fn gcra_and_keyed_limit_types() {
        use std::convert::Infallible;
        use std::future::Ready;

        use donjon::limit::gcra::{Gcra, GcraLayer, Quota, error::InvalidQuota};
        use donjon::limit::keyed::error::{InvalidKey, RateLimited};
        use donjon::limit::keyed::future::{ResponseFuture, SharedResponseFuture};
        use donjon::limit::keyed::{
            Answer, Decision, KeyedRateLimit, KeyedRateLimitLayer, MemoryStore, SharedRateLimit,
            SharedRateLimitLayer,
        };

        type Store = MemoryStore<String>;
        type Key = fn(&u8) -> String;
        type StoreFuture = Ready<Result<Decision, Infallible>>;

        // Gcra boxes its timer, so it stays Unpin.
        assert_all::<Gcra<M>>();
        assert_clone::<Gcra<M>>();
        assert_all::<GcraLayer>();
        assert_copy::<GcraLayer>();
        assert_all::<Quota>();
        assert_copy::<Quota>();
        assert_all::<InvalidQuota>();
        assert_copy::<InvalidQuota>();

        assert_all::<Store>();
        assert_clone::<Store>();
        assert_all::<KeyedRateLimit<M, Store, Key>>();
        assert_clone::<KeyedRateLimit<M, Store, Key>>();
        assert_all::<KeyedRateLimitLayer<Store, Key>>();
        assert_clone::<KeyedRateLimitLayer<Store, Key>>();
        assert_all::<ResponseFuture<MockFuture, StoreFuture, M, u8>>();
        // SharedRateLimit boxes its timer too.
        assert_all::<SharedRateLimit<M, Store, String>>();
        assert_clone::<SharedRateLimit<M, Store, String>>();
        assert_all::<SharedRateLimitLayer<Store, String>>();
        assert_clone::<SharedRateLimitLayer<Store, String>>();
        assert_all::<SharedResponseFuture<MockFuture>>();

        assert_all::<Answer<StoreFuture, Infallible>>();
        assert_all::<Decision>();
        assert_copy::<Decision>();
        assert_all::<RateLimited>();
        assert_copy::<RateLimited>();
        assert_all::<InvalidKey>();
        assert_copy::<InvalidKey>();
    }

    #[cfg(feature = "load-shed")]
    #[test]
    fn load_shed_types() {
        use donjon::load_shed::{
            LoadShed, LoadShedLayer, error::Overloaded, future::ResponseFuture,
        };
        assert_all::<LoadShed<M>>();
        assert_clone::<LoadShed<M>>();
        assert_all::<LoadShedLayer>();
        assert_all::<ResponseFuture<MockFuture>>();
        assert_all::<Overloaded>();
    }

    #[cfg(feature = "buffer")]
    #[test]
    fn buffer_types() {
        use donjon::buffer::error::{Closed, Panicked, ServiceError};
        use donjon::buffer::{Buffer, BufferLayer, Worker, future::ResponseFuture};
        use std::cell::Cell;

        assert_all::<Buffer<u8, MockFuture>>();
        assert_clone::<Buffer<u8, MockFuture>>();
        assert_all::<ResponseFuture<MockFuture>>();
        assert_send::<Worker<M, u8>>();
        assert_unpin::<Worker<M, u8>>();
        // The layer holds no request, whatever its type.
        assert_all::<BufferLayer<Cell<u8>>>();
        assert_all::<ServiceError>();
        assert_all::<Closed>();
        assert_all::<Panicked>();
    }

    #[cfg(feature = "filter")]
    #[test]
    fn filter_types() {
        use donjon::filter::{AsyncFilter, AsyncFilterLayer, Filter, FilterLayer};
        type Check = fn(u8) -> Result<u8, donjon::BoxError>;
        assert_all::<Filter<M, Check>>();
        assert_clone::<Filter<M, Check>>();
        assert_all::<AsyncFilter<M, Check>>();
        assert_all::<FilterLayer<Check>>();
        assert_all::<AsyncFilterLayer<Check>>();
        assert_all::<donjon::filter::future::ResponseFuture<u8, MockFuture>>();
    }

    #[cfg(feature = "retry")]
    #[test]
    fn retry_types() {
        use donjon::retry::backoff::{ExponentialBackoff, ExponentialBackoffMaker};
        use donjon::retry::budget::TpsBudget;
        use donjon::retry::{Retry, RetryLayer};
        assert_all::<Retry<(), M>>();
        assert_clone::<Retry<(), M>>();
        assert_all::<RetryLayer<()>>();
        assert_all::<TpsBudget>();
        assert_all::<ExponentialBackoffMaker>();
        assert_all::<ExponentialBackoff>();
    }

    #[cfg(feature = "steer")]
    #[test]
    fn steer_types() {
        use donjon::steer::Steer;
        type Pick = fn(&u8, &[M]) -> usize;
        assert_all::<Steer<M, Pick, u8>>();
        assert_clone::<Steer<M, Pick, u8>>();
        // The request type only appears in a marker.
        assert_all::<Steer<M, Pick, std::rc::Rc<u8>>>();
    }

    #[cfg(feature = "reconnect")]
    #[test]
    fn reconnect_types() {
        use donjon::reconnect::Reconnect;
        type Maker = Mock<(), M>;
        assert_all::<Reconnect<Maker, ()>>();
    }

    #[cfg(feature = "spawn-ready")]
    #[test]
    fn spawn_ready_types() {
        use donjon::spawn_ready::{SpawnReady, SpawnReadyLayer};
        assert_all::<SpawnReady<M>>();
        assert_all::<SpawnReadyLayer>();
    }
    #[cfg(feature = "timeout")]
    #[test]
    fn timeout_variants() {
        use std::time::Duration;

        use donjon::timeout::{
            OrDefault, RequestTimeout, RequestTimeoutLayer, TotalTimeout, TotalTimeoutLayer,
        };

        type ByRequest = fn(&u8) -> Option<Duration>;
        assert_all::<RequestTimeout<M, ByRequest>>();
        assert_all::<RequestTimeout<M, OrDefault<ByRequest>>>();
        assert_clone::<RequestTimeoutLayer<ByRequest>>();
        assert_send::<<RequestTimeout<M, ByRequest> as donjon::Service<u8>>::Future>();
        assert_send::<TotalTimeout<M>>();
        assert_sync::<TotalTimeout<M>>();
        assert_unpin::<TotalTimeout<M>>();
        assert_copy::<TotalTimeoutLayer>();
        assert_send::<<TotalTimeout<M> as donjon::Service<u8>>::Future>();
    }

    #[cfg(feature = "fallback")]
    #[test]
    fn fallback_types() {
        use donjon::fallback::error::FallbackFailed;
        use donjon::fallback::{Failure, Fallback, FallbackLayer, SharedError};

        assert_all::<Fallback<M, M>>();
        assert_clone::<FallbackLayer<M>>();
        assert_send::<Failure<u8, u8>>();
        assert_sync::<Failure<u8, u8>>();
        assert_send::<SharedError>();
        assert_sync::<SharedError>();
        assert_send::<FallbackFailed>();
        assert_sync::<FallbackFailed>();
    }
}

/// The load-balancing family.
#[cfg(any(
    feature = "balance",
    feature = "discover",
    feature = "hedge",
    feature = "load",
    feature = "ready-cache"
))]
mod balancing {
    use donjon_test::mock::Mock;

    use crate::support::{assert_clone, assert_send, assert_sync, assert_unpin};

    type M = Mock<u8, u8>;

    fn assert_all<T: Send + Sync + Unpin>() {}

    #[cfg(feature = "discover")]
    #[test]
    fn discover_types() {
        use donjon::discover::{Change, ServiceList};
        assert_all::<ServiceList<Vec<M>>>();
        assert_all::<Change<u8, M>>();
        assert_clone::<Change<u8, M>>();
    }

    #[cfg(feature = "load")]
    #[test]
    fn load_types() {
        use donjon::load::peak_ewma::Cost;
        use donjon::load::pending_requests::Count;
        use donjon::load::{CompleteOnResponse, Constant, PeakEwma, PendingRequests};
        assert_all::<Constant<M, u8>>();
        assert_all::<PeakEwma<M>>();
        assert_all::<PendingRequests<M>>();
        assert_all::<CompleteOnResponse>();
        assert_all::<Cost>();
        assert_all::<Count>();
        assert_send::<donjon::load::peak_ewma::Handle>();
        assert_sync::<donjon::load::pending_requests::Handle>();
    }

    #[cfg(feature = "ready-cache")]
    #[test]
    fn ready_cache_types() {
        use donjon::ready_cache::ReadyCache;
        use donjon::ready_cache::error::Failed;
        assert_all::<ReadyCache<u8, M, u8>>();
        assert_send::<Failed<u8>>();
        assert_sync::<Failed<u8>>();
    }

    #[cfg(feature = "balance")]
    #[test]
    fn balance_types() {
        use donjon::balance::p2c::{Balance, MakeBalance, MakeBalanceLayer};
        use donjon::discover::ServiceList;
        use donjon::load::Constant;
        type Endpoints = ServiceList<Vec<Constant<M, u8>>>;
        assert_all::<Balance<Endpoints, u8>>();
        assert_all::<MakeBalance<M, u8>>();
        assert_all::<MakeBalanceLayer<M, u8>>();
        assert_clone::<MakeBalanceLayer<M, u8>>();
        assert_unpin::<<Balance<Endpoints, u8> as donjon::Service<u8>>::Future>();
    }

    #[cfg(feature = "balance")]
    #[test]
    fn balance_endpoint_types() {
        use std::future::Ready;

        use donjon::balance::health::{Checked, HealthCheck, HealthCheckDiscover};
        use donjon::balance::outlier::{
            Detector, Ejectable, EjectableLayer, OutlierDetection, OutlierDiscover,
        };
        use donjon::balance::slow_start::{SlowStart, SlowStartDiscover, Warming, Weighted};
        use donjon::discover::ServiceList;
        type Endpoints = ServiceList<Vec<M>>;
        type Probe = fn(&usize) -> Ready<Result<(), String>>;
        assert_all::<Ejectable<M>>();
        assert_all::<OutlierDiscover<Endpoints>>();
        assert_all::<Detector>();
        assert_all::<EjectableLayer>();
        assert_all::<OutlierDetection>();
        assert_clone::<Detector>();
        assert_all::<Warming<M>>();
        assert_all::<SlowStartDiscover<Endpoints>>();
        assert_all::<SlowStart>();
        assert_all::<Weighted>();
        assert_all::<Checked<M>>();
        assert_all::<HealthCheckDiscover<Endpoints, Probe>>();
        assert_all::<HealthCheck>();
        assert_unpin::<<Ejectable<M> as donjon::Service<u8>>::Future>();
    }

    #[cfg(feature = "hedge")]
    #[test]
    fn hedge_types() {
        use donjon::hedge::{Hedge, Policy};

        #[derive(Clone)]
        struct Never;

        impl Policy<u8> for Never {
            fn clone_request(&self, _: &u8) -> Option<u8> {
                None
            }

            fn can_retry(&self, _: &u8) -> bool {
                false
            }
        }

        assert_all::<Hedge<M, Never>>();
        assert_send::<<Hedge<M, Never> as donjon::Service<u8>>::Future>();
        assert_sync::<<Hedge<M, Never> as donjon::Service<u8>>::Future>();
    }
}
