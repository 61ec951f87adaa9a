//! Property tests of `RateLimit`: its admissions and calls against a model
//! of its documented fixed windows, over any requests from any clones and
//! any advances of tokio's paused clock (in whole milliseconds, the step of
//! tokio's timer).

use std::sync::PoisonError;
use std::task::{Context, Waker};
use std::time::Duration;

use donjon::Service;
use donjon::limit::rate::{Rate, RateLimit};
use proptest::collection::vec;
use proptest::prelude::*;
use tokio::time::{Instant, advance};

use crate::support::{Recorder, paused_runtime, proptest_config};

/// What a handle picked does: with the request of the budget it holds if
/// it holds one, or else with the one its `poll_ready` just took, if any.
#[derive(Clone, Copy, Debug)]
enum Use {
    /// Calls the service.
    Call,
    /// Is dropped unused, and replaced by a fresh clone.
    Drop,
    /// Keeps it, for a later pick.
    Hold,
}

/// One window, as the model opened it.
#[derive(Clone, Debug, Default)]
struct Window {
    start: u64,
    /// The calls that started in it.
    calls: u64,
    /// Of those, the calls charged to a later window, this one being spent.
    overdrawn: u64,
}

/// `RateLimit` as its documentation describes it, in milliseconds: a window
/// opens with the first request of the budget taken after the previous one
/// ended, lasts `per`, and holds `num` requests; a request taken in a window
/// and used after it ended is charged to the window its call starts in, or,
/// when that one is spent, to the next.
#[derive(Debug)]
struct Model {
    num: u64,
    per: u64,
    windows: Vec<Window>,
    /// Requests left in the last window.
    remaining: u64,
    /// Calls to take from the next window.
    overdraft: u64,
}

impl Model {
    fn new(num: u64, per: u64) -> Self {
        Model {
            num,
            per,
            windows: Vec::new(),
            remaining: 0,
            overdraft: 0,
        }
    }

    /// The window open at `now`, if any.
    fn open_at(&self, now: u64) -> Option<usize> {
        let last = self.windows.len().checked_sub(1)?;
        (now < self.windows[last].start + self.per).then_some(last)
    }

    fn open(&mut self, now: u64) -> usize {
        let paid_back = self.overdraft.min(self.num);
        self.overdraft -= paid_back;
        self.remaining = self.num - paid_back;
        self.windows.push(Window {
            start: now,
            ..Window::default()
        });
        self.windows.len() - 1
    }

    /// `poll_ready`: the window the request was taken in, or `None` (not
    /// ready).
    fn take(&mut self, now: u64) -> Option<usize> {
        let window = match self.open_at(now) {
            Some(window) => window,
            None => self.open(now),
        };
        (self.remaining > 0).then(|| {
            self.remaining -= 1;
            window
        })
    }

    /// `call`, with a request taken in window `taken`.
    fn call(&mut self, taken: usize, now: u64) {
        if self.open_at(now) == Some(taken) {
            self.windows[taken].calls += 1;
            return;
        }
        // Charged to the window the call starts in.
        let window = match self.open_at(now) {
            Some(window) => window,
            None => self.open(now),
        };
        self.windows[window].calls += 1;
        if self.remaining > 0 {
            self.remaining -= 1;
        } else {
            self.overdraft += 1;
            self.windows[window].overdrawn += 1;
        }
    }

    /// A request taken in window `taken`, dropped unused.
    fn give_back(&mut self, taken: usize, now: u64) {
        if self.open_at(now) == Some(taken) {
            self.remaining += 1;
        }
    }

    /// The window a call at `at` started in.
    fn window_of(&self, at: u64) -> Option<usize> {
        self.windows
            .iter()
            .position(|window| window.start <= at && at < window.start + self.per)
    }
}

