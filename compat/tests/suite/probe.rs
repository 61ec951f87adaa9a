//! A service that records the tracing span it runs in, for the middleware
//! that must carry the caller's span to a worker or background task.

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tower_service::Service;

use super::support::{Instant, Oops};

/// Records the name of the current span at every `poll_ready` and `call`.
/// `poll_ready` returns `Pending` (waking the task at once) the first
/// `pending` times. Answers with the request itself.
#[derive(Clone, Debug)]
pub(crate) struct SpanProbe {
    pending: usize,
    seen: Arc<Mutex<Vec<(&'static str, Option<&'static str>)>>>,
}

/// What a [`SpanProbe`] saw: `("poll_ready" | "call", current span name)`.
#[derive(Clone, Debug)]
pub(crate) struct Seen(Arc<Mutex<Vec<(&'static str, Option<&'static str>)>>>);

impl Seen {
    pub(crate) fn take(&self) -> Vec<(&'static str, Option<&'static str>)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl SpanProbe {
    pub(crate) fn new(pending: usize) -> (SpanProbe, Seen) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let probe = SpanProbe {
            pending,
            seen: seen.clone(),
        };
        (probe, Seen(seen))
    }

    fn record(&self, what: &'static str) {
        let span = tracing::Span::current();
        let name = span.metadata().map(|meta| meta.name());
        self.seen.lock().unwrap().push((what, name));
    }
}

impl Service<&'static str> for SpanProbe {
    type Response = &'static str;
    type Error = Oops;
    type Future = Instant<&'static str, Oops>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Oops>> {
        self.record("poll_ready");
        if self.pending > 0 {
            self.pending -= 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: &'static str) -> Self::Future {
        self.record("call");
        std::future::ready(Ok(req))
    }
}
