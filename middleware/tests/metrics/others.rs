//! The metrics of the middleware other than the circuit breaker: each
//! module drives one middleware through the scenario that moves its
//! metrics, and reads them back from a recorder of its own.

#[cfg(feature = "load-shed")]
mod load_shed {
    use donjon::load_shed::error::Overloaded;
    use donjon::load_shed::{LoadShed, LoadShedLayer};
    use donjon_test::assert_request_eq;
    use donjon_test::mock::{self, Spawn};
    use tokio_test::{assert_ready_err, assert_ready_ok, task};

    use crate::support::recorder::Recorded;

    type Mock = mock::Mock<&'static str, &'static str>;
    type Handle = mock::Handle<&'static str, &'static str>;

    const SHED: &str = "donjon_load_shed_total";

    /// Sends one request through `service` while `handle` allows no call:
    /// it is shed.
    fn shed_one(service: &mut Spawn<LoadShed<Mock>>, handle: &mut Handle) {
        handle.allow(0);
        assert_ready_ok!(service.poll_ready(), "a load shed is always ready");
        let mut response = task::spawn(service.call("hello"));
        let error = assert_ready_err!(response.poll());
        assert!(error.is::<Overloaded>(), "unexpected error: {error}");
    }

    #[tokio::test]
    async fn shed_requests_are_counted_under_the_layers_name_and_served_ones_are_not() {
        let recorded = Recorded::default();
        let (mut service, mut handle) =
            recorded.with(|| mock::spawn_layer(LoadShedLayer::new().with_name("api")));
        assert_eq!(recorded.counter(SHED, &[("name", "api")]), 0);

        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("hello"));
        assert_request_eq!(handle, "hello").send_response("world");
        assert_ready_ok!(response.poll());
        assert_eq!(recorded.counter(SHED, &[("name", "api")]), 0);

        shed_one(&mut service, &mut handle);
        shed_one(&mut service, &mut handle);
        assert_eq!(recorded.counter(SHED, &[("name", "api")]), 2);
    }

    #[test]
    fn clones_count_into_the_same_counter() {
        let recorded = Recorded::default();
        let (mock, mut handle) = mock::pair();
        let original = recorded.with(|| LoadShed::new(mock).with_name("direct"));
        let mut clone = Spawn::new(original.clone());
        let mut original = Spawn::new(original);
        shed_one(&mut original, &mut handle);
        shed_one(&mut clone, &mut handle);
        assert_eq!(recorded.counter(SHED, &[("name", "direct")]), 2);
    }

    #[test]
    fn an_unnamed_layer_counts_as_load_shed() {
        let recorded = Recorded::default();
        let (mut service, mut handle) = recorded.with(|| mock::spawn_layer(LoadShedLayer::new()));
        shed_one(&mut service, &mut handle);
        assert_eq!(recorded.counter(SHED, &[("name", "load_shed")]), 1);
    }
}

#[cfg(feature = "fallback")]
mod fallback {
    use std::task::Poll;

    use donjon::fallback::{Failure, Fallback, FallbackLayer};
    use donjon::{Layer, Service};
    use donjon_test::assert_request_eq;
    use donjon_test::mock::{self, Handle, Mock};
    use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

    use crate::support::Boom;
    use crate::support::recorder::Recorded;

    type Msg = &'static str;
    type Backup = Mock<Failure<Msg, Msg>, Msg>;

    const FALLBACKS: &str = "donjon_fallbacks_total";

    /// Sends `request` through `service`: the primary fails it, and the
    /// fallback answers with `answer`, a response or (`Err`) an error.
    async fn fall_back<S>(
        service: &mut S,
        primary: &mut Handle<Msg, Msg>,
        backup: &mut Handle<Failure<Msg, Msg>, Msg>,
        answer: Result<Msg, Boom>,
    ) where
        S: Service<Msg, Response = Msg, Error = donjon::BoxError>,
    {
        futures::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .expect("ready");
        let mut response = task::spawn(service.call("hello"));
        assert_request_eq!(primary, "hello").send_error(Boom("primary"));
        assert_pending!(response.poll(), "waiting for the fallback");
        let Poll::Ready(Some((_, reply))) = backup.poll_request() else {
            panic!("the fallback got no request");
        };
        match answer {
            Ok(answer) => {
                reply.send_response(answer);
                assert_eq!(assert_ready_ok!(response.poll()), answer);
            }
            Err(error) => {
                reply.send_error(error);
                assert_ready_err!(response.poll());
            }
        }
    }

