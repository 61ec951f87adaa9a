//! The metrics of `donjon::limit`: each limit's gauges and counters, read
//! back through the scenarios that move them, under the name each is given
//! (or its default).

use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::recorder::Recorded;

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

/// Calls `service` (which must be ready) with `request`, and answers it.
async fn round_trip<S>(service: &mut Spawn<S>, handle: &mut Handle, request: &'static str)
where
    S: donjon::Service<&'static str>,
    S::Error: std::fmt::Debug,
{
    let mut response = task::spawn(service.call(request));
    assert_request_eq!(handle, request).send_response("ok");
    assert_ready_ok!(response.poll());
}

mod concurrency {
    use std::sync::Arc;

    use donjon::limit::{ConcurrencyLimit, ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer};
    use donjon::{Layer, ServiceBuilder};
    use tokio::sync::Semaphore;

    use super::*;

    const WAITERS: &str = "donjon_concurrency_limit_waiters";
    const IN_FLIGHT: &str = "donjon_concurrency_limit_in_flight";

    /// The (waiters, in flight) gauges of the limit named `name`.
    fn gauges(recorded: &Recorded, name: &str) -> (f64, f64) {
        let labels = [("name", name)];
        (
            recorded.gauge(WAITERS, &labels),
            recorded.gauge(IN_FLIGHT, &labels),
        )
    }

    #[tokio::test]
    async fn a_caller_over_a_limit_of_one_waits_until_the_first_finishes() {
        let recorded = Recorded::default();
        let (mut first, mut handle) =
            recorded.with(|| mock::spawn_layer(ConcurrencyLimitLayer::new(1).with_name("db")));
        let mut second = first.clone();
        assert_eq!(gauges(&recorded, "db"), (0.0, 0.0));

        assert_ready_ok!(first.poll_ready());
        assert_eq!(
            gauges(&recorded, "db"),
            (0.0, 1.0),
            "a reserved permit is in use"
        );
        let mut response = task::spawn(first.call("first"));
        assert_pending!(second.poll_ready());
        assert_pending!(second.poll_ready());
        assert_eq!(
            gauges(&recorded, "db"),
            (1.0, 1.0),
            "one waiter, polled twice"
        );

        assert_request_eq!(handle, "first").send_response("ok");
        assert_ready_ok!(response.poll());
        assert!(second.is_woken());
        assert_eq!(
            gauges(&recorded, "db"),
            (0.0, 1.0),
            "the permit went to the waiter"
        );
        assert_ready_ok!(second.poll_ready());
        round_trip(&mut second, &mut handle, "second").await;
        assert_eq!(gauges(&recorded, "db"), (0.0, 0.0));
    }

    #[tokio::test(start_paused = true)]
    async fn callers_a_discipline_refuses_are_counted_and_leave_the_waiters_gauge() {
        use donjon::limit::QueueDiscipline;
        use std::time::Duration;

        let recorded = Recorded::default();
        let (mut first, _handle): (_, Handle) = recorded.with(|| {
            mock::spawn_layer(ConcurrencyLimitLayer::new(1).with_name("db").with_queue(
                QueueDiscipline::fifo().codel(Duration::from_millis(5), Duration::from_millis(100)),
            ))
        });
        let (mut second, mut third) = (first.clone(), first.clone());
        assert_ready_ok!(first.poll_ready());
        let held = first.call("first");
        assert_pending!(second.poll_ready());
        assert_pending!(third.poll_ready());
        assert_eq!(gauges(&recorded, "db"), (2.0, 1.0));
        let refusals =
            || recorded.counter("donjon_concurrency_limit_refusals_total", &[("name", "db")]);
        assert_eq!(refusals(), 0);

        // Both refused at 100 ms: the second by its own timer, the third by
        // the permit coming back after its time.
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_ready_ok!(second.poll_ready());
        assert_eq!(gauges(&recorded, "db"), (1.0, 1.0));
        drop(held);
        assert_eq!(refusals(), 2);
        assert_eq!(
            gauges(&recorded, "db"),
            (0.0, 0.0),
            "nobody waits, the permit is free"
        );
        assert_ready_ok!(third.poll_ready());
        assert!(third.call("refused").await.is_err());
    }

    #[tokio::test]
    async fn a_dropped_waiter_and_a_dropped_response_leave_the_gauges_at_zero() {
        let recorded = Recorded::default();
        let (mut first, _handle): (_, Handle) =
            recorded.with(|| mock::spawn_layer(ConcurrencyLimitLayer::new(1).with_name("db")));
        let mut second = first.clone();
        assert_ready_ok!(first.poll_ready());
        let response = first.call("first");
        assert_pending!(second.poll_ready());
        assert_eq!(gauges(&recorded, "db"), (1.0, 1.0));

        drop(second);
        assert_eq!(gauges(&recorded, "db"), (0.0, 1.0));
        drop(response);
        assert_eq!(gauges(&recorded, "db"), (0.0, 0.0));
    }

    #[tokio::test]
    async fn an_unnamed_limit_reports_as_concurrency_limit_and_with_name_renames_it() {
        let recorded = Recorded::default();
        let (mut unnamed, _h1) = recorded.with(|| {
            mock::spawn_layer::<&'static str, &'static str, _>(
                ServiceBuilder::new().concurrency_limit(2).into_inner(),
            )
        });
        let (mut named, _h2) = recorded.with(|| {
            mock::spawn_with(|mock: Mock| ConcurrencyLimit::new(mock, 2).with_name("named"))
        });
        assert_ready_ok!(unnamed.poll_ready());
        assert_ready_ok!(named.poll_ready());
        assert_ready_ok!(named.poll_ready());
        assert_eq!(gauges(&recorded, "concurrency_limit"), (0.0, 1.0));
        assert_eq!(gauges(&recorded, "named"), (0.0, 1.0), "a permit held once");
    }

    #[test]
    #[should_panic(expected = "ConcurrencyLimit::with_name names a limit as it is made")]
    fn naming_a_limit_its_clones_share_panics() {
        let limit = ConcurrencyLimit::new(crate::support::Echo, 1);
        let _clone = limit.clone();
        let _ = limit.with_name("too late");
    }

    #[tokio::test]
    async fn a_global_limit_counts_the_callers_of_every_service_it_wraps() {
        let recorded = Recorded::default();
        let shared = recorded.with(|| GlobalConcurrencyLimitLayer::new(1).with_name("shared"));
        let (mut users, mut users_handle) = mock::spawn_with(|mock: Mock| shared.layer(mock));
        let (mut orders, _orders_handle) = mock::spawn_with(|mock: Mock| shared.layer(mock));

        assert_ready_ok!(users.poll_ready());
        let mut response = task::spawn(users.call("user"));
        assert_pending!(orders.poll_ready());
        assert_eq!(gauges(&recorded, "shared"), (1.0, 1.0));

        assert_request_eq!(users_handle, "user").send_response("ok");
        assert_ready_ok!(response.poll());
        assert_eq!(gauges(&recorded, "shared"), (0.0, 1.0));
        drop(orders);
        assert_eq!(gauges(&recorded, "shared"), (0.0, 0.0));

        let _default = recorded.with(|| GlobalConcurrencyLimitLayer::new(1));
        assert_eq!(gauges(&recorded, "global_concurrency_limit"), (0.0, 0.0));
    }

    #[tokio::test]
    async fn a_limit_on_a_users_semaphore_counts_its_waiters_and_permits() {
        let recorded = Recorded::default();
        let semaphore = Arc::new(Semaphore::new(1));
        let (mut first, mut handle) = recorded.with(|| {
            mock::spawn_with(|mock: Mock| {
                ConcurrencyLimit::with_semaphore(mock, Arc::clone(&semaphore)).with_name("sem")
            })
        });
        let mut second = first.clone();
        let mut third = first.clone();

        assert_ready_ok!(first.poll_ready());
        let mut response = task::spawn(first.call("first"));
        assert_pending!(second.poll_ready());
        assert_pending!(third.poll_ready());
        assert_pending!(third.poll_ready());
        assert_eq!(gauges(&recorded, "sem"), (2.0, 1.0));

        drop(third);
        assert_eq!(gauges(&recorded, "sem"), (1.0, 1.0));
        assert_request_eq!(handle, "first").send_response("ok");
        assert_ready_ok!(response.poll());
        assert_eq!(
            gauges(&recorded, "sem"),
            (1.0, 0.0),
            "not granted until polled"
        );
        assert_ready_ok!(second.poll_ready());
        assert_eq!(gauges(&recorded, "sem"), (0.0, 1.0));
        round_trip(&mut second, &mut handle, "second").await;
        assert_eq!(gauges(&recorded, "sem"), (0.0, 0.0));
    }
}

mod try_concurrency {
    use donjon::limit::try_concurrency::error::Overloaded;
    use donjon::limit::{TryConcurrencyLimit, TryConcurrencyLimitLayer};

    use super::*;

    const REFUSALS: &str = "donjon_concurrency_limit_refusals_total";
    const IN_FLIGHT: &str = "donjon_concurrency_limit_in_flight";

    #[tokio::test]
    async fn a_call_over_the_limit_is_refused_and_counted_once_called() {
        let recorded = Recorded::default();
        let (mut first, mut handle) = recorded
            .with(|| mock::spawn_layer(TryConcurrencyLimitLayer::new(1).with_name("bulkhead")));
        let mut second = first.clone();
        let labels = [("name", "bulkhead")];

        assert_ready_ok!(first.poll_ready());
        let mut response = task::spawn(first.call("first"));
        assert_eq!(recorded.gauge(IN_FLIGHT, &labels), 1.0);

        // Ready, to be refused by the call: no call, no refusal.
        assert_ready_ok!(second.poll_ready());
        assert_eq!(recorded.counter(REFUSALS, &labels), 0);
        let error = assert_ready_err!(task::spawn(second.call("second")).poll());
        assert!(error.is::<Overloaded>(), "unexpected error: {error}");
        assert_eq!(recorded.counter(REFUSALS, &labels), 1);

        assert_request_eq!(handle, "first").send_response("ok");
        assert_ready_ok!(response.poll());
        assert_eq!(recorded.gauge(IN_FLIGHT, &labels), 0.0);
        assert_eq!(recorded.counter(REFUSALS, &labels), 1);
    }

    #[test]
    fn an_unnamed_limit_reports_as_try_concurrency_limit_and_with_name_renames_it() {
        let recorded = Recorded::default();
        let (mut unnamed, _h1) =
            recorded.with(|| mock::spawn_with(|mock: Mock| TryConcurrencyLimit::new(mock, 0)));
        let (mut named, _h2) = recorded.with(|| {
            mock::spawn_with(|mock: Mock| TryConcurrencyLimit::new(mock, 0).with_name("named"))
        });
        for service in [&mut unnamed, &mut named] {
            assert_ready_ok!(service.poll_ready());
            drop(service.call("refused"));
        }
        let refusals = |name| recorded.counter(REFUSALS, &[("name", name)]);
        assert_eq!(refusals("try_concurrency_limit"), 1);
        assert_eq!(
            refusals("named"),
            1,
            "a renamed limit counts under its name only"
        );
    }
}

mod adaptive {
    use donjon::limit::adaptive::{AdaptiveConcurrencyLimit, AdaptiveConcurrencyLimitLayer, Aimd};

    use super::*;
    use crate::support::Boom;

    const LIMIT: &str = "donjon_adaptive_limit";
    const IN_FLIGHT: &str = "donjon_adaptive_limit_in_flight";

    #[tokio::test]
    async fn the_limit_follows_the_algorithm_and_in_flight_the_slots() {
        let recorded = Recorded::default();
        let layer = AdaptiveConcurrencyLimitLayer::new(Aimd::new().with_backoff_ratio(0.5))
            .with_initial_limit(10)
            .with_max_limit(100)
            .with_name("backend");
        let (mut service, mut handle) = recorded.with(|| mock::spawn_layer(layer));
        let labels = [("name", "backend")];
        assert_eq!(recorded.gauge(LIMIT, &labels), 10.0, "set when made");
        assert_eq!(recorded.gauge(IN_FLIGHT, &labels), 0.0);

        // A success raises the limit by one...
        assert_ready_ok!(service.poll_ready());
        assert_eq!(recorded.gauge(IN_FLIGHT, &labels), 1.0);
        round_trip(&mut service, &mut handle, "ok").await;
        assert_eq!(recorded.gauge(LIMIT, &labels), 11.0);
        assert_eq!(recorded.gauge(IN_FLIGHT, &labels), 0.0);

        // ...a failure halves it, and a dropped response moves nothing.
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("fail"));
        assert_request_eq!(handle, "fail").send_error(Boom("busy"));
        assert_ready_err!(response.poll());
        assert_eq!(recorded.gauge(LIMIT, &labels), 5.0);
        assert_ready_ok!(service.poll_ready());
        drop(service.call("dropped"));
        assert_eq!(recorded.gauge(LIMIT, &labels), 5.0);
        assert_eq!(recorded.gauge(IN_FLIGHT, &labels), 0.0);
    }

    #[test]
    fn an_unnamed_limit_reports_as_adaptive_concurrency_limit_and_with_name_renames_it() {
        let recorded = Recorded::default();
        let (_unnamed, _named) = recorded.with(|| {
            (
                AdaptiveConcurrencyLimit::new(crate::support::Echo, Aimd::new()),
                AdaptiveConcurrencyLimit::new(crate::support::Echo, Aimd::new())
                    .with_name(String::from("named")),
            )
        });
        let limit = |name| recorded.gauge(LIMIT, &[("name", name)]);
        assert_eq!(limit("adaptive_concurrency_limit"), 20.0);
        assert_eq!(limit("named"), 20.0);
    }

    #[test]
    #[should_panic(expected = "AdaptiveConcurrencyLimit::with_name names a limit as it is made")]
    fn naming_a_limit_a_handle_reads_panics() {
        let service = AdaptiveConcurrencyLimit::new(crate::support::Echo, Aimd::new());
        let _handle = service.handle();
        let _ = service.with_name("too late");
    }
}

