//! Clones on many threads, and an algorithm boxed and chosen at run time.

use super::*;

/// Answers after yielding once, failing every third request; records the
/// most calls it ran at once.
#[derive(Clone, Default)]
struct Yielding {
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Service<u32> for Yielding {
    type Response = u32;
    type Error = Boom;
    type Future = Pin<Box<dyn Future<Output = Result<u32, Boom>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, n: u32) -> Self::Future {
        let (running, peak) = (Arc::clone(&self.running), Arc::clone(&self.peak));
        Box::pin(async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::task::yield_now().await;
            running.fetch_sub(1, Ordering::SeqCst);
            if n % 3 == 0 {
                Err(Boom("every third"))
            } else {
                Ok(n)
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clones_on_many_threads_all_finish_within_the_maximum() {
    let inner = Yielding::default();
    let peak = Arc::clone(&inner.peak);
    let service = AdaptiveConcurrencyLimitLayer::new(Aimd::new().with_backoff_ratio(0.5))
        .with_initial_limit(4)
        .with_max_limit(8)
        .layer(inner);
    let limits = service.handle();

    let tasks: Vec<_> = (0..16u32)
        .map(|task| {
            let mut service = service.clone();
            tokio::spawn(async move {
                for i in 0..200u32 {
                    poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                    let response = service.call(task * 1000 + i);
                    // Every fifth response future is dropped unfinished.
                    if i % 5 != 0 {
                        let _ = response.await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(limits.in_flight(), 0, "every slot came back");
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (1..=8).contains(&peak),
        "at most the maximum ran at once: {peak}"
    );
    assert!((1..=8).contains(&limits.limit()));
}

#[tokio::test]
async fn a_boxed_algorithm_can_be_chosen_at_run_time() {
    let algorithm: Box<dyn Algorithm + Send> = Box::new(Aimd::new());
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut service = mock::Spawn::new(AdaptiveConcurrencyLimit::new(mock, algorithm));
    let limits = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    response.await.unwrap();
    // Aimd: 20 + 1.
    assert_eq!(limits.limit(), 21);
}
