//! Tests of the `Service` trait's forwarding impls (`&mut S`, `Box<S>`),
//! its object safety, and response futures that do not borrow the service.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use donjon_service::Service;

/// The error of [`Gate`]: its readiness failed with this message.
#[derive(Debug, Clone, PartialEq)]
struct Failed(&'static str);

/// Whether a [`Gate`] admits requests.
#[derive(Debug, Clone, Copy)]
enum Readiness {
    Closed,
    Open,
    Failed(&'static str),
}

/// State shared by a [`Gate`] and its [`Control`].
#[derive(Debug)]
struct Shared {
    readiness: Readiness,
    /// The waker of the last `poll_ready` that returned `Pending`.
    parked: Option<Waker>,
    /// Told each time a waker is parked.
    on_park: Option<mpsc::Sender<()>>,
    poll_readies: usize,
    requests: Vec<u32>,
}

/// A service that doubles numbers once its [`Control`] opens it.
///
/// `poll_ready` is `Pending` while closed (parking the waker), `Ready(Ok)`
/// while open (reserving the next `call`) and `Ready(Err)` once failed.
#[derive(Debug)]
struct Gate {
    shared: Arc<Mutex<Shared>>,
    reserved: bool,
}

/// The test's side of a [`Gate`].
#[derive(Debug, Clone)]
struct Control {
    shared: Arc<Mutex<Shared>>,
}

fn gate() -> (Gate, Control) {
    let shared = Arc::new(Mutex::new(Shared {
        readiness: Readiness::Closed,
        parked: None,
        on_park: None,
        poll_readies: 0,
        requests: Vec::new(),
    }));
    let control = Control {
        shared: shared.clone(),
    };
    (
        Gate {
            shared,
            reserved: false,
        },
        control,
    )
}

impl Control {
    /// Sets the readiness and wakes the parked task, if any.
    fn set(&self, readiness: Readiness) {
        let parked = {
            let mut shared = self.shared.lock().unwrap();
            shared.readiness = readiness;
            shared.parked.take()
        };
        if let Some(waker) = parked {
            waker.wake();
        }
    }

    fn poll_readies(&self) -> usize {
        self.shared.lock().unwrap().poll_readies
    }

    fn requests(&self) -> Vec<u32> {
        self.shared.lock().unwrap().requests.clone()
    }

    fn has_parked_waker(&self) -> bool {
        self.shared.lock().unwrap().parked.is_some()
    }
}

impl Service<u32> for Gate {
    type Response = u32;
    type Error = Failed;
    type Future = Doubled;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Failed>> {
        let mut shared = self.shared.lock().unwrap();
        shared.poll_readies += 1;
        match shared.readiness {
            Readiness::Closed => {
                shared.parked = Some(cx.waker().clone());
                if let Some(on_park) = &shared.on_park {
                    on_park.send(()).unwrap();
                }
                Poll::Pending
            }
            Readiness::Open => {
                self.reserved = true;
                Poll::Ready(Ok(()))
            }
            Readiness::Failed(message) => Poll::Ready(Err(Failed(message))),
        }
    }

    fn call(&mut self, request: u32) -> Doubled {
        assert!(
            self.reserved,
            "Gate::call without poll_ready returning Ready(Ok) first"
        );
        self.reserved = false;
        self.shared.lock().unwrap().requests.push(request);
        Doubled {
            answer: request * 2,
            yielded: false,
        }
    }
}

/// The response future of [`Gate`]: pending once (waking itself), then the
/// doubled request. It owns everything it needs.
#[derive(Debug)]
struct Doubled {
    answer: u32,
    yielded: bool,
}

impl Future for Doubled {
    type Output = Result<u32, Failed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.yielded {
            Poll::Ready(Ok(self.answer))
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A waker that counts how often it was woken.
#[derive(Debug, Default)]
struct CountingWaker {
    wakes: AtomicUsize,
}

impl CountingWaker {
    fn new() -> (Arc<Self>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        (counter, waker)
    }

    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `future` to completion on this thread with a no-op waker, counting
/// how many polls it took.
fn poll_to_end<F: Future + Unpin>(mut future: F) -> (F::Output, usize) {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for polls in 1..=10 {
        if let Poll::Ready(output) = Pin::new(&mut future).poll(&mut cx) {
            return (output, polls);
        }
    }
    panic!("future still pending after 10 polls");
}

/// The object type used throughout: a `Gate` behind `dyn`.
type DynGate = dyn Service<u32, Response = u32, Error = Failed, Future = Doubled> + Send;

/// Runs the whole readiness life cycle of a closed gate through `service`,
/// which wraps that gate: `Pending` with a parked waker, a wake-up when the
/// gate opens, `Ready(Ok)`, one `call` reaching the gate, and finally the
/// gate's readiness error.
///
/// The bounds check that the wrapper keeps the gate's associated types.
fn check_forwarding<S>(mut service: S, control: &Control)
where
    S: Service<u32, Response = u32, Error = Failed, Future = Doubled>,
{
    let (counter, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);

    // Pending is forwarded, and the gate got our waker.
    assert_eq!(service.poll_ready(&mut cx), Poll::Pending);
    assert_eq!(control.poll_readies(), 1);
    assert!(control.has_parked_waker());
    assert_eq!(counter.wakes(), 0);

    // Opening the gate wakes exactly the waker passed through the wrapper.
    control.set(Readiness::Open);
    assert_eq!(counter.wakes(), 1);
    assert!(!control.has_parked_waker());

    // Ready is forwarded.
    assert_eq!(service.poll_ready(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(control.poll_readies(), 2);

    // The call is forwarded once, with its request, and its future is the
    // gate's.
    let response = service.call(21);
    assert_eq!(control.requests(), [21]);
    assert_eq!(poll_to_end(response), (Ok(42), 2));

    // A readiness error is forwarded unchanged.
    control.set(Readiness::Failed("gate broke"));
    assert_eq!(
        service.poll_ready(&mut cx),
        Poll::Ready(Err(Failed("gate broke")))
    );
    assert_eq!(control.poll_readies(), 3);
    assert_eq!(control.requests(), [21]);
    // Nobody was parked, so nobody else was woken.
    assert_eq!(counter.wakes(), 1);
}

#[test]
fn gate_itself_follows_the_scenario() {
    // The reference run: the same checks straight on the service.
    let (service, control) = gate();
    check_forwarding(service, &control);
}

#[test]
fn mut_ref_forwards_readiness_and_call() {
    let (mut service, control) = gate();
    check_forwarding(&mut service, &control);
    // The service is still ours afterwards.
    assert!(!service.reserved);
}

#[test]
fn mut_ref_to_dyn_service_forwards_readiness_and_call() {
    let (mut service, control) = gate();
    let object: &mut DynGate = &mut service;
    check_forwarding(object, &control);
}

#[test]
fn boxed_service_forwards_readiness_and_call() {
    let (service, control) = gate();
    check_forwarding(Box::new(service), &control);
}

#[test]
fn boxed_dyn_service_forwards_readiness_and_call() {
    let (service, control) = gate();
    let object: Box<DynGate> = Box::new(service);
    check_forwarding(object, &control);
}

#[test]
fn forwarding_impls_compose() {
    let (service, control) = gate();
    let mut boxed: Box<DynGate> = Box::new(service);
    check_forwarding(&mut &mut boxed, &control);

    let (mut service, control) = gate();
    let object: &mut DynGate = &mut service;
    check_forwarding(Box::new(object), &control);
}

/// Waits (with a no-op waker) for `service` to be ready, then calls it.
///
/// It takes the service by value so that, given `&mut S`, the `&mut S` impl
/// is the one used. The returned future outlives that reference.
fn ready_and_call<S>(mut service: S, request: u32) -> S::Future
where
    S: Service<u32>,
    S::Error: std::fmt::Debug,
{
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    match service.poll_ready(&mut cx) {
        Poll::Ready(Ok(())) => service.call(request),
        other => panic!("service not ready: {other:?}"),
    }
}

#[test]
fn call_through_mut_ref_reaches_the_service_each_time() {
    let (mut service, control) = gate();
    control.set(Readiness::Open);
    for request in 1..=3 {
        let (response, _) = poll_to_end(ready_and_call(&mut service, request));
        assert_eq!(response, Ok(request * 2));
    }
    assert_eq!(control.requests(), [1, 2, 3]);
    assert_eq!(control.poll_readies(), 3);
}

#[test]
#[should_panic(expected = "Gate::call without poll_ready returning Ready(Ok) first")]
fn boxed_call_reaches_the_service_without_an_extra_poll_ready() {
    // If `Box::call` polled readiness on its own, the gate would accept this
    // call; it must panic as the gate documents.
    let (service, control) = gate();
    control.set(Readiness::Open);
    let mut boxed: Box<DynGate> = Box::new(service);
    let _response = boxed.call(1);
}

#[test]
fn boxed_dyn_service_is_send_and_can_move_to_another_thread() {
    fn assert_send<T: Send>(_: &T) {}

    let (service, control) = gate();
    control.set(Readiness::Open);
    let mut boxed: Box<DynGate> = Box::new(service);
    assert_send(&boxed);

    let answer = thread::spawn(move || {
        futures::executor::block_on(async {
            poll_fn(|cx| boxed.poll_ready(cx)).await?;
            boxed.call(5).await
        })
    })
    .join()
    .unwrap();
    assert_eq!(answer, Ok(10));
    assert_eq!(control.requests(), [5]);
}

#[test]
fn pending_boxed_dyn_service_is_woken_and_completes_in_an_executor() {
    let (service, control) = gate();
    let (parked_tx, parked_rx) = mpsc::channel();
    control.shared.lock().unwrap().on_park = Some(parked_tx);

    // Open the gate from another thread once the executor's task parked.
    let opener = {
        let control = control.clone();
        thread::spawn(move || {
            parked_rx.recv().unwrap();
            control.set(Readiness::Open);
        })
    };

    let mut boxed: Box<DynGate> = Box::new(service);
    let answer = futures::executor::block_on(async {
        poll_fn(|cx| boxed.poll_ready(cx)).await?;
        boxed.call(8).await
    });
    opener.join().unwrap();

    assert_eq!(answer, Ok(16));
    // Once pending, once ready after the wake-up.
    assert_eq!(control.poll_readies(), 2);
    assert_eq!(control.requests(), [8]);
}

#[test]
fn response_futures_do_not_borrow_the_service() {
    let (mut service, control) = gate();
    control.set(Readiness::Open);

    // Through `&mut S` and `&mut dyn Service`: each future outlives the
    // reference it came from.
    let first = ready_and_call(&mut service, 1);
    let second = ready_and_call(&mut service as &mut DynGate, 2);

    // Through `Box<dyn Service>`, while the other two are still in flight.
    let mut boxed: Box<DynGate> = Box::new(service);
    let third = ready_and_call(&mut boxed, 3);
    // The service can be polled again at once.
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(boxed.poll_ready(&mut cx), Poll::Ready(Ok(())));

    // Three requests in flight; finish them in reverse order, after
    // dropping the service.
    drop(boxed);
    assert_eq!(poll_to_end(third).0, Ok(6));
    assert_eq!(poll_to_end(second).0, Ok(4));
    assert_eq!(poll_to_end(first).0, Ok(2));
    assert_eq!(control.requests(), [1, 2, 3]);
    assert_eq!(control.poll_readies(), 4);
}