mod rate {
    use std::time::Duration;

    use donjon::limit::rate::{Rate, RateLimit, RateLimitLayer};
    use tokio::time::advance;

    use super::*;

    const WAITS: &str = "donjon_rate_limit_waits_total";
    const PERIOD: Duration = Duration::from_millis(100);
    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn a_caller_made_to_wait_for_the_next_window_counts_once_per_wait() {
        let recorded = Recorded::default();
        let (mut service, mut handle) =
            recorded.with(|| mock::spawn_layer(RateLimitLayer::new(1, PERIOD).with_name("api")));
        let labels = [("name", "api"), ("limiter", "rate_limit")];

        assert_ready_ok!(service.poll_ready());
        round_trip(&mut service, &mut handle, "first").await;
        assert_eq!(recorded.counter(WAITS, &labels), 0, "within the budget");

        assert_pending!(service.poll_ready());
        assert_pending!(service.poll_ready());
        assert_eq!(
            recorded.counter(WAITS, &labels),
            1,
            "one wait, polled twice"
        );
        advance(PERIOD + MS).await;
        assert!(service.is_woken());
        assert_ready_ok!(service.poll_ready());
        round_trip(&mut service, &mut handle, "second").await;

        assert_pending!(service.poll_ready());
        assert_eq!(recorded.counter(WAITS, &labels), 2, "a wait of its own");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unnamed_limit_reports_as_rate_limit_and_with_name_renames_it() {
        let recorded = Recorded::default();
        let rate = Rate::new(1, PERIOD);
        let (mut unnamed, mut h1) =
            recorded.with(|| mock::spawn_with(|mock: Mock| RateLimit::new(mock, rate)));
        let (mut named, mut h2) = recorded
            .with(|| mock::spawn_with(|mock: Mock| RateLimit::new(mock, rate).with_name("named")));
        for (service, handle) in [(&mut unnamed, &mut h1), (&mut named, &mut h2)] {
            assert_ready_ok!(service.poll_ready());
            round_trip(service, handle, "first").await;
            assert_pending!(service.poll_ready());
        }
        let waits = |name| recorded.counter(WAITS, &[("name", name), ("limiter", "rate_limit")]);
        assert_eq!(waits("rate_limit"), 1);
        assert_eq!(waits("named"), 1);
    }
}

mod gcra {
    use std::time::Duration;

