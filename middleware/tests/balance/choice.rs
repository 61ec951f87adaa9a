//! The choice of endpoint: of the two sampled, the lower load wins (constant
//! loads, pending requests, peak EWMA); the given random number generator
//! drives the sampling.

use super::*;

#[test]
fn with_two_endpoints_the_lower_load_gets_every_request() {
    for loads in [[0, 100], [100, 0]] {
        let (a, mut handle_a) = open_endpoint(loads[0]);
        let (b, mut handle_b) = open_endpoint(loads[1]);
        let mut balance = Spawn::new(Balance::from_rng(
            ServiceList::new(vec![a, b]),
            seeded_rng(),
        ));
        let lower = if loads[0] < loads[1] { 0 } else { 1 };
        for _ in 0..50 {
            assert_ready_ok!(balance.poll_ready());
            assert_eq!(
                route(&mut balance, &mut [&mut handle_a, &mut handle_b]),
                lower,
                "loads {loads:?}"
            );
        }
    }
}

/// A mock endpoint whose `load` is logged, so that a test sees which
/// endpoints the balancer sampled, in which order.
#[derive(Debug)]
struct Logged {
    name: &'static str,
    load: u32,
    inner: Mock,
    log: Arc<Mutex<Vec<&'static str>>>,
}

impl Load for Logged {
    type Metric = u32;

    fn load(&self) -> u32 {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.name);
        self.load
    }
}

impl Service<Req> for Logged {
    type Response = Req;
    type Error = BoxError;
    type Future = mock::future::ResponseFuture<Req>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        self.inner.call(request)
    }
}

#[test]
fn of_two_sampled_endpoints_the_lower_load_wins_and_the_first_wins_ties() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let specs = [("low", 1), ("tie-1", 5), ("tie-2", 5), ("high", 9)];
    let mut handles = Vec::new();
    let mut endpoints = Vec::new();
    for (name, load) in specs {
        let (inner, handle) = mock::pair();
        handles.push(handle);
        endpoints.push(Logged {
            name,
            load,
            inner,
            log: Arc::clone(&log),
        });
    }
    let mut balance = Spawn::new(Balance::from_rng(ServiceList::new(endpoints), seeded_rng()));
    let load_of = |name: &str| specs.iter().find(|(n, _)| *n == name).unwrap().1;

    let mut chosen_count = [0; 4];
    let mut ties_by_first = [0; 2];
    for _ in 0..400 {
        log.lock().unwrap().clear();
        assert_ready_ok!(balance.poll_ready());
        let sampled = std::mem::take(&mut *log.lock().unwrap());
        assert_eq!(sampled.len(), 2, "two endpoints sampled: {sampled:?}");
        assert_ne!(sampled[0], sampled[1], "two distinct endpoints");
        // Polled again before the call: the choice is kept, not redrawn.
        assert_ready_ok!(balance.poll_ready());
        assert!(log.lock().unwrap().is_empty(), "no new sampling");

        let mut handle_refs: Vec<&mut Handle> = handles.iter_mut().collect();
        let chosen = route(&mut balance, &mut handle_refs);
        let chosen_name = specs[chosen].0;
        chosen_count[chosen] += 1;

        let (first, second) = (sampled[0], sampled[1]);
        let expected = if load_of(second) < load_of(first) {
            second
        } else {
            first
        };
        assert_eq!(chosen_name, expected, "sampled {sampled:?}");
        if load_of(first) == load_of(second) {
            ties_by_first[usize::from(first == "tie-2")] += 1;
        }
    }
    assert_eq!(chosen_count[3], 0, "the highest load never wins a pair");
    assert!(
        chosen_count[0] > chosen_count[1] && chosen_count[0] > chosen_count[2],
        "the lowest load wins most: {chosen_count:?}"
    );
    assert!(
        ties_by_first[0] > 0 && ties_by_first[1] > 0,
        "ties were met in both orders: {ties_by_first:?}"
    );
}

/// An rng of a fixed sequence.
struct Script(Vec<u64>);

impl Rng for Script {
    fn next_u64(&mut self) -> u64 {
        self.0.remove(0)
    }
}

