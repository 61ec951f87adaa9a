//! Completion tracking: `CompleteOnResponse`, and `TrackCompletionFuture` holding the handle.

use super::*;

/// Counts the responses it is handed, and drops their handles.
#[derive(Clone, Debug, Default)]
struct CountCompletions(Tally);

impl<H, V> TrackCompletion<H, V> for CountCompletions {
    type Output = V;

    fn track_completion(&self, handle: H, value: V) -> V {
        self.0.bump();
        drop(handle);
        value
    }
}

#[test]
fn complete_on_response_drops_the_handle_and_returns_the_value() {
    let handle = Arc::new(());
    let completion = CompleteOnResponse::default();
    let value = completion.track_completion(Arc::clone(&handle), "value");
    assert_eq!(value, "value");
    assert_eq!(Arc::strong_count(&handle), 1, "the handle was dropped");

    let copy = completion;
    let _ = (copy, completion);
    assert_eq!(format!("{completion:?}"), "CompleteOnResponse");
}

#[test]
fn the_future_hands_the_response_and_the_handle_to_the_policy() {
    let handle = Arc::new(());
    let completions = CountCompletions::default();
    let future = TrackCompletionFuture::new(
        completions.clone(),
        Arc::clone(&handle),
        ready(Ok::<_, BoxError>(5_u32)),
    );
    let mut future = task::spawn(future);
    assert_eq!(assert_ready_ok!(future.poll()), 5);
    assert_eq!(completions.0.get(), 1);
    assert_eq!(
        Arc::strong_count(&handle),
        1,
        "the policy dropped the handle"
    );
}

#[test]
fn the_future_keeps_the_handle_while_the_response_is_pending() {
    let handle = Arc::new(());
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<u32, &'static str>>();
    let future =
        TrackCompletionFuture::new(
            KeepHandle,
            Arc::clone(&handle),
            async move { rx.await.unwrap() },
        );
    let mut future = task::spawn(future);
    assert_pending!(future.poll());
    assert_eq!(Arc::strong_count(&handle), 2);

    tx.send(Ok(9)).unwrap();
    assert!(future.is_woken());
    let (value, kept) = assert_ready_ok!(future.poll());
    assert_eq!(value, 9);
    drop(future);
    assert_eq!(Arc::strong_count(&handle), 2, "the response holds it");
    drop(kept);
    assert_eq!(Arc::strong_count(&handle), 1);
}

#[test]
fn on_an_error_the_handle_is_dropped_with_the_future() {
    let handle = Arc::new(());
    let completions = CountCompletions::default();
    let future = TrackCompletionFuture::new(
        completions.clone(),
        Arc::clone(&handle),
        ready(Err::<u32, _>("refused")),
    );
    let mut future = task::spawn(future);
    assert_eq!(assert_ready_err!(future.poll()), "refused");
    assert_eq!(completions.0.get(), 0, "the policy sees only responses");
    drop(future);
    assert_eq!(Arc::strong_count(&handle), 1);
}

#[test]
fn a_dropped_future_drops_its_handle() {
    let handle = Arc::new(());
    let future = TrackCompletionFuture::new(
        CompleteOnResponse::default(),
        Arc::clone(&handle),
        std::future::pending::<Result<(), ()>>(),
    );
    let mut future = task::spawn(future);
    assert_pending!(future.poll());
    drop(future);
    assert_eq!(Arc::strong_count(&handle), 1);
}
