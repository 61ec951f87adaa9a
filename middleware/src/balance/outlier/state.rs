//! The detector's state: pure, the time passed in by the caller. What it
//! decides is returned as [`Event`]s, for the caller to report once its lock
//! is released.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::EndpointId;
use super::config::Settings;
use crate::classify::Outcome;
use crate::time::deadline;

/// `at` plus `count` times `interval`, if that fits.
fn plus_intervals(at: Instant, interval: Duration, count: u128) -> Option<Instant> {
    let nanos = interval.as_nanos().checked_mul(count)?;
    at.checked_add(Duration::from_nanos(u64::try_from(nanos).ok()?))
}

/// Why an endpoint is ejected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Reason {
    /// That many failures in a row.
    ConsecutiveFailures(u32),
    /// A success rate below the threshold of its interval.
    SuccessRate { rate: f64, threshold: f64 },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ConsecutiveFailures(failures) => write!(f, "{failures} consecutive failures"),
            Reason::SuccessRate { rate, threshold } => {
                write!(f, "success rate {rate:.4} below {threshold:.4}")
            }
        }
    }
}

/// What the state decided, to report once the lock is released.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Event {
    /// An endpoint was ejected.
    Ejected {
        id: EndpointId,
        reason: Reason,
        duration: Duration,
        /// The ejection multiplier now (`duration` is the base times it,
        /// capped).
        multiplier: u32,
        /// The endpoints ejected, this one included.
        ejected: usize,
        endpoints: usize,
    },
    /// An endpoint would have been ejected, but the share out is full.
    Spared {
        id: EndpointId,
        reason: Reason,
        ejected: usize,
        endpoints: usize,
    },
    /// An endpoint's ejection ended.
    Returned { id: EndpointId, after: Duration },
}

/// One registered endpoint.
#[derive(Debug)]
struct Endpoint {
    /// When its ejection ends, while it is ejected.
    ejected_until: Option<Instant>,
    /// The length of its current or last ejection.
    ejected_for: Duration,
    /// Since when it has been in service: its registration or its last
    /// return.
    in_service_since: Instant,
    /// The ejection multiplier (Envoy's `eject_time_backoff`).
    multiplier: u32,
    consecutive_failures: u32,
    /// Classified calls in the current interval, and the successes among
    /// them.
    requests: u64,
    successes: u64,
}

/// Every endpoint's state, and the detector's clock of intervals.
#[derive(Debug)]
pub(super) struct State {
    settings: Settings,
    endpoints: HashMap<EndpointId, Endpoint>,
    next_id: u64,
    /// The endpoints marked ejected: those whose `ejected_until` is set.
    ejected: usize,
    /// No marked ejection ends before this (the earliest, or earlier).
    next_return: Option<Instant>,
    /// The end of the current interval.
    next_boundary: Instant,
}

impl State {
    /// No endpoint, the first interval starting at `now`.
    pub(super) fn new(settings: Settings, now: Instant) -> Self {
        State {
            settings,
            endpoints: HashMap::new(),
            next_id: 0,
            ejected: 0,
            next_return: None,
            next_boundary: deadline(now, settings.interval),
        }
    }

    /// Registers a new endpoint, in service.
    pub(super) fn register(&mut self, now: Instant, events: &mut Vec<Event>) -> EndpointId {
        self.advance(now, events);
        let id = EndpointId(self.next_id);
        self.next_id += 1;
        self.endpoints.insert(
            id,
            Endpoint {
                ejected_until: None,
                ejected_for: Duration::ZERO,
                in_service_since: now,
                multiplier: 0,
                consecutive_failures: 0,
                requests: 0,
                successes: 0,
            },
        );
        id
    }

    /// Forgets an endpoint; unknown ones are ignored.
    pub(super) fn unregister(&mut self, id: EndpointId, now: Instant, events: &mut Vec<Event>) {
        self.advance(now, events);
        if let Some(endpoint) = self.endpoints.remove(&id) {
            if endpoint.ejected_until.is_some() {
                self.ejected -= 1;
            }
        }
    }

