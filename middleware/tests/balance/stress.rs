//! The randomized stress test: a long run of random insertions, removals,
//! readiness changes, failures and requests, checked against a model of
//! which endpoints are ready.

use super::*;

/// xorshift64: the test's own reproducible choices.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

impl Rng for XorShift {
    fn next_u64(&mut self) -> u64 {
        self.next()
    }
}

/// An endpoint as the model sees it.
struct Live {
    handle: Handle,
    /// Allowed one call the balancer has not made yet.
    ready: bool,
}

struct Model {
    /// Keys are reused once free, as a slab does.
    slots: Vec<Option<Live>>,
    /// Ready endpoints removed from discovery; the balancer must drop
    /// them at its next `poll_ready`.
    retired: Vec<Handle>,
    /// Ready endpoints, live or retired.
    ready: usize,
    tx: Sender<usize, Endpoint>,
}

impl Model {
    fn live_keys(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&key| self.slots[key].is_some())
            .collect()
    }

    fn insert(&mut self) {
        let (service, handle) = endpoint(0);
        let key = match self.slots.iter().position(Option::is_none) {
            Some(key) => key,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[key] = Some(Live {
            handle,
            ready: false,
        });
        self.tx.send(Ok(Change::Insert(key, service))).unwrap();
    }

    fn remove(&mut self, key: usize) {
        let live = self.slots[key].take().unwrap();
        if live.ready {
            self.retired.push(live.handle);
        }
        self.tx.send(Ok(Change::Remove(key))).unwrap();
    }

    /// Fails the endpoint's readiness, without telling the discovery:
    /// the balancer finds out by itself.
    fn fail(&mut self, key: usize) {
        let mut live = self.slots[key].take().unwrap();
        if live.ready {
            self.ready -= 1;
        }
        live.handle.send_error("doom");
    }

    fn make_one_ready(&mut self) {
        if let Some(live) = self.slots.iter_mut().flatten().find(|live| !live.ready) {
            live.handle.allow(1);
            live.ready = true;
            self.ready += 1;
        }
    }

    /// After a `poll_ready`: every retired endpoint must have been
    /// dropped.
    fn check_retired_dropped(&mut self) {
        for mut handle in self.retired.drain(..) {
            assert!(
                mock_dropped(&mut handle),
                "a removed endpoint is dropped at the next poll_ready"
            );
            self.ready -= 1;
        }
    }

    /// Checks `outcome`, a `poll_ready` just made, against the model.
    fn check(&mut self, outcome: &Poll<Result<(), BoxError>>) {
        self.check_retired_dropped();
        match outcome {
            Poll::Ready(Ok(())) => {
                assert_ne!(self.ready, 0, "ready when no endpoint is ready");
            }
            Poll::Ready(Err(error)) => panic!("the discovery has not failed: {error}"),
            Poll::Pending => {
                assert_eq!(self.ready, 0, "pending while an endpoint is ready");
            }
        }
    }
}

#[test]
fn random_changes_keep_the_balancer_consistent() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut task = task::spawn(());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut balance = Balance::from_rng(
        UnboundedReceiverStream::new(rx),
        XorShift(0x2545_F491_4F6C_DD1D),
    );
    let mut model = Model {
        slots: Vec::new(),
        retired: Vec::new(),
        ready: 0,
        tx,
    };
    let mut served = 0_usize;
    let mut pending_polls = 0_usize;
    let (mut inserted, mut removed, mut failed) = (0_usize, 0_usize, 0_usize);

    for _ in 0..100_000 {
        for _ in 0..rng.below(8) {
            let keys = model.live_keys();
            if !keys.is_empty() && rng.coin() {
                if model.ready == 0 || rng.below(4) != 0 {
                    model.make_one_ready();
                } else {
                    // Use an endpoint.
                    let outcome = task.enter(|cx, _| balance.poll_ready(cx));
                    model.check(&outcome);
                    if outcome.is_pending() {
                        pending_polls += 1;
                        continue;
                    }
                    let mut response = balance.call("hello");
                    assert_pending!(task.enter(|cx, _| Pin::new(&mut response).poll(cx)));
                    let mut receivers = 0;
                    for live in model.slots.iter_mut().flatten() {
                        if let Poll::Ready(Some((request, reply))) = live.handle.poll_request() {
                            assert!(
                                live.ready,
                                "a request reached an endpoint that was not ready"
                            );
                            assert_eq!(request, "hello");
                            reply.send_response("world");
                            live.ready = false;
                            receivers += 1;
                        }
                    }
                    assert_eq!(receivers, 1, "the request reached one live ready endpoint");
                    model.ready -= 1;
                    let answer =
                        assert_ready!(task.enter(|cx, _| Pin::new(&mut response).poll(cx)));
                    assert_eq!(answer.unwrap(), "world");
                    served += 1;
                }
            } else if keys.is_empty() || rng.coin() {
                if keys.is_empty() || model.ready == 0 || rng.coin() {
                    model.insert();
                    inserted += 1;
                } else {
                    let key = keys[rng.below(keys.len() as u64) as usize];
                    model.remove(key);
                    removed += 1;
                }
            } else {
                let key = keys[rng.below(keys.len() as u64) as usize];
                model.fail(key);
                failed += 1;
            }
        }

        let outcome = task.enter(|cx, _| balance.poll_ready(cx));
        model.check(&outcome);
        if outcome.is_pending() {
            pending_polls += 1;
        }
    }

    // The run did exercise everything.
    assert!(served > 10_000, "{served} requests served");
    assert!(pending_polls > 1_000, "{pending_polls} pending polls");
    assert!(
        inserted > 10_000 && removed > 1_000 && failed > 1_000,
        "{inserted} {removed} {failed}"
    );
    // And the balancer holds what the model holds, give or take the
    // failed endpoints it has not polled since.
    assert!(balance.len() >= model.live_keys().len());
}