/// Plays `steps` (an advance in milliseconds, then picks: which clone, and
/// what it does) on `clones` clones of a `RateLimit` of `num` per `per`
/// milliseconds, checking every `poll_ready` against the model. Returns the
/// model and the times of the calls the service received.
fn play(
    num: u64,
    per: u64,
    clones: usize,
    steps: Vec<(u64, Vec<(usize, Use)>)>,
) -> Result<(Model, Vec<u64>), TestCaseError> {
    paused_runtime().block_on(async move {
        let start = Instant::now();
        let recorder = Recorder::new(start);
        let log = recorder.log();
        let original = RateLimit::new(recorder, Rate::new(num, Duration::from_millis(per)));
        let mut handles: Vec<_> = (0..clones).map(|_| original.clone()).collect();
        // The window of the request each handle holds.
        let mut holding: Vec<Option<usize>> = vec![None; clones];
        let mut model = Model::new(num, per);
        let mut cx = Context::from_waker(Waker::noop());
        for (step, (millis, picks)) in steps.into_iter().enumerate() {
            advance(Duration::from_millis(millis)).await;
            let now = u64::try_from(start.elapsed().as_millis()).expect("a short test");
            for (which, then) in picks {
                let i = which % clones;
                let taken = match holding[i].take() {
                    Some(taken) => taken,
                    None => {
                        let ready = handles[i].poll_ready(&mut cx).is_ready();
                        let expected = model.take(now);
                        prop_assert_eq!(
                            ready,
                            expected.is_some(),
                            "poll_ready of clone {} at {} ms (step {}): {:?}",
                            i,
                            now,
                            step,
                            model
                        );
                        match expected {
                            Some(taken) => taken,
                            None => continue,
                        }
                    }
                };
                match then {
                    Use::Call => {
                        drop(handles[i].call(()));
                        model.call(taken, now);
                    }
                    Use::Drop => {
                        handles[i] = original.clone();
                        model.give_back(taken, now);
                    }
                    Use::Hold => holding[i] = Some(taken),
                }
            }
        }
        let calls: Vec<u64> = log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|time| u64::try_from(time.as_millis()).expect("a short test"))
            .collect();
        Ok((model, calls))
    })
}

/// Checks that the calls the service received started in the windows the
/// model says, as many in each.
fn check_calls(model: &Model, calls: &[u64]) -> Result<(), TestCaseError> {
    let mut counted = vec![0; model.windows.len()];
    for &at in calls {
        let window = model.window_of(at);
        prop_assert!(window.is_some(), "a call at {} ms, in no window", at);
        counted[window.unwrap_or_default()] += 1;
    }
    let expected: Vec<u64> = model.windows.iter().map(|window| window.calls).collect();
    prop_assert_eq!(counted, expected, "calls per window; {:?}", model);
    Ok(())
}

/// Advances of up to `3 × per` ms, each followed by a few picks.
fn steps(
    per: u64,
    uses: impl Strategy<Value = Use> + Clone,
) -> impl Strategy<Value = Vec<(u64, Vec<(usize, Use)>)>> {
    vec(
        (
            prop_oneof![2 => Just(0), 3 => 0..per, 1 => per..=3 * per],
            vec((0usize..8, uses), 0..6),
        ),
        1..80,
    )
}

proptest! {
    #![proptest_config(proptest_config(128))]

    #[test]
    fn no_window_starts_more_than_num_calls_made_at_once_and_admissions_match_a_model(
        (num, per, steps) in (1u64..6, 1u64..40).prop_flat_map(|(num, per)| {
            let uses = prop_oneof![4 => Just(Use::Call), 1 => Just(Use::Drop)];
            (Just(num), Just(per), steps(per, uses))
        }),
        clones in 1usize..4,
    ) {
        let (model, calls) = play(num, per, clones, steps)?;
        check_calls(&model, &calls)?;
        for (i, window) in model.windows.iter().enumerate() {
            prop_assert!(
                window.calls <= num,
                "{} calls in window {} ({:?}), with {} per {} ms", window.calls, i, window, num, per
            );
        }
    }

    #[test]
    fn a_late_call_is_charged_to_the_window_it_starts_in_and_any_overdraft_to_the_next(
        (num, per, steps) in (1u64..6, 1u64..40).prop_flat_map(|(num, per)| {
            let uses = prop_oneof![3 => Just(Use::Call), 1 => Just(Use::Drop), 2 => Just(Use::Hold)];
            (Just(num), Just(per), steps(per, uses))
        }),
        clones in 1usize..5,
    ) {
        let (model, calls) = play(num, per, clones, steps)?;
        check_calls(&model, &calls)?;
        // Calls the windows so far charged to the windows after them.
        let mut owed = 0;
        let mut total = 0;
        for (k, window) in model.windows.iter().enumerate() {
            owed -= owed.min(num);
            owed += window.overdrawn;
            total += window.calls;
            prop_assert!(
                window.calls <= num + window.overdrawn,
                "window {}: {:?}, with {} per {} ms", k, window, num, per
            );
            prop_assert!(
                total <= (k as u64 + 1) * num + owed,
                "{} calls in the first {} windows, {} of them owed; {:?}", total, k + 1, owed, model
            );
            // Each clone holds at most one request of the budget.
            prop_assert!(owed <= clones as u64, "{} calls owed by {} clones", owed, clones);
        }
    }
}