    /// The number of registered endpoints.
    pub(super) fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// The number of endpoints ejected, as last brought up to date.
    #[cfg(feature = "metrics")]
    pub(super) fn ejected_now(&self) -> usize {
        self.ejected
    }

    /// The number of endpoints ejected at `now`.
    pub(super) fn ejected_len(&mut self, now: Instant, events: &mut Vec<Event>) -> usize {
        self.advance(now, events);
        self.ejected
    }

    /// When the ejection of `id` ends, if it is ejected at `now`.
    pub(super) fn ejected_until(
        &mut self,
        id: EndpointId,
        now: Instant,
        events: &mut Vec<Event>,
    ) -> Option<Instant> {
        self.advance(now, events);
        self.endpoints.get(&id)?.ejected_until
    }

    /// Takes in what a call of `id` finished as. Ignored while `id` is
    /// ejected, or unknown.
    pub(super) fn report(
        &mut self,
        id: EndpointId,
        outcome: Outcome,
        now: Instant,
        events: &mut Vec<Event>,
    ) {
        self.advance(now, events);
        let Some(endpoint) = self.endpoints.get_mut(&id) else {
            return;
        };
        if endpoint.ejected_until.is_some() {
            return;
        }
        match outcome {
            Outcome::Success => {
                endpoint.requests += 1;
                endpoint.successes += 1;
                endpoint.consecutive_failures = 0;
            }
            Outcome::Failure => {
                endpoint.requests += 1;
                endpoint.consecutive_failures = endpoint.consecutive_failures.saturating_add(1);
                let failures = endpoint.consecutive_failures;
                if self
                    .settings
                    .consecutive_failures
                    .is_some_and(|threshold| failures >= threshold)
                {
                    self.eject(id, now, Reason::ConsecutiveFailures(failures), events);
                }
            }
            Outcome::Ignored => {}
        }
    }

    /// Brings the state to `now`: the intervals that ended since the last
    /// call (their success-rate checks and multiplier decreases, made as of
    /// their end), and the ejections that ended.
    fn advance(&mut self, now: Instant, events: &mut Vec<Event>) {
        if now >= self.next_boundary {
            let interval = self.settings.interval;
            let first = self.next_boundary;
            self.settle(first, first, events);
            self.check_success_rates(first, events);
            for endpoint in self.endpoints.values_mut() {
                endpoint.requests = 0;
                endpoint.successes = 0;
            }
            // Later boundaries up to `now` saw no call (a call would have
            // brought the state to it): only returns and decreases.
            let more = now.duration_since(first).as_nanos() / interval.as_nanos();
            let last = plus_intervals(first, interval, more).unwrap_or(now);
            if more > 0 {
                self.settle(deadline(first, interval), last, events);
            }
            self.next_boundary = deadline(last, interval);
        }
        if self.next_return.is_some_and(|at| at <= now) {
            self.return_until(now, events);
        }
    }

    /// Applies the interval boundaries `from`, `from + interval`, ... up to
    /// `to`, at which no call was reported: ejections ending by `to` end,
    /// and each endpoint's multiplier decreases by one for each of these
    /// boundaries at which it had been in service for a whole interval.
    fn settle(&mut self, from: Instant, to: Instant, events: &mut Vec<Event>) {
        let interval = self.settings.interval;
        let step = interval.as_nanos();
        for (id, endpoint) in &mut self.endpoints {
            if let Some(until) = endpoint.ejected_until {
                if until > to {
                    continue;
                }
                Self::bring_back(*id, endpoint, until, &mut self.ejected, events);
            }
            // The first boundary at which it has been in service a whole
            // interval.
            let Some(eligible) = endpoint.in_service_since.checked_add(interval) else {
                continue;
            };
            let first = if eligible <= from {
                from
            } else {
                let wait = eligible.duration_since(from).as_nanos();
                match plus_intervals(from, interval, wait.div_ceil(step)) {
                    Some(first) => first,
                    None => continue,
                }
            };
            if first <= to {
                let count = to.duration_since(first).as_nanos() / step + 1;
                let count = u32::try_from(count).unwrap_or(u32::MAX);
                endpoint.multiplier = endpoint.multiplier.saturating_sub(count);
            }
        }
        self.next_return = self.earliest_return();
    }

