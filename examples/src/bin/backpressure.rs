//! Backpressure at work: a hand-written service with a fixed number of
//! workers, wrapped in a `ServiceBuilder` stack, serving more clients than it
//! has workers.
//!
//! The service (a kitchen with a few cooks) says it is not ready while every
//! cook is busy, and wakes a waiting client when a cook frees up. Clients
//! call `ready().await` before each call, so they queue up instead of
//! overwhelming the kitchen: the number of dishes in progress never exceeds
//! the number of cooks.
//!
//! Run it with `cargo run -p donjon-examples --bin backpressure`; add a number
//! of orders and of cooks to change them (`-- 20 4`).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use donjon::{BoxError, Service, ServiceBuilder, ServiceExt};
use tokio::time::Instant;

/// How long each dish takes.
const COOKING_TIME: Duration = Duration::from_millis(100);

/// What the cooks share: how many are free, and who waits for one.
struct Cooks {
    free: usize,
    waiting: VecDeque<Waker>,
}

/// A kitchen that cooks dishes, at most one per cook at a time.
///
/// Each clone is one handle on the same kitchen. A handle that saw
/// `poll_ready` return `Ready(Ok(()))` holds a cook for its next order.
struct Kitchen {
    cooks: Arc<Mutex<Cooks>>,
    in_progress: Arc<AtomicUsize>,
    most_in_progress: Arc<AtomicUsize>,
    holds_a_cook: bool,
}

impl Kitchen {
    fn new(cooks: usize) -> Self {
        Kitchen {
            cooks: Arc::new(Mutex::new(Cooks {
                free: cooks,
                waiting: VecDeque::new(),
            })),
            in_progress: Arc::new(AtomicUsize::new(0)),
            most_in_progress: Arc::new(AtomicUsize::new(0)),
            holds_a_cook: false,
        }
    }
}

impl Clone for Kitchen {
    fn clone(&self) -> Self {
        Kitchen {
            cooks: Arc::clone(&self.cooks),
            in_progress: Arc::clone(&self.in_progress),
            most_in_progress: Arc::clone(&self.most_in_progress),
            // A clone starts without a cook: reservations are not copied.
            holds_a_cook: false,
        }
    }
}

/// Gives a cook back to the kitchen, waking the first client waiting.
fn release(cooks: &Mutex<Cooks>) {
    let mut cooks = cooks.lock().expect("no code panics while holding the lock");
    cooks.free += 1;
    if let Some(waker) = cooks.waiting.pop_front() {
        waker.wake();
    }
}

/// Holds a cook while a dish is cooked, and gives it back when dropped,
/// even if the order is cancelled half-way.
struct CookGuard {
    cooks: Arc<Mutex<Cooks>>,
    in_progress: Arc<AtomicUsize>,
}

impl Drop for CookGuard {
    fn drop(&mut self) {
        self.in_progress.fetch_sub(1, Ordering::SeqCst);
        release(&self.cooks);
    }
}

impl Service<String> for Kitchen {
    type Response = String;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.holds_a_cook {
            return Poll::Ready(Ok(()));
        }
        let mut cooks = self
            .cooks
            .lock()
            .expect("no code panics while holding the lock");
        if cooks.free == 0 {
            // Not ready: remember to wake this client when a cook is free.
            cooks.waiting.push_back(cx.waker().clone());
            return Poll::Pending;
        }
        cooks.free -= 1;
        self.holds_a_cook = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dish: String) -> Self::Future {
        assert!(
            self.holds_a_cook,
            "Kitchen::call without poll_ready returning Ready first"
        );
        self.holds_a_cook = false;
        let now = self.in_progress.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_progress.fetch_max(now, Ordering::SeqCst);
        let guard = CookGuard {
            cooks: Arc::clone(&self.cooks),
            in_progress: Arc::clone(&self.in_progress),
        };
        Box::pin(async move {
            tokio::time::sleep(COOKING_TIME).await;
            drop(guard);
            Ok(format!("{dish}, cooked"))
        })
    }
}

impl Drop for Kitchen {
    fn drop(&mut self) {
        if self.holds_a_cook {
            // An unused reservation goes back to the kitchen.
            release(&self.cooks);
        }
    }
}

fn parse_arg(position: usize, default: usize) -> usize {
    match std::env::args().nth(position) {
        None => default,
        Some(text) => match text.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("usage: backpressure [ORDERS] [COOKS] (positive numbers), got {text:?}");
                std::process::exit(2);
            }
        },
    }
}

#[tokio::main]
async fn main() {
    let orders = parse_arg(1, 12);
    let cook_count = parse_arg(2, 3);
    let kitchen = Kitchen::new(cook_count);
    let most_in_progress = Arc::clone(&kitchen.most_in_progress);
    let start = Instant::now();

    // The stack: the first layer added sees the request first.
    let stack = ServiceBuilder::new()
        .map_request(|table: usize| format!("soup for table {table}"))
        .map_response(move |dish: String| (dish, start.elapsed()))
        .map_err(|error: BoxError| format!("the kitchen failed: {error}"))
        .service(kitchen);

    println!("{orders} tables order at once; the kitchen has {cook_count} cooks.");
    let mut clients = Vec::new();
    for table in 1..=orders {
        let mut service = stack.clone();
        clients.push(tokio::spawn(async move {
            // Wait for a cook (backpressure), then order.
            let waited_from = Instant::now();
            let service = service.ready().await?;
            let waited = waited_from.elapsed();
            let (dish, at) = service.call(table).await?;
            Ok::<_, String>((table, waited, dish, at))
        }));
    }

    for client in clients {
        match client.await.expect("client task panicked") {
            Ok((table, waited, dish, at)) => println!(
                "table {table:>2}: waited {:>3} ms for a cook, served \"{dish}\" at {:>3} ms",
                waited.as_millis(),
                at.as_millis()
            ),
            Err(error) => println!("an order failed: {error}"),
        }
    }

    let rounds = orders.div_ceil(cook_count);
    println!(
        "\nAt most {} dishes were cooking at once (the kitchen has {cook_count} cooks).",
        most_in_progress.load(Ordering::SeqCst)
    );
    println!(
        "All {orders} orders served in {} ms: {rounds} rounds of {} ms, because clients waited for \
         readiness instead of piling up.",
        start.elapsed().as_millis(),
        COOKING_TIME.as_millis()
    );
}
