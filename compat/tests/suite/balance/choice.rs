//! The choice of endpoint: the lower load wins, incomparable loads, a user's random numbers.

use super::*;

// No runtime: many channel operations in one task poll would run out of
// tokio's cooperative budget.
#[test]
fn the_most_loaded_of_three_is_never_picked() {
    let (low, mut h_low) = endpoint(1);
    let (mid, mut h_mid) = endpoint(5);
    let (high, mut h_high) = endpoint(9);
    let mut svc = Spawn::new(Balance::from_rng(
        ServiceList::new(vec![high, low, mid]),
        HasherRng::default(),
    ));
    let mut seen = BTreeMap::new();
    for _ in 0..200 {
        assert_ready_ok!(svc.poll_ready());
        let mut fut = task::spawn(svc.call("req"));
        let name = answer(
            &mut [
                ("low", &mut h_low),
                ("mid", &mut h_mid),
                ("high", &mut h_high),
            ],
            "req",
        );
        assert_eq!(assert_ready_ok!(fut.poll()), name);
        *seen.entry(name).or_insert(0) += 1;
    }
    assert!(!seen.contains_key("high"), "{seen:?}");
    assert!(seen["low"] > 0, "{seen:?}");
}

// No runtime: many channel operations in one task poll would run out of
// tokio's cooperative budget.
#[test]
fn of_two_ready_endpoints_the_lower_load_wins() {
    let (busy, mut h_busy) = endpoint(200);
    let (idle, mut h_idle) = endpoint(3);
    let mut svc = Spawn::new(Balance::new(ServiceList::new(vec![busy, idle])));
    for _ in 0..20 {
        assert_ready_ok!(svc.poll_ready());
        let mut fut = task::spawn(svc.call("req"));
        let name = answer(&mut [("busy", &mut h_busy), ("idle", &mut h_idle)], "req");
        assert_eq!(name, "idle");
        assert_eq!(assert_ready_ok!(fut.poll()), "idle");
    }
}

#[tokio::test]
async fn pending_requests_steer_calls_to_the_idle_endpoint() {
    let (a, mut ha) = mock::pair::<Req, Req>();
    let (b, mut hb) = mock::pair::<Req, Req>();
    let discover =
        PendingRequestsDiscover::new(ServiceList::new(vec![a, b]), CompleteOnResponse::default());
    let mut svc: Spawn<Balance<PendingRequestsDiscover<ServiceList<Vec<Mock<Req, Req>>>>, Req>> =
        Spawn::new(Balance::new(discover));

    // The first request is outstanding on one endpoint...
    assert_ready_ok!(svc.poll_ready());
    let mut first = task::spawn(svc.call("first"));
    let (first_name, first_send) = match (ha.poll_request(), hb.poll_request()) {
        (Poll::Ready(Some((_, send))), Poll::Pending) => ("a", send),
        (Poll::Pending, Poll::Ready(Some((_, send)))) => ("b", send),
        _ => panic!("exactly one endpoint gets the first request"),
    };

    // ...so the second goes to the other one.
    assert_ready_ok!(svc.poll_ready());
    let mut second = task::spawn(svc.call("second"));
    let (got, second_send) = match first_name {
        "a" => assert_ready!(hb.poll_request()).unwrap(),
        _ => assert_ready!(ha.poll_request()).unwrap(),
    };
    assert_eq!(got, "second");
    assert_pending!(ha.poll_request());
    assert_pending!(hb.poll_request());

    // The first finishes: its endpoint is now the idle one.
    first_send.send_response("one");
    assert_eq!(assert_ready_ok!(first.poll()), "one");
    assert_ready_ok!(svc.poll_ready());
    let _third = svc.call("third");
    let (got, _send) = match first_name {
        "a" => assert_ready!(ha.poll_request()).unwrap(),
        _ => assert_ready!(hb.poll_request()).unwrap(),
    };
    assert_eq!(got, "third");

    second_send.send_response("two");
    assert_eq!(assert_ready_ok!(second.poll()), "two");
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_steers_calls_away_from_a_slow_endpoint() {
    let (a, mut ha) = mock::pair::<Req, Req>();
    let (b, mut hb) = mock::pair::<Req, Req>();
    let discover = PeakEwmaDiscover::new(
        ServiceList::new(vec![a, b]),
        Duration::from_millis(10),
        Duration::from_secs(10),
        CompleteOnResponse::default(),
    );
    let mut svc = Spawn::new(Balance::new(discover));

    assert_ready_ok!(svc.poll_ready());
    let mut first = task::spawn(svc.call("first"));
    let (slow, send) = match (ha.poll_request(), hb.poll_request()) {
        (Poll::Ready(Some((_, send))), Poll::Pending) => ("a", send),
        (Poll::Pending, Poll::Ready(Some((_, send)))) => ("b", send),
        _ => panic!("exactly one endpoint gets the first request"),
    };
    tokio::time::advance(Duration::from_millis(500)).await;
    send.send_response("slow");
    assert_eq!(assert_ready_ok!(first.poll()), "slow");

    // The slow endpoint's estimate is 500 ms; the other's is under 10 ms.
    for _ in 0..5 {
        assert_ready_ok!(svc.poll_ready());
        let mut fut = task::spawn(svc.call("next"));
        let (fast_handle, slow_handle) = match slow {
            "a" => (&mut hb, &mut ha),
            _ => (&mut ha, &mut hb),
        };
        assert_pending!(slow_handle.poll_request());
        let (got, send) = assert_ready!(fast_handle.poll_request()).unwrap();
        assert_eq!(got, "next");
        send.send_response("fast");
        assert_eq!(assert_ready_ok!(fut.poll()), "fast");
    }
}

/// A user's two-criteria load: one endpoint is less loaded than another only
/// if it is no worse on both counts, so some loads cannot be compared.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Health {
    latency: u32,
    errors: u32,
}