    use donjon::limit::gcra::{Gcra, GcraLayer, Quota};
    use tokio::time::advance;

    use super::*;

    const WAITS: &str = "donjon_rate_limit_waits_total";
    const MS: Duration = Duration::from_millis(1);

    /// 10 per second, a burst of one: one request per 100 ms.
    fn quota() -> Quota {
        Quota::per_second(10)
            .and_then(|quota| quota.with_burst(1))
            .expect("a valid quota")
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_over_the_limit_counts_once_per_wait() {
        let recorded = Recorded::default();
        let (mut service, mut handle) =
            recorded.with(|| mock::spawn_layer(GcraLayer::new(quota()).with_name("smooth")));
        let labels = [("name", "smooth"), ("limiter", "gcra")];

        assert_ready_ok!(service.poll_ready());
        round_trip(&mut service, &mut handle, "first").await;
        assert_pending!(service.poll_ready());
        advance(50 * MS).await;
        assert_pending!(service.poll_ready());
        assert_eq!(
            recorded.counter(WAITS, &labels),
            1,
            "one wait, polled twice"
        );

        advance(50 * MS).await;
        assert!(service.is_woken());
        assert_ready_ok!(service.poll_ready());
        round_trip(&mut service, &mut handle, "second").await;
        assert_pending!(service.poll_ready());
        assert_eq!(recorded.counter(WAITS, &labels), 2, "a wait of its own");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unnamed_limit_reports_as_gcra_and_with_name_renames_it() {
        let recorded = Recorded::default();
        let (mut unnamed, mut h1) =
            recorded.with(|| mock::spawn_with(|mock: Mock| Gcra::new(mock, quota())));
        let (mut named, mut h2) = recorded.with(|| {
            mock::spawn_with(|mock: Mock| Gcra::new(mock, quota()).with_name(String::from("named")))
        });
        for (service, handle) in [(&mut unnamed, &mut h1), (&mut named, &mut h2)] {
            assert_ready_ok!(service.poll_ready());
            round_trip(service, handle, "first").await;
            assert_pending!(service.poll_ready());
        }
        let waits = |name| recorded.counter(WAITS, &[("name", name), ("limiter", "gcra")]);
        assert_eq!(waits("gcra"), 1);
        assert_eq!(waits("named"), 1);
    }
}

mod keyed {
    use std::future::{Ready, ready};
    use std::time::Duration;

    use donjon::BoxError;
    use donjon::limit::gcra::Quota;
    use donjon::limit::keyed::error::RateLimited;
    use donjon::limit::keyed::{
        Answer, Decision, KeyedRateLimit, KeyedRateLimitLayer, MemoryStore, RateStore,
        SharedRateLimit, SharedRateLimitLayer,
    };
    use donjon::{Layer, Service};
    use tokio::time::advance;

    use super::*;
    use crate::support::Echo;

    const REFUSALS: &str = "donjon_rate_limit_refusals_total";
    const WAITS: &str = "donjon_rate_limit_waits_total";

    /// The client of a request.
    fn client(request: &(&'static str, u32)) -> &'static str {
        request.0
    }

    fn per_second() -> Quota {
        Quota::per_second(1).expect("a valid quota")
    }

    /// Calls `service` once it is ready.
    async fn call<S>(service: &mut S, request: (&'static str, u32)) -> Result<u32, BoxError>
    where
        S: Service<(&'static str, u32), Response = (&'static str, u32), Error = BoxError>,
    {
        std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
        service.call(request).await.map(|(_, n)| n)
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_over_its_keys_limit_is_refused_and_counted() {
        let recorded = Recorded::default();
        let layer = KeyedRateLimitLayer::new(MemoryStore::new(), client, per_second())
            .with_name("per_client");
        let mut service = recorded.with(|| layer.layer(Echo));
        let labels = [("name", "per_client"), ("limiter", "keyed_rate_limit")];

        assert_eq!(call(&mut service, ("alice", 1)).await.unwrap(), 1);
        assert_eq!(recorded.counter(REFUSALS, &labels), 0);
        let error = call(&mut service, ("alice", 2)).await.unwrap_err();
        assert!(error.is::<RateLimited>(), "unexpected error: {error}");
        assert_eq!(recorded.counter(REFUSALS, &labels), 1);
        assert_eq!(call(&mut service, ("bob", 3)).await.unwrap(), 3);
        assert_eq!(
            recorded.counter(REFUSALS, &labels),
            1,
            "Bob has his own limit"
        );
    }

    /// A store that answers later with `decision` (an error if `None`).
    #[derive(Clone)]
    struct Later(Option<Decision>);

    impl RateStore<&'static str> for Later {
        type Error = BoxError;
        type Future = Ready<Result<Decision, BoxError>>;

        fn acquire(&self, _: &&'static str, _: Quota) -> Answer<Self::Future, BoxError> {
            Answer::Later(ready(self.0.ok_or_else(|| BoxError::from("unreachable"))))
        }
    }

    #[tokio::test]
    async fn a_store_answering_later_counts_its_refusals_but_not_its_errors() {
        let recorded = Recorded::default();
        let limited = Decision::Limited {
            retry_after: Duration::from_secs(1),
        };
        let mut refusing = recorded.with(|| {
            KeyedRateLimit::new(Echo, Later(Some(limited)), client, per_second())
                .with_name("refusing")
        });
        let mut failing =
            recorded.with(|| KeyedRateLimit::new(Echo, Later(None), client, per_second()));
        let refusals =
            |name| recorded.counter(REFUSALS, &[("name", name), ("limiter", "keyed_rate_limit")]);

        let error = call(&mut refusing, ("alice", 1)).await.unwrap_err();
        assert!(error.is::<RateLimited>(), "unexpected error: {error}");
        assert_eq!(refusals("refusing"), 1);
        assert!(call(&mut failing, ("alice", 1)).await.is_err());
        assert_eq!(
            refusals("keyed_rate_limit"),
            0,
            "a store's error is no refusal"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_limit_counts_each_wait_once_however_often_it_asks_the_store() {
        let recorded = Recorded::default();
        let layer = SharedRateLimitLayer::new(MemoryStore::new(), "partner", per_second())
            .expect("a valid key")
            .with_name("partner_api");
        let (mut first, mut handle) = recorded.with(|| mock::spawn_layer(layer));
        let mut second = first.clone();
        let labels = [("name", "partner_api"), ("limiter", "shared_rate_limit")];

        assert_ready_ok!(first.poll_ready());
        round_trip(&mut first, &mut handle, "first").await;
        assert_pending!(second.poll_ready());
        assert_pending!(second.poll_ready());
        assert_eq!(
            recorded.counter(WAITS, &labels),
            1,
            "one wait, polled twice"
        );

        // A second later the first takes the key's request before the
        // second asks again: refused again, in the same wait.
        advance(Duration::from_secs(1)).await;
        assert_ready_ok!(first.poll_ready());
        round_trip(&mut first, &mut handle, "first again").await;
        assert!(second.is_woken());
        assert_pending!(second.poll_ready());
        assert_eq!(recorded.counter(WAITS, &labels), 1);
        advance(Duration::from_secs(1)).await;
        assert_ready_ok!(second.poll_ready());
        round_trip(&mut second, &mut handle, "second").await;
        assert_eq!(recorded.counter(WAITS, &labels), 1);

        assert_pending!(second.poll_ready());
        assert_eq!(recorded.counter(WAITS, &labels), 2, "a wait of its own");

        let _unnamed = recorded.with(|| {
            SharedRateLimit::new(Echo, MemoryStore::new(), "partner", per_second())
                .expect("a valid key")
        });
        let unnamed = [
            ("name", "shared_rate_limit"),
            ("limiter", "shared_rate_limit"),
        ];
        assert_eq!(recorded.counter(WAITS, &unnamed), 0);
    }
}