    #[tokio::test]
    async fn calls_the_fallback_answers_are_counted_and_others_are_not() {
        let recorded = Recorded::default();
        let (backup, mut backup_handle) = mock::pair::<Failure<Msg, Msg>, Msg>();
        let (primary, mut primary_handle) = mock::pair::<Msg, Msg>();
        let mut service = recorded.with(|| {
            FallbackLayer::new(backup)
                .with_name("profile")
                .layer(primary)
        });
        let count = || recorded.counter(FALLBACKS, &[("name", "profile")]);
        assert_eq!(count(), 0);

        // A call the primary answers: no fallback.
        futures::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .expect("ready");
        let mut response = task::spawn(service.call("hello"));
        assert_request_eq!(primary_handle, "hello").send_response("world");
        assert_ready_ok!(response.poll());
        assert_eq!(count(), 0);

        fall_back(
            &mut service,
            &mut primary_handle,
            &mut backup_handle,
            Ok("stale"),
        )
        .await;
        assert_eq!(count(), 1);

        // The fallback fails too: the call is not answered by it.
        fall_back(
            &mut service,
            &mut primary_handle,
            &mut backup_handle,
            Err(Boom("backup")),
        )
        .await;
        assert_eq!(count(), 1);
    }

    #[tokio::test]
    async fn a_named_service_and_its_clones_share_the_counter_and_the_layer_defaults_to_fallback() {
        let recorded = Recorded::default();
        let (backup, mut backup_handle) = mock::pair::<Failure<Msg, Msg>, Msg>();
        let (primary, mut primary_handle) = mock::pair::<Msg, Msg>();
        let mut service = recorded.with(|| {
            Fallback::<Mock<Msg, Msg>, Backup>::new(primary, backup.clone()).with_name("direct")
        });
        let mut clone = service.clone();
        for service in [&mut service, &mut clone] {
            fall_back(
                service,
                &mut primary_handle,
                &mut backup_handle,
                Ok("stale"),
            )
            .await;
        }
        assert_eq!(recorded.counter(FALLBACKS, &[("name", "direct")]), 2);

        let (primary, mut primary_handle) = mock::pair::<Msg, Msg>();
        let mut layered = recorded.with(|| FallbackLayer::new(backup).layer(primary));
        fall_back(
            &mut layered,
            &mut primary_handle,
            &mut backup_handle,
            Ok("stale"),
        )
        .await;
        assert_eq!(recorded.counter(FALLBACKS, &[("name", "fallback")]), 1);
    }
}

#[cfg(feature = "retry")]
mod retry {
    use std::future::{Ready, ready};
    use std::time::Duration;

    use donjon::retry::budget::{Budget, TpsBudget};
    use donjon::retry::{Policy, Retry, RetryLayer};
    use donjon_test::assert_request_eq;
    use donjon_test::mock::{self, Spawn};
    use tokio_test::{assert_pending, assert_ready_ok, task};

    use crate::support::Boom;
    use crate::support::recorder::Recorded;

    type Mock = mock::Mock<&'static str, &'static str>;
    type Handle = mock::Handle<&'static str, &'static str>;

    const RETRIES: &str = "donjon_retries_total";
    const BALANCE: &str = "donjon_retry_budget_balance";

    /// Retries errors, at once, up to `left` more times.
    #[derive(Clone)]
    struct Attempts {
        left: usize,
    }

    impl<Req: Clone, Res, E> Policy<Req, Res, E> for Attempts {
        type Future = Ready<()>;

        fn retry(&mut self, _: &mut Req, result: &mut Result<Res, E>) -> Option<Ready<()>> {
            if result.is_err() && self.left > 0 {
                self.left -= 1;
                Some(ready(()))
            } else {
                None
            }
        }

        fn clone_request(&mut self, request: &Req) -> Option<Req> {
            Some(request.clone())
        }
    }