impl PartialOrd for Health {
    fn partial_cmp(&self, other: &Health) -> Option<std::cmp::Ordering> {
        use std::cmp::Ordering::Equal;
        match (
            self.latency.cmp(&other.latency),
            self.errors.cmp(&other.errors),
        ) {
            (a, b) if a == b => Some(a),
            (Equal, o) | (o, Equal) => Some(o),
            _ => None,
        }
    }
}

/// Upstream keeps the first sampled endpoint only when its load is lower
/// than or equal to the second's (`a <= b`); when the two loads cannot be
/// compared, the second sampled one is taken. With a user's generator the
/// pick is therefore known.
#[test]
fn incomparable_loads_go_to_the_second_sampled_endpoint() {
    let fast_but_failing = Health {
        latency: 1,
        errors: 9,
    };
    let slow_but_sound = Health {
        latency: 9,
        errors: 1,
    };
    assert_eq!(fast_but_failing.partial_cmp(&slow_but_sound), None);

    let (x, mut hx) = mock::pair::<Req, Req>();
    let (y, mut hy) = mock::pair::<Req, Req>();
    let (tx, rx) =
        unbounded_channel::<Result<Change<u8, Constant<Mock<Req, Req>, Health>>, BoxError>>();
    // Words for the samples: `[a, b]` is `[0, 1]` when the second word is
    // odd and `[1, 0]` when it is even (two endpoints).
    let words = [7u64, 3, 7, 4, 7, 5, 7, 6, 7, 9, 7, 8];
    let mut balance = Balance::<_, Req>::from_rng(
        UnboundedReceiverStream::new(rx),
        Words(words.iter().copied().collect()),
    );
    let mut task = task::spawn(());
    tx.send(Ok(Change::Insert(0, Constant::new(x, fast_but_failing))))
        .unwrap();
    assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
    tx.send(Ok(Change::Insert(1, Constant::new(y, slow_but_sound))))
        .unwrap();
    // `y` becomes ready too, but `x` was already picked: no sampling yet.
    assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
    assert_eq!(balance.len(), 2);
    let mut fut = task::spawn(balance.call("warm-up"));
    assert_eq!(
        answer(&mut [("x", &mut hx), ("y", &mut hy)], "warm-up"),
        "x"
    );
    assert_ready_ok!(fut.poll());

    // The ready order is known: `x` left its slot to `y` and comes back
    // after it.
    let mut order = vec!["y", "x"];
    for (round, pair) in words.chunks(2).enumerate() {
        let second = (pair[1] % 2) as usize;
        let expected = order[second];
        assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
        let mut fut = task::spawn(balance.call("req"));
        let got = answer(&mut [("x", &mut hx), ("y", &mut hy)], "req");
        assert_eq!(got, expected, "round {round}");
        assert_ready_ok!(fut.poll());
        let used = order.remove(second);
        order.push(used);
    }
}

/// Replays fixed words, as a user's seeded generator would give.
#[derive(Debug)]
struct Words(std::collections::VecDeque<u64>);

impl Rng for Words {
    fn next_u64(&mut self) -> u64 {
        self.0
            .pop_front()
            .expect("the balancer asked for too many words")
    }
}

/// With equal loads the first of the two sampled endpoints is taken; the
/// sampling and the ready set's order (insertion order, a used endpoint
/// leaving its slot to the last one and coming back at the end) are what
/// upstream documents, so a user's generator gives the same picks.
#[test]
fn a_user_rng_decides_between_equal_loads() {
    let words: Vec<u64> = {
        let mut rng = HasherRng::with_hasher(Seed(42));
        (0..60).map(|_| rng.next_u64()).collect()
    };
    let mut task = task::spawn(());
    let (tx, rx) = unbounded_channel::<Result<Change<&'static str, Endpoint>, BoxError>>();
    let mut balance = Balance::<_, Req>::from_rng(
        UnboundedReceiverStream::new(rx),
        Words(words.iter().copied().collect()),
    );

    // Endpoints become ready one at a time, so the ready order is known.
    let mut handles = Vec::new();
    for name in ["a", "b", "c"] {
        let (svc, handle) = endpoint(0);
        tx.send(Ok(Change::Insert(name, svc))).unwrap();
        handles.push((name, handle));
        assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
    }
    let mut order = vec!["a", "b", "c"];
    let mut words = words.into_iter();
    // The first poll saw one endpoint (no sampling); the second two
    // endpoints while one was already picked (re-checked, no sampling); the
    // third likewise. So nothing was sampled yet and "a" is picked.
    let mut picked = Some(0usize);
    for round in 0..25 {
        let index = match picked.take() {
            Some(index) => index,
            None => {
                let len = order.len() as u64;
                let a = words.next().unwrap() % (len - 1);
                let b = words.next().unwrap() % len;
                (if a == b { len - 1 } else { a }) as usize
            }
        };
        let expected = order[index];
        assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
        let mut fut = task::spawn(balance.call("req"));
        let mut refs: Vec<(&'static str, &mut Handle<Req, Req>)> =
            handles.iter_mut().map(|(n, h)| (*n, h)).collect();
        let got = answer(&mut refs, "req");
        assert_eq!(got, expected, "round {round}");
        assert_eq!(assert_ready_ok!(fut.poll()), got);
        // The used endpoint leaves its slot to the last one and comes back
        // at the end once ready again.
        let used = order.swap_remove(index);
        order.push(used);
    }
}