    /// Ends the ejections that end by `now`.
    fn return_until(&mut self, now: Instant, events: &mut Vec<Event>) {
        for (id, endpoint) in &mut self.endpoints {
            if let Some(until) = endpoint.ejected_until {
                if until <= now {
                    Self::bring_back(*id, endpoint, until, &mut self.ejected, events);
                }
            }
        }
        self.next_return = self.earliest_return();
    }

    /// Ends the ejection of `endpoint` at `at`: back in service, its
    /// consecutive failures counted from zero, its multiplier kept.
    fn bring_back(
        id: EndpointId,
        endpoint: &mut Endpoint,
        at: Instant,
        ejected: &mut usize,
        events: &mut Vec<Event>,
    ) {
        endpoint.ejected_until = None;
        endpoint.in_service_since = at;
        endpoint.consecutive_failures = 0;
        *ejected -= 1;
        events.push(Event::Returned {
            id,
            after: endpoint.ejected_for,
        });
    }

    fn earliest_return(&self) -> Option<Instant> {
        self.endpoints
            .values()
            .filter_map(|endpoint| endpoint.ejected_until)
            .min()
    }

    /// The success-rate check of the interval ending at `at`, over the
    /// endpoints in service with enough calls in it.
    fn check_success_rates(&mut self, at: Instant, events: &mut Vec<Event>) {
        let Some(rule) = self.settings.success_rate else {
            return;
        };
        let rates: Vec<(EndpointId, f64)> = self
            .endpoints
            .iter()
            .filter(|(_, endpoint)| {
                endpoint.ejected_until.is_none() && endpoint.requests >= rule.request_volume
            })
            .map(|(id, endpoint)| (*id, endpoint.successes as f64 / endpoint.requests as f64))
            .collect();
        if rates.is_empty() || rates.len() < rule.minimum_hosts as usize {
            return;
        }
        let count = rates.len() as f64;
        let mean = rates.iter().map(|(_, rate)| rate).sum::<f64>() / count;
        // The population's variance, as Envoy computes it.
        let variance = rates
            .iter()
            .map(|(_, rate)| (rate - mean) * (rate - mean))
            .sum::<f64>()
            / count;
        let threshold = mean - rule.stdev_factor * variance.sqrt();
        let mut outliers: Vec<(EndpointId, f64)> = rates
            .into_iter()
            .filter(|(_, rate)| *rate < threshold)
            .collect();
        // The worst first, when the share cannot take them all.
        outliers.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        for (id, rate) in outliers {
            self.eject(id, at, Reason::SuccessRate { rate, threshold }, events);
        }
    }

    /// How many endpoints may be ejected at once, out of `endpoints`.
    fn allowed(&self, endpoints: usize) -> usize {
        let share = self.settings.max_ejection_share.of(endpoints);
        if self.settings.always_eject_one && endpoints >= 2 {
            share.max(1)
        } else {
            share
        }
    }

