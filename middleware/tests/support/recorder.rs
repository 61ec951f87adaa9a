//! The recorder of the metrics tests: donjon-test's.

#[allow(
    unused_imports,
    reason = "each test binary includes the support module; some record no metrics"
)]
pub(crate) use donjon_test::metrics::Recorded;