#[test]
fn the_given_rng_drives_the_sampling_and_the_first_sampled_wins_ties() {
    // With two endpoints, the first index comes from `0..1` and the
    // second from `0..2`; when they are equal, the first becomes 1.
    // An even second word samples [1, 0], an odd one [0, 1]: with equal
    // loads the first sampled index wins.
    let (a, mut handle_a) = open_endpoint(0);
    let (b, mut handle_b) = open_endpoint(0);
    let mut balance = Spawn::new(Balance::from_rng(
        ServiceList::new(vec![a, b]),
        Script(vec![7, 0, 7, 0, 7, 0, 7, 1]),
    ));
    let mut first = None;
    for _ in 0..3 {
        assert_ready_ok!(balance.poll_ready());
        let chosen = route(&mut balance, &mut [&mut handle_a, &mut handle_b]);
        // The endpoint at index 1 wins [1, 0]; after its call it comes
        // back at the end, at index 1 again: the same endpoint wins.
        assert_eq!(*first.get_or_insert(chosen), chosen);
    }
    // [0, 1]: index 0 holds the other endpoint now.
    assert_ready_ok!(balance.poll_ready());
    let chosen = route(&mut balance, &mut [&mut handle_a, &mut handle_b]);
    assert_ne!(Some(chosen), first);
    // The script is spent: one more pick would panic on it.
}

#[test]
fn pending_requests_steer_requests_to_the_idle_endpoint() {
    use donjon::load::{CompleteOnResponse, PendingRequestsDiscover};

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u32, Mock>>();
    let discover = PendingRequestsDiscover::new(
        UnboundedReceiverStream::new(rx),
        CompleteOnResponse::default(),
    );
    let mut balance = Spawn::new(Balance::from_rng(discover, seeded_rng()));
    let (a, mut handle_a) = mock::pair();
    let (b, mut handle_b) = mock::pair();
    tx.send(Ok(Change::Insert(0, a))).unwrap();
    tx.send(Ok(Change::Insert(1, b))).unwrap();

    let receive = |handles: [&mut Handle; 2]| {
        let mut got = Vec::new();
        for (index, handle) in handles.into_iter().enumerate() {
            if let Poll::Ready(Some((_, reply))) = handle.poll_request() {
                got.push((index, reply));
            }
        }
        assert_eq!(got.len(), 1);
        got.pop().unwrap()
    };

    assert_ready_ok!(balance.poll_ready());
    let mut first = task::spawn(balance.call("first"));
    let (busy, first_reply) = receive([&mut handle_a, &mut handle_b]);

    assert_ready_ok!(balance.poll_ready());
    let mut second = task::spawn(balance.call("second"));
    let (idle, second_reply) = receive([&mut handle_a, &mut handle_b]);
    assert_ne!(
        busy, idle,
        "the endpoint with a request in flight is avoided"
    );

    // The first endpoint finishes: it is the idle one now.
    first_reply.send_response("1");
    assert_ready_ok!(first.poll());
    assert_ready_ok!(balance.poll_ready());
    let _third = balance.call("third");
    let (third_to, _third_reply) = receive([&mut handle_a, &mut handle_b]);
    assert_eq!(third_to, busy);

    second_reply.send_response("2");
    assert_ready_ok!(second.poll());
}

#[tokio::test(start_paused = true)]
async fn peak_ewma_steers_requests_away_from_a_slow_endpoint() {
    use std::time::Duration;

    use donjon::load::{CompleteOnResponse, PeakEwmaDiscover};

    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes<u32, Mock>>();
    let discover = PeakEwmaDiscover::new(
        UnboundedReceiverStream::new(rx),
        Duration::from_millis(10),
        Duration::from_secs(10),
        CompleteOnResponse::default(),
    );
    let mut balance = Spawn::new(Balance::from_rng(discover, seeded_rng()));
    let (a, mut handle_a) = mock::pair();
    let (b, mut handle_b) = mock::pair();
    tx.send(Ok(Change::Insert(0, a))).unwrap();
    tx.send(Ok(Change::Insert(1, b))).unwrap();

    // The first request takes a second to answer.
    assert_ready_ok!(balance.poll_ready());
    let mut slow = task::spawn(balance.call("slow"));
    tokio::time::advance(Duration::from_secs(1)).await;
    let slow_one = [&mut handle_a, &mut handle_b]
        .into_iter()
        .position(|handle| match handle.poll_request() {
            Poll::Ready(Some((_, reply))) => {
                reply.send_response("finally");
                true
            }
            _ => false,
        })
        .unwrap();
    assert_ready_ok!(slow.poll());

    // Answered at once from now on, the other endpoint gets them all.
    for _ in 0..10 {
        assert_ready_ok!(balance.poll_ready());
        let chosen = route(&mut balance, &mut [&mut handle_a, &mut handle_b]);
        assert_ne!(chosen, slow_one);
    }
}
