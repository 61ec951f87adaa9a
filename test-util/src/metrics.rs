//! A `metrics` recorder for tests: it keeps every value it is given and
//! reads them back by name and labels, without resetting them (unlike
//! `metrics-util`'s debugging recorder, whose snapshots reset counters and
//! gauges). Feature `metrics`.
//!
//! Make the services under test inside [`Recorded::with`]: donjon takes
//! each metric's handle when a service is made, from the recorder current
//! then.
//!
//! # Examples
//!
//! ```
//! use donjon_test::metrics::Recorded;
//!
//! let recorded = Recorded::default();
//! recorded.with(|| {
//!     metrics::counter!("requests_total", "name" => "api").increment(2);
//!     metrics::gauge!("in_flight", "name" => "api").set(3.0);
//! });
//! assert_eq!(recorded.counter("requests_total", &[("name", "api")]), 2);
//! assert_eq!(recorded.gauge("in_flight", &[("name", "api")]), 3.0);
//! // Read again: nothing was reset.
//! assert_eq!(recorded.counter("requests_total", &[]), 2);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};

/// A recorder keeping the values recorded for each metric, by key; clones
/// share them.
#[derive(Clone, Default)]
pub struct Recorded {
    counters: Arc<Mutex<HashMap<Key, Arc<AtomicU64>>>>,
    gauges: Arc<Mutex<HashMap<Key, Arc<AtomicU64>>>>,
    histograms: Arc<Mutex<HashMap<Key, Arc<Samples>>>>,
}

#[derive(Default)]
struct Samples(Mutex<Vec<f64>>);

impl HistogramFn for Samples {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

/// The one handle of `key` in `map`, made on first use.
fn handle<T: Default>(map: &Mutex<HashMap<Key, Arc<T>>>, key: &Key) -> Arc<T> {
    Arc::clone(map.lock().unwrap().entry(key.clone()).or_default())
}

/// The handle in `map` whose name is `name` and whose labels include `labels`.
fn find<T>(
    map: &Mutex<HashMap<Key, Arc<T>>>,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<Arc<T>> {
    map.lock()
        .unwrap()
        .iter()
        .find(|(key, _)| {
            key.name() == name
                && labels.iter().all(|(label, value)| {
                    key.labels()
                        .any(|l| l.key() == *label && l.value() == *value)
                })
        })
        .map(|(_, handle)| Arc::clone(handle))
}

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorded")
            .field("counters", &self.counters.lock().unwrap().len())
            .field("gauges", &self.gauges.lock().unwrap().len())
            .field("histograms", &self.histograms.lock().unwrap().len())
            .finish()
    }
}

impl Recorded {
    /// Runs `f` with this recorder as the thread's: the handles a service
    /// takes while being made there record here.
    pub fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self, f)
    }

    /// The counter `name` whose labels include `labels`.
    ///
    /// # Panics
    ///
    /// If no such counter was registered.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        find(&self.counters, name, labels)
            .unwrap_or_else(|| panic!("no counter {name} {labels:?}"))
            .load(Ordering::SeqCst)
    }

    /// The gauge `name` whose labels include `labels`.
    ///
    /// # Panics
    ///
    /// If no such gauge was registered.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let bits = find(&self.gauges, name, labels)
            .unwrap_or_else(|| panic!("no gauge {name} {labels:?}"))
            .load(Ordering::SeqCst);
        f64::from_bits(bits)
    }

    /// The samples of the histogram `name` whose labels include `labels`.
    ///
    /// # Panics
    ///
    /// If no such histogram was registered.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        find(&self.histograms, name, labels)
            .unwrap_or_else(|| panic!("no histogram {name} {labels:?}"))
            .0
            .lock()
            .unwrap()
            .clone()
    }
}

impl Recorder for Recorded {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(handle(&self.counters, key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(handle(&self.gauges, key))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(handle(&self.histograms, key))
    }
}
