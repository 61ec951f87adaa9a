//! The chosen endpoint is checked again before use; endpoints and keys without `Debug`.

use super::*;

#[derive(Debug, Default)]
struct GateState {
    ready: bool,
    fail: bool,
    calls: usize,
    waker: Option<std::task::Waker>,
}

/// An endpoint whose readiness the test switches; no `Debug` on purpose
/// (the balancer must not need it), and a `Load` of its own.
#[derive(Clone)]
struct Gate(
    std::sync::Arc<std::sync::Mutex<GateState>>,
    &'static str,
    u8,
);

impl Gate {
    fn new(name: &'static str, load: u8) -> Gate {
        let state = GateState {
            ready: true,
            ..GateState::default()
        };
        Gate(
            std::sync::Arc::new(std::sync::Mutex::new(state)),
            name,
            load,
        )
    }

    fn set(&self, ready: bool, fail: bool) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.ready = ready;
            state.fail = fail;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn calls(&self) -> usize {
        self.0.lock().unwrap().calls
    }
}

impl Service<std::rc::Rc<str>> for Gate {
    type Response = &'static str;
    type Error = Oops;
    type Future = Instant<&'static str, Oops>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Oops>> {
        let mut state = self.0.lock().unwrap();
        if state.fail {
            return Poll::Ready(Err(Oops("gate failed")));
        }
        if state.ready {
            Poll::Ready(Ok(()))
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    fn call(&mut self, _: std::rc::Rc<str>) -> Self::Future {
        let mut state = self.0.lock().unwrap();
        assert!(
            state.ready && !state.fail,
            "{} called while not ready",
            self.1
        );
        state.calls += 1;
        std::future::ready(Ok(self.1))
    }
}

impl tower::load::Load for Gate {
    type Metric = u8;

    fn load(&self) -> u8 {
        self.2
    }
}

/// A key type with no `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key(u8);

#[test]
fn the_chosen_endpoint_is_checked_again_before_use() {
    // `a` is the less loaded: it is chosen whenever it is ready.
    let a = Gate::new("a", 0);
    let b = Gate::new("b", 1);
    let list = futures::stream::iter(vec![
        Ok::<_, Infallible>(Change::Insert(Key(0), a.clone())),
        Ok(Change::Insert(Key(1), b.clone())),
    ]);
    // A request type that is neither `Send` nor `Debug`-constrained.
    let mut balance: Balance<_, std::rc::Rc<str>> = Balance::new(list);
    let mut task = task::spawn(());
    let req: std::rc::Rc<str> = "req".into();

    for (round, fail) in [(0, false), (1, true)] {
        assert!(task.enter(|cx, _| balance.poll_ready(cx)).is_ready());
        // The chosen `a` stops being ready (or fails) before the call: the
        // next `poll_ready` checks it again and picks `b`.
        a.set(false, fail);
        assert!(
            task.enter(|cx, _| balance.poll_ready(cx)).is_ready(),
            "round {round}"
        );
        let mut fut = task::spawn(balance.call(req.clone()));
        assert_eq!(assert_ready_ok!(fut.poll()), "b", "round {round}");
        a.set(true, false);
    }
    // `a` failed in the second round: it was dropped.
    assert_eq!(balance.len(), 1);
    assert_eq!(a.calls(), 0);
    assert_eq!(b.calls(), 2);
}
