//! A seeded, randomized stress run checked against a model of the live endpoints.

use super::*;

#[derive(Debug)]
struct Live {
    handle: Handle<Req, Req>,
    ready: bool,
}

fn stress_run(seed: u64, steps: usize) {
    let mut rng = HasherRng::with_hasher(Seed(seed));
    let mut task = task::spawn(());
    let (tx, rx) = unbounded_channel::<Result<Change<u64, Endpoint>, BoxError>>();
    let mut balance: Balance<Changes<u64, Endpoint>, Req> = Balance::from_rng(
        UnboundedReceiverStream::new(rx),
        HasherRng::with_hasher(Seed(seed ^ 0x5eed)),
    );

    let mut next_key = 0u64;
    let mut live: BTreeMap<u64, Live> = BTreeMap::new();
    let mut removed: Vec<Handle<Req, Req>> = Vec::new();
    let mut failed: Vec<Handle<Req, Req>> = Vec::new();
    let mut served = 0usize;

    let pick = |rng: &mut HasherRng<Seed>, live: &BTreeMap<u64, Live>, ready: Option<bool>| {
        let keys: Vec<u64> = live
            .iter()
            .filter(|(_, l)| ready.is_none_or(|r| l.ready == r))
            .map(|(k, _)| *k)
            .collect();
        if keys.is_empty() {
            None
        } else {
            Some(keys[rng.next_range(0..keys.len() as u64) as usize])
        }
    };

    for step in 0..steps {
        for _ in 0..rng.next_range(0..4) {
            match rng.next_range(0..10) {
                // Insert a new endpoint, not ready yet.
                0 | 1 if live.len() < 16 => {
                    let (svc, mut handle) = endpoint(rng.next_range(0..8) as u8);
                    handle.allow(0);
                    tx.send(Ok(Change::Insert(next_key, svc))).unwrap();
                    live.insert(
                        next_key,
                        Live {
                            handle,
                            ready: false,
                        },
                    );
                    next_key += 1;
                }
                // Make an endpoint ready.
                2..=4 => {
                    if let Some(key) = pick(&mut rng, &live, Some(false)) {
                        let l = live.get_mut(&key).unwrap();
                        l.handle.allow(1);
                        l.ready = true;
                    }
                }
                // Remove one.
                5 => {
                    if let Some(key) = pick(&mut rng, &live, None) {
                        removed.push(live.remove(&key).unwrap().handle);
                        tx.send(Ok(Change::Remove(key))).unwrap();
                    }
                }
                // Fail one.
                6 => {
                    if let Some(key) = pick(&mut rng, &live, None) {
                        let mut handle = live.remove(&key).unwrap().handle;
                        handle.send_error("doom");
                        failed.push(handle);
                    }
                }
                // Use the balancer.
                _ => {
                    let nready = live.values().filter(|l| l.ready).count();
                    match task.enter(|cx, _| balance.poll_ready(cx)) {
                        Poll::Ready(Ok(())) => {
                            assert_ne!(nready, 0, "step {step}: ready with no ready endpoint");
                            let mut fut = task::spawn(balance.call("hello"));
                            let mut hit = None;
                            for (key, l) in live.iter_mut() {
                                if let Poll::Ready(Some((req, send))) = l.handle.poll_request() {
                                    assert_eq!(req, "hello");
                                    assert!(l.ready, "step {step}: endpoint {key} was not ready");
                                    assert!(hit.is_none(), "two endpoints got the request");
                                    send.send_response("world");
                                    l.ready = false;
                                    hit = Some(*key);
                                }
                            }
                            assert!(
                                hit.is_some(),
                                "step {step}: no live endpoint got the request"
                            );
                            assert_eq!(assert_ready_ok!(fut.poll()), "world");
                            served += 1;
                        }
                        Poll::Ready(Err(err)) => panic!("step {step}: {err}"),
                        Poll::Pending => {
                            assert_eq!(nready, 0, "step {step}: pending with a ready endpoint");
                        }
                    }
                }
            }
        }

        let polled = task.enter(|cx, _| balance.poll_ready(cx));
        let nready = live.values().filter(|l| l.ready).count();
        match polled {
            Poll::Ready(Ok(())) => assert_ne!(nready, 0, "step {step}: ready with none ready"),
            Poll::Ready(Err(err)) => panic!("step {step}: {err}"),
            Poll::Pending => assert_eq!(nready, 0, "step {step}: pending with one ready"),
        }

        // Removed endpoints are gone once the balancer has seen the removal.
        for handle in removed.iter_mut() {
            assert!(
                matches!(handle.poll_request(), Poll::Ready(None)),
                "step {step}: a removed endpoint is still alive"
            );
        }
        removed.clear();
        // Failed endpoints never get a request, and are dropped once polled.
        failed.retain_mut(|handle| match handle.poll_request() {
            Poll::Ready(None) => false,
            Poll::Pending => true,
            Poll::Ready(Some((req, _))) => panic!("step {step}: a failed endpoint got {req}"),
        });
        assert_eq!(
            balance.len(),
            live.len() + failed.len(),
            "step {step}: the balancer tracks the live endpoints and the failed ones not yet seen"
        );
    }
    assert!(served > steps / 10, "only {served} requests were served");
}

#[test]
fn stress() {
    for seed in 0..3 {
        stress_run(seed, 5_000);
    }
}
