//! `ServiceExt::buffered` and `ServiceExt::retry`, from tower's next
//! release: each returns the middleware its name says, as the constructor
//! would make it.

#[cfg(feature = "buffer")]
#[tokio::test]
async fn buffered_puts_the_service_behind_a_buffer_of_that_bound() {
    use donjon::buffer::Buffer;
    use donjon::{Service, ServiceExt};
    use futures::FutureExt;

    use crate::support::Unanswered;

    // The type is the buffer's: requests, and the service's future.
    let buffer: Buffer<&'static str, <Unanswered as Service<&'static str>>::Future> =
        Unanswered.buffered(2);
    // Each ready handle holds a place until it calls: two places, no third.
    let mut handles: Vec<_> = (0..3).map(|_| buffer.clone()).collect();
    for handle in &mut handles[..2] {
        let ready = handle.ready().now_or_never();
        assert!(matches!(ready, Some(Ok(_))), "a place of the bound is free");
    }
    assert!(
        handles[2].ready().now_or_never().is_none(),
        "the bound of 2 is reached"
    );
    // A call frees its place (the service is called directly).
    let _response = handles[0].call("request");
    assert!(matches!(handles[2].ready().now_or_never(), Some(Ok(_))));
}

#[cfg(feature = "retry")]
#[tokio::test]
async fn retry_wraps_the_service_in_a_retry_with_that_policy() {
    use std::future::{Ready, ready};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use donjon::retry::{Policy, Retry};
    use donjon::util::ServiceFn;
    use donjon::{BoxError, ServiceExt, service_fn};

    /// Retries every failure, up to `left` times.
    #[derive(Clone)]
    struct UpTo {
        left: usize,
    }

    impl Policy<u32, u32, BoxError> for UpTo {
        type Future = Ready<()>;

        fn retry(&mut self, _: &mut u32, result: &mut Result<u32, BoxError>) -> Option<Ready<()>> {
            if result.is_ok() || self.left == 0 {
                return None;
            }
            self.left -= 1;
            Some(ready(()))
        }

        fn clone_request(&mut self, request: &u32) -> Option<u32> {
            Some(*request)
        }
    }

    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&attempts);
    let fails_twice = move |n: u32| {
        let attempt = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if attempt < 2 {
                Err::<u32, BoxError>("not yet".into())
            } else {
                Ok(n)
            }
        }
    };
    let service: Retry<UpTo, ServiceFn<_>> = service_fn(fails_twice).retry(UpTo { left: 2 });
    assert_eq!(service.oneshot(5).await.unwrap(), 5);
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "two retries, as the policy allows"
    );
}