    /// Ejects `id` (in service) at `at`, if the share allows.
    fn eject(&mut self, id: EndpointId, at: Instant, reason: Reason, events: &mut Vec<Event>) {
        let endpoints = self.endpoints.len();
        if self.ejected >= self.allowed(endpoints) {
            events.push(Event::Spared {
                id,
                reason,
                ejected: self.ejected,
                endpoints,
            });
            return;
        }
        let Some(endpoint) = self.endpoints.get_mut(&id) else {
            return;
        };
        let base = self.settings.base_ejection_time;
        let max = self.settings.max_ejection_time.max(base);
        // Envoy's rule: the multiplier grows while base × multiplier is
        // below the cap.
        if base
            .checked_mul(endpoint.multiplier)
            .is_some_and(|time| time < max)
        {
            endpoint.multiplier += 1;
        }
        let duration = base
            .checked_mul(endpoint.multiplier)
            .map_or(max, |time| time.min(max));
        let until = deadline(at, duration);
        endpoint.ejected_until = Some(until);
        endpoint.ejected_for = duration;
        endpoint.consecutive_failures = 0;
        let multiplier = endpoint.multiplier;
        self.ejected += 1;
        self.next_return = Some(self.next_return.map_or(until, |next| next.min(until)));
        events.push(Event::Ejected {
            id,
            reason,
            duration,
            multiplier,
            ejected: self.ejected,
            endpoints,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::OutlierDetection;
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn state(detection: OutlierDetection, endpoints: usize) -> (State, Vec<EndpointId>, Instant) {
        let start = Instant::now();
        let mut state = State::new(detection.settings, start);
        let ids = (0..endpoints)
            .map(|_| state.register(start, &mut Vec::new()))
            .collect();
        (state, ids, start)
    }

    fn fail(state: &mut State, id: EndpointId, times: u32, at: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        for _ in 0..times {
            state.report(id, Outcome::Failure, at, &mut events);
        }
        events
    }

    #[test]
    fn an_ejection_is_reported_with_its_reason_and_length() {
        let (mut state, ids, start) = state(OutlierDetection::new(), 2);
        let events = fail(&mut state, ids[0], 5, start);
        assert_eq!(
            events,
            [Event::Ejected {
                id: ids[0],
                reason: Reason::ConsecutiveFailures(5),
                duration: 30 * SECOND,
                multiplier: 1,
                ejected: 1,
                endpoints: 2,
            }]
        );
        let mut events = Vec::new();
        assert_eq!(state.ejected_len(start + 30 * SECOND, &mut events), 0);
        assert_eq!(
            events,
            [Event::Returned {
                id: ids[0],
                after: 30 * SECOND
            }]
        );
    }

    #[test]
    fn decreases_over_skipped_intervals_match_one_by_one() {
        // Ejected at 0 for 30 s (multiplier 1), then again at 30 s for 60 s
        // (multiplier 2), back at 90 s.
        let (mut state, ids, start) = state(OutlierDetection::new().without_success_rate(), 2);
        fail(&mut state, ids[0], 5, start);
        fail(&mut state, ids[0], 5, start + 30 * SECOND);
        assert_eq!(state.endpoints[&ids[0]].multiplier, 2);
        // Boundaries at 100 s and 110 s are the first after a whole
        // interval in service (back at 90 s): 2 − 2 = 0, in one jump.
        let mut one_jump = Vec::new();
        state.ejected_len(start + 115 * SECOND, &mut one_jump);
        assert_eq!(state.endpoints[&ids[0]].multiplier, 0);

        let (mut stepped, ids, start) =
            self::state(OutlierDetection::new().without_success_rate(), 2);
        fail(&mut stepped, ids[0], 5, start);
        fail(&mut stepped, ids[0], 5, start + 30 * SECOND);
        for (at, multiplier) in [(90, 2), (100, 1), (105, 1), (110, 0), (115, 0)] {
            stepped.ejected_len(start + at * SECOND, &mut Vec::new());
            assert_eq!(
                stepped.endpoints[&ids[0]].multiplier, multiplier,
                "at {at} s"
            );
        }
    }

    #[test]
    fn the_worst_success_rate_is_ejected_first_when_the_share_is_short() {
        let detection = OutlierDetection::new()
            .without_consecutive_failures()
            .with_success_rate_request_volume(10)
            .with_success_rate_stdev_factor(1.0);
        let (mut state, ids, start) = state(detection, 6);
        // Rates 1, 1, 1, 1, 0.2 and 0.1: mean 4.3 / 6 ≈ 0.717, stdev
        // ≈ 0.402, threshold ≈ 0.315 with a factor of 1; both low ones are
        // below, but one only may be out (⌊0.6⌋ = 0, and one always may).
        for (index, successes) in [10, 10, 10, 10, 2, 1].into_iter().enumerate() {
            for call in 0..10 {
                let outcome = if call < successes {
                    Outcome::Success
                } else {
                    Outcome::Failure
                };
                state.report(ids[index], outcome, start, &mut Vec::new());
            }
        }
        let mut events = Vec::new();
        state.ejected_len(start + 10 * SECOND, &mut events);
        assert!(
            matches!(events[0], Event::Ejected { id, .. } if id == ids[5]),
            "{events:?}"
        );
        assert!(
            matches!(events[1], Event::Spared { id, .. } if id == ids[4]),
            "{events:?}"
        );
    }
}
