//! `WithinDeadline`: retries and hedges that stop at the deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use donjon::deadline::WithinDeadline;

use super::*;

/// A job of `work` ms, due in `deadline` ms if given.
fn job(work: u64, deadline: Option<u64>) -> Job {
    Job {
        work: ms(work),
        deadline: deadline.map(|deadline| Deadline::after(ms(deadline))),
    }
}

/// A backend failing every job after its work, counting the attempts.
fn failing() -> (
    impl Service<Job, Response = Duration, Error = BoxError, Future = impl Send> + Clone,
    Arc<AtomicUsize>,
) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&attempts);
    let service = service_fn(move |job: Job| {
        counted.fetch_add(1, Ordering::Relaxed);
        async move {
            tokio::time::sleep(job.work).await;
            Err::<Duration, BoxError>("unavailable".into())
        }
    });
    (service, attempts)
}

#[cfg(feature = "retry")]
mod retry {
    use donjon::retry::{Policy, Retry};
    use tokio::time::Instant;

    use super::*;

    /// Retries every error, after `delay`, up to 100 times.
    #[derive(Clone)]
    struct Always {
        delay: Duration,
        left: usize,
    }

    impl Policy<Job, Duration, BoxError> for Always {
        type Future = tokio::time::Sleep;

        fn retry(
            &mut self,
            _: &mut Job,
            result: &mut Result<Duration, BoxError>,
        ) -> Option<Self::Future> {
            (result.is_err() && self.left > 0).then(|| {
                self.left -= 1;
                tokio::time::sleep(self.delay)
            })
        }

        fn clone_request(&mut self, job: &Job) -> Option<Job> {
            Some(*job)
        }
    }

    /// `Always` retrying after `delay`, `left` times, within each job's
    /// deadline.
    fn within(delay: Duration, left: usize) -> WithinDeadline<Always, DeadlineOf> {
        WithinDeadline::new(Always { delay, left }, deadline_of as DeadlineOf)
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_once_the_deadline_has_passed() {
        // Attempts of 30 ms, retried at once, deadline 100 ms: attempts
        // start at 0, 30, 60 and 90 ms; the one ending at 120 ms finds the
        // deadline passed.
        let (backend, attempts) = failing();
        let policy = within(Duration::ZERO, 100);
        let client = Retry::new(policy, backend);
        let start = Instant::now();
        let due = job(30, Some(100));
        assert!(client.oneshot(due).await.is_err());
        assert_eq!(attempts.load(Ordering::Relaxed), 4);
        assert_eq!(start.elapsed(), ms(120));
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_starts_with_less_than_the_minimum_left() {
        // With 25 ms needed, the attempt ending at 90 ms (10 ms left) is
        // the last: three attempts.
        let (backend, attempts) = failing();
        let policy = within(Duration::ZERO, 100).min_remaining(ms(25));
        let client = Retry::new(policy, backend);
        let due = job(30, Some(100));
        assert!(client.oneshot(due).await.is_err());
        assert_eq!(attempts.load(Ordering::Relaxed), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_whose_delay_outlasts_the_deadline_is_refused_by_admit_below() {
        // One attempt of 30 ms, a delay of 100 ms: the retry would start at
        // 130 ms, past the deadline of 100 ms. Admit under the retry
        // refuses it before it reaches the backend.
        let (backend, attempts) = failing();
        let policy = within(ms(100), 100);
        let client = Retry::new(policy, Admit::new(backend, deadline_of));
        let start = Instant::now();
        let due = job(30, Some(100));
        let error = client.oneshot(due).await.unwrap_err();
        assert!(error.is::<DeadlineExceeded>(), "{error}");
        assert_eq!(
            attempts.load(Ordering::Relaxed),
            1,
            "the retry never reached the backend"
        );
        assert_eq!(start.elapsed(), ms(130));
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_deadline_the_policy_alone_decides() {
        let (backend, attempts) = failing();
        let policy = within(Duration::ZERO, 5);
        let client = Retry::new(policy, backend);
        assert!(
            client
                .oneshot(Job {
                    work: ms(30),
                    deadline: None
                })
                .await
                .is_err()
        );
        assert_eq!(attempts.load(Ordering::Relaxed), 6);
    }
}

#[cfg(feature = "hedge")]
mod hedge {
    use donjon::hedge::Hedge;

    use crate::support::HedgeEvery;

    use super::*;

    /// A hedge after 10 ms (every known response took 10 ms), needing
    /// `min` left, over `backend`.
    fn hedged<S>(backend: S, min: Duration) -> Hedge<S, WithinDeadline<HedgeEvery, DeadlineOf>>
    where
        S: Service<Job, Response = Duration, Error = BoxError> + Clone,
    {
        let policy = WithinDeadline::new(HedgeEvery, deadline_of as DeadlineOf).min_remaining(min);
        Hedge::new_with_mock_latencies(backend, policy, 10, 0.9, Duration::from_secs(60), &[10; 10])
    }

    #[tokio::test(start_paused = true)]
    async fn a_hedge_is_sent_only_with_enough_time_left_when_it_is_due() {
        // The hedge is due at 10 ms. With a deadline at 50 ms and 30 ms
        // needed, 40 ms are left: sent.
        let (backend, attempts) = failing();
        let due = job(100, Some(50));
        assert!(hedged(backend, ms(30)).oneshot(due).await.is_err());
        assert_eq!(attempts.load(Ordering::Relaxed), 2);

        // With a deadline at 35 ms, 25 ms are left: not sent.
        let (backend, attempts) = failing();
        let due = job(100, Some(35));
        assert!(hedged(backend, ms(30)).oneshot(due).await.is_err());
        assert_eq!(attempts.load(Ordering::Relaxed), 1);
    }
}