    /// Sends one request, which fails `failures` times before it is
    /// answered.
    async fn fails_then_answers(
        service: &mut Spawn<Retry<Attempts, Mock>>,
        handle: &mut Handle,
        failures: usize,
    ) {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("hello"));
        for _ in 0..failures {
            assert_request_eq!(handle, "hello").send_error(Boom("flaked"));
            assert_pending!(response.poll());
        }
        assert_request_eq!(handle, "hello").send_response("world");
        assert_eq!(assert_ready_ok!(response.poll()), "world");
    }

    #[tokio::test]
    async fn retries_are_counted_and_first_attempts_are_not() {
        let recorded = Recorded::default();
        let layer = RetryLayer::new(Attempts { left: 5 }).with_name("api");
        let (mut service, mut handle) = recorded.with(|| mock::spawn_layer(layer));
        let retries = || recorded.counter(RETRIES, &[("name", "api")]);

        fails_then_answers(&mut service, &mut handle, 0).await;
        assert_eq!(retries(), 0);
        fails_then_answers(&mut service, &mut handle, 2).await;
        assert_eq!(retries(), 2);
        fails_then_answers(&mut service, &mut handle, 1).await;
        assert_eq!(retries(), 3);
    }

    #[tokio::test]
    async fn a_named_service_counts_and_the_layer_defaults_to_retry() {
        let recorded = Recorded::default();
        let (mut direct, mut handle) = recorded.with(|| {
            mock::spawn_with(|mock: Mock| {
                Retry::new(Attempts { left: 5 }, mock).with_name("direct")
            })
        });
        fails_then_answers(&mut direct, &mut handle, 1).await;
        assert_eq!(recorded.counter(RETRIES, &[("name", "direct")]), 1);

        let (mut layered, mut handle) =
            recorded.with(|| mock::spawn_layer(RetryLayer::new(Attempts { left: 5 })));
        fails_then_answers(&mut layered, &mut handle, 1).await;
        assert_eq!(recorded.counter(RETRIES, &[("name", "retry")]), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budgets_balance_is_recorded_at_each_withdrawal() {
        let recorded = Recorded::default();
        // Two requests pay for one retry; no minimum.
        let budget =
            recorded.with(|| TpsBudget::new(Duration::from_secs(10), 0, 0.5).with_name("api"));
        let balance = || recorded.gauge(BALANCE, &[("name", "api")]);
        assert_eq!(balance(), 0.0);

        for _ in 0..5 {
            budget.deposit();
        }
        assert_eq!(balance(), 0.0, "deposits are not recorded");
        assert!(budget.withdraw());
        assert_eq!(
            balance(),
            1.0,
            "five requests paid for two retries; one is left"
        );
        assert!(budget.withdraw());
        assert_eq!(balance(), 0.0);
        assert!(!budget.withdraw());
        assert_eq!(balance(), 0.0);

        // The deposits age out; a refused withdrawal still records.
        budget.deposit();
        budget.deposit();
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(!budget.withdraw());
        assert_eq!(balance(), 0.0);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unnamed_budget_starts_at_its_reserve_under_tps_budget() {
        let recorded = Recorded::default();
        // At least 2 retries per second over a 3-second window.
        let budget = recorded.with(|| TpsBudget::new(Duration::from_secs(3), 2, 0.1));
        let balance = || recorded.gauge(BALANCE, &[("name", "tps_budget")]);
        assert_eq!(balance(), 6.0);
        assert!(budget.withdraw());
        assert_eq!(balance(), 5.0);
    }
}

#[cfg(feature = "hedge")]
mod hedge {
    use std::task::Poll;
    use std::time::Duration;

    use donjon::hedge::Hedge;
    use donjon_test::mock::{self, SendResponse, Spawn};
    use tokio::time::advance;
    use tokio_test::{assert_pending, assert_ready_ok, task};

    use crate::support::HedgeEvery;
    use crate::support::recorder::Recorded;

    type Req = &'static str;
    type Mock = mock::Mock<Req, Req>;
    type Handle = mock::Handle<Req, Req>;

    const SENT: &str = "donjon_hedges_total";
    const WON: &str = "donjon_hedges_won_total";
    /// The hedge delay of [`hedged`]: the 0.9 quantile of its latencies.
    const DELAY: Duration = Duration::from_millis(10);

    /// A hedge around a fresh mock (whose clones share its handle), hedging
    /// after [`DELAY`], its handles taken from `recorded`.
    fn hedged(
        recorded: &Recorded,
        name: Option<&'static str>,
    ) -> (Spawn<Hedge<Mock, HedgeEvery>>, Handle) {
        recorded.with(|| {
            mock::spawn_with(|mock: Mock| {
                let latencies = [1, 1, 1, 1, 1, 1, 1, 1, 10, 10];
                let period = Duration::from_secs(60);
                let hedge =
                    Hedge::new_with_mock_latencies(mock, HedgeEvery, 10, 0.9, period, &latencies);
                match name {
                    Some(name) => hedge.with_name(name),
                    None => hedge,
                }
            })
        })
    }

    /// The next request the mock received.
    fn next_request(handle: &mut Handle) -> SendResponse<Req> {
        match handle.poll_request() {
            Poll::Ready(Some((_, send))) => send,
            _ => panic!("the mock received no request"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn hedges_sent_and_hedges_that_answered_first_are_counted() {
        let recorded = Recorded::default();
        let (mut service, mut handle) = hedged(&recorded, Some("search"));
        let sent = || recorded.counter(SENT, &[("name", "search")]);
        let won = || recorded.counter(WON, &[("name", "search")]);

        // Answered within the delay: no hedge.
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("fast"));
        next_request(&mut handle).send_response("fast");
        assert_ready_ok!(response.poll());
        assert_eq!((sent(), won()), (0, 0));

        // Slow: hedged, and the original answers first.
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("slow"));
        let original = next_request(&mut handle);
        assert_pending!(response.poll());
        advance(DELAY + Duration::from_millis(1)).await;
        assert_pending!(response.poll());
        let _hedge = next_request(&mut handle);
        assert_eq!((sent(), won()), (1, 0));
        original.send_response("original");
        assert_eq!(assert_ready_ok!(response.poll()), "original");
        assert_eq!((sent(), won()), (1, 0));

        // Slow again: hedged, and the hedge answers first.
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("slow"));
        let _original = next_request(&mut handle);
        assert_pending!(response.poll());
        advance(DELAY + Duration::from_millis(1)).await;
        assert_pending!(response.poll());
        next_request(&mut handle).send_response("hedge");
        assert_eq!(assert_ready_ok!(response.poll()), "hedge");
        assert_eq!((sent(), won()), (2, 1));
    }

    #[tokio::test]
    #[should_panic(expected = "a Hedge is named before its first request")]
    async fn naming_a_hedge_with_a_request_in_flight_panics() {
        let recorded = Recorded::default();
        let (mut service, _handle) = hedged(&recorded, None);
        assert_ready_ok!(service.poll_ready());
        let _response = service.call("in flight");
        let _renamed = service.into_inner().with_name("too late");
    }

    #[test]
    fn an_unnamed_hedge_reports_as_hedge() {
        let recorded = Recorded::default();
        let _service = hedged(&recorded, None);
        assert_eq!(recorded.counter(SENT, &[("name", "hedge")]), 0);
        assert_eq!(recorded.counter(WON, &[("name", "hedge")]), 0);
    }
}

#[cfg(feature = "balance")]
mod balance {
    use donjon::balance::p2c::{Balance, MakeBalanceLayer};
    use donjon::discover::{Change, ServiceList};
    use donjon::load::Constant;
    use donjon::{BoxError, Layer, ServiceExt, service_fn};
    use donjon_test::mock::{self, Spawn};
    use tokio_stream::wrappers::UnboundedReceiverStream;
    use tokio_test::{assert_pending, assert_ready_ok};

    use crate::support::Echo;
    use crate::support::recorder::Recorded;

    type Req = &'static str;
    type Endpoint = Constant<mock::Mock<Req, Req>, u32>;
    type Changes = UnboundedReceiverStream<Result<Change<u32, Endpoint>, &'static str>>;

    const ENDPOINTS: &str = "donjon_balancer_endpoints";

    /// The ready and pending endpoints the gauges show for `name`.
    fn shown(recorded: &Recorded, name: &str) -> (f64, f64) {
        let gauge = |state| recorded.gauge(ENDPOINTS, &[("name", name), ("state", state)]);
        (gauge("ready"), gauge("pending"))
    }

    #[tokio::test]
    async fn the_gauges_follow_the_endpoints_as_they_come_get_ready_and_go() {
        let recorded = Recorded::default();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut balance: Spawn<Balance<Changes, Req>> = recorded.with(|| {
            Spawn::new(Balance::new(UnboundedReceiverStream::new(rx)).with_name("backends"))
        });
        assert_eq!(shown(&recorded, "backends"), (0.0, 0.0));
        assert_pending!(balance.poll_ready());

        let (ready, _ready_handle) = mock::pair();
        let (slow, mut slow_handle) = mock::pair();
        slow_handle.allow(0);
        tx.send(Ok(Change::Insert(1, Constant::new(ready, 0))))
            .expect("the balancer listens");
        tx.send(Ok(Change::Insert(2, Constant::new(slow, 0))))
            .expect("the balancer listens");
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(shown(&recorded, "backends"), (1.0, 1.0));

        slow_handle.allow(1);
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(shown(&recorded, "backends"), (2.0, 0.0));

        tx.send(Ok(Change::Remove(1)))
            .expect("the balancer listens");
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(shown(&recorded, "backends"), (1.0, 0.0));

        // Renamed, its endpoints move to the new name.
        let balance = recorded.with(|| balance.into_inner().with_name("renamed"));
        assert_eq!(shown(&recorded, "backends"), (0.0, 0.0));
        assert_eq!(shown(&recorded, "renamed"), (1.0, 0.0));

        drop(balance);
        assert_eq!(
            shown(&recorded, "renamed"),
            (0.0, 0.0),
            "a dropped balancer takes its endpoints away"
        );
    }

    #[tokio::test]
    async fn balancers_made_under_one_name_add_up() {
        let recorded = Recorded::default();
        let discover = service_fn(|_: ()| async {
            Ok::<_, BoxError>(ServiceList::new::<Req>(vec![Constant::new(Echo, 0)]))
        });
        let make = MakeBalanceLayer::new().layer(discover);
        let mut first = recorded
            .with(|| futures::executor::block_on(make.clone().oneshot(())).expect("a balancer"));
        let mut second = recorded
            .with(|| futures::executor::block_on(make.clone().oneshot(())).expect("a balancer"));
        futures::future::poll_fn(|cx| donjon::Service::<Req>::poll_ready(&mut first, cx))
            .await
            .expect("ready");
        assert_eq!(shown(&recorded, "balance"), (1.0, 0.0));
        futures::future::poll_fn(|cx| donjon::Service::<Req>::poll_ready(&mut second, cx))
            .await
            .expect("ready");
        assert_eq!(shown(&recorded, "balance"), (2.0, 0.0));
        drop(first);
        assert_eq!(shown(&recorded, "balance"), (1.0, 0.0));
    }

    #[tokio::test(start_paused = true)]
    async fn outlier_detection_records_the_endpoints_ejected_and_each_ejection() {
        use std::time::Duration;

        use donjon::balance::outlier::OutlierDetection;
        use donjon::{Service, ServiceExt};

        let recorded = Recorded::default();
        let detector = recorded.with(|| {
            OutlierDetection::new()
                .with_consecutive_failures(2)
                .with_max_ejection_share(1.0)
                .without_success_rate()
                .with_name("backends")
                .detector()
        });
        let ejected = || recorded.gauge("donjon_outlier_ejected", &[("name", "backends")]);
        let ejections = || {
            recorded.counter(
                "donjon_outlier_ejections_total",
                &[("name", "backends"), ("reason", "consecutive_failures")],
            )
        };
        let failing = || service_fn(|_: Req| async { Err::<Req, BoxError>("down".into()) });
        let (mut a, mut b) = (detector.wrap(failing()), detector.wrap(failing()));
        for endpoint in [&mut a, &mut b] {
            for _ in 0..2 {
                let _ = endpoint.ready().await.unwrap().call("hello").await;
            }
        }
        assert_eq!((ejected(), ejections()), (2.0, 2));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(detector.ejected_len(), 0, "both back after 30 s");
        assert_eq!((ejected(), ejections()), (0.0, 2));
        drop((a, b));
    }
}

#[cfg(feature = "buffer")]
mod buffer {
    use donjon::buffer::{self, Buffer, BufferLayer};
    use donjon_test::assert_request_eq;
    use donjon_test::mock::{self, Spawn};
    use tokio_test::{assert_pending, assert_ready_ok, task};

    use crate::support::recorder::Recorded;

    type Msg = &'static str;
    type Mock = mock::Mock<Msg, Msg>;
    type MockBuffer = Buffer<Msg, mock::future::ResponseFuture<Msg>>;

    const DEPTH: &str = "donjon_buffer_queue_depth";

    fn depth(recorded: &Recorded, name: &str) -> f64 {
        recorded.gauge(DEPTH, &[("name", name)])
    }

    /// Queues `request` (the buffer has a place for it).
    fn queue(
        caller: &mut Spawn<MockBuffer>,
        request: Msg,
    ) -> task::Spawn<buffer::future::ResponseFuture<mock::future::ResponseFuture<Msg>>> {
        assert_ready_ok!(caller.poll_ready());
        task::spawn(caller.call(request))
    }

    #[tokio::test]
    async fn the_depth_counts_the_requests_queued_until_the_worker_takes_them() {
        let recorded = Recorded::default();
        let (mock, mut handle) = mock::pair::<Msg, Msg>();
        let (caller, worker) = recorded.with(|| {
            let (caller, worker) = Buffer::<Msg, _>::pair::<Mock>(mock, 10);
            (caller.with_name("queue"), worker)
        });
        let mut caller = Spawn::new(caller);
        let mut worker = task::spawn(worker);
        assert_eq!(depth(&recorded, "queue"), 0.0);

        let _first = queue(&mut caller, "first");
        let _second = queue(&mut caller, "second");
        let third = queue(&mut caller, "third");
        assert_eq!(depth(&recorded, "queue"), 3.0);

        // The service takes one request: the worker calls it with the
        // first, then takes the second and holds it until the service is
        // ready again.
        handle.allow(1);
        assert_pending!(worker.poll());
        assert_request_eq!(handle, "first").send_response("one");
        assert_eq!(depth(&recorded, "queue"), 1.0, "the third is queued");

        // A request cancelled while queued counts until the worker reaches
        // it.
        drop(third);
        assert_eq!(depth(&recorded, "queue"), 1.0);
        handle.allow(5);
        assert_pending!(worker.poll());
        assert_request_eq!(handle, "second").send_response("two");
        assert_eq!(depth(&recorded, "queue"), 0.0);

        // The worker goes: the requests queued are failed, and leave.
        let _fourth = queue(&mut caller, "fourth");
        assert_eq!(depth(&recorded, "queue"), 1.0);
        drop(worker);
        assert_eq!(depth(&recorded, "queue"), 0.0);
    }

    #[tokio::test]
    async fn renaming_moves_the_queued_requests_to_the_new_name() {
        let recorded = Recorded::default();
        let (mock, _handle) = mock::pair::<Msg, Msg>();
        let (caller, _worker) = recorded.with(|| Buffer::<Msg, _>::pair::<Mock>(mock, 10));
        let mut caller = Spawn::new(caller);
        let _queued = queue(&mut caller, "queued");
        assert_eq!(depth(&recorded, "buffer"), 1.0, "unnamed, it is the buffer");

        let caller = recorded.with(|| caller.into_inner().with_name("renamed"));
        assert_eq!(depth(&recorded, "buffer"), 0.0);
        assert_eq!(depth(&recorded, "renamed"), 1.0);
        drop(caller);
    }

    #[tokio::test]
    async fn a_layers_buffer_counts_only_the_requests_it_queues() {
        let recorded = Recorded::default();
        let (mut caller, mut handle) = recorded
            .with(|| mock::spawn_layer::<Msg, Msg, _>(BufferLayer::new(5).with_name("layered")));

        // Ready and free: called directly, never queued.
        let response = queue(&mut caller, "direct");
        assert_eq!(depth(&recorded, "layered"), 0.0);
        assert_request_eq!(handle, "direct").send_response("ok");
        assert_eq!(response.await.expect("answered"), "ok");

        // Not ready: queued, until the worker takes it.
        handle.allow(0);
        let response = queue(&mut caller, "queued");
        assert_eq!(depth(&recorded, "layered"), 1.0);
        handle.allow(1);
        assert_request_eq!(handle, "queued").send_response("ok");
        assert_eq!(depth(&recorded, "layered"), 0.0);
        assert_eq!(response.await.expect("answered"), "ok");

        let (_unnamed, _handle) =
            recorded.with(|| mock::spawn_layer::<Msg, Msg, _>(BufferLayer::new(5)));
        assert_eq!(depth(&recorded, "buffer"), 0.0);
    }
}

#[cfg(feature = "throttle")]
mod throttle {
    use donjon::throttle::ThrottleLayer;
    use donjon::throttle::error::Throttled;
    use donjon::{BoxError, Layer, Service, ServiceExt, service_fn};

    use crate::support::recorder::Recorded;

    const THROTTLED: &str = "donjon_throttled_total";
    const PROBABILITY: &str = "donjon_throttle_probability";

    #[tokio::test(start_paused = true)]
    async fn refusals_and_the_probability_are_recorded_under_the_layers_name() {
        let recorded = Recorded::default();
        let backend = service_fn(|_: u32| async { Err::<u32, BoxError>("refused".into()) });
        let mut client = recorded.with(|| {
            ThrottleLayer::new()
                .seed(5)
                .with_name("search")
                .layer(backend)
        });
        let name = [("name", "search")];
        assert_eq!(recorded.counter(THROTTLED, &name), 0);

        let mut throttled = 0;
        for n in 0..50 {
            let error = client.ready().await.unwrap().call(n).await.unwrap_err();
            if error.is::<Throttled>() {
                assert_eq!(donjon::metrics::error_kind(&error), "throttled");
                throttled += 1;
            } else {
                assert_eq!(donjon::metrics::error_kind(&error), "other");
            }
        }
        assert!(throttled > 0);
        assert_eq!(recorded.counter(THROTTLED, &name), throttled);
        // 50 requests, none accepted: 50 / 51.
        assert!((recorded.gauge(PROBABILITY, &name) - 50.0 / 51.0).abs() < 1e-12);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unnamed_layer_records_as_throttle() {
        let recorded = Recorded::default();
        let backend = service_fn(|_: u32| async { Err::<u32, BoxError>("refused".into()) });
        let client = recorded.with(|| ThrottleLayer::new().layer(backend));
        assert!(client.oneshot(1).await.is_err());
        assert!((recorded.gauge(PROBABILITY, &[("name", "throttle")]) - 0.5).abs() < 1e-12);
    }
}

#[cfg(feature = "priority")]
mod priority {
    use donjon::priority::{Priority, PriorityShedLayer};
    use donjon::{BoxError, Layer, Service, ServiceExt, service_fn};

    use crate::support::recorder::Recorded;

    const REFUSALS: &str = "donjon_priority_refusals_total";

    #[tokio::test]
    async fn refusals_are_counted_by_class_under_the_layers_name() {
        let recorded = Recorded::default();
        let backend = service_fn(|_: Priority| std::future::pending::<Result<(), BoxError>>());
        let mut service = recorded.with(|| {
            PriorityShedLayer::new(2, |class: &Priority| *class)
                .with_name("api")
                .layer(backend)
        });
        // Limits: sheddable 1, sheddable-plus 1, critical 1, critical-plus 2.
        let _held = service.ready().await.unwrap().call(Priority::Sheddable);
        for class in [Priority::Sheddable, Priority::Sheddable, Priority::Critical] {
            assert!(service.ready().await.unwrap().call(class).await.is_err());
        }
        let count = |class: &'static str| {
            recorded.counter(REFUSALS, &[("name", "api"), ("priority", class)])
        };
        assert_eq!(count("SHEDDABLE"), 2);
        assert_eq!(count("CRITICAL"), 1);
        assert_eq!(count("SHEDDABLE_PLUS"), 0);
        assert_eq!(count("CRITICAL_PLUS"), 0);
    }
}
