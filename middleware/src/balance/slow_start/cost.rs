//! [`AsF64`]: a load metric read as a number, for slow start to scale it.

/// A [`Load`](crate::load::Load) metric read as a number, so that
/// [`Warming`](super::Warming) can divide it by a weight.
///
/// Only the metric's ordering matters to a balancer, but scaling it needs a
/// number: `as_f64` must order as the metric does (`a < b` implies
/// `a.as_f64() <= b.as_f64()`) and be zero or more, zero meaning idle.
///
/// Implemented for the unsigned integers, `f32` and `f64` (the metrics of
/// [`Constant`](crate::load::Constant) loads), for
/// [`load::Cost`](crate::load::peak_ewma::Cost) ([`PeakEwma`](crate::load::PeakEwma)'s)
/// and [`load::Count`](crate::load::pending_requests::Count)
/// ([`PendingRequests`](crate::load::PendingRequests)'s), and for
/// [`Weighted`](super::Weighted) itself. Implement it for a metric of your
/// own to warm the endpoints that report it.
///
/// # Examples
///
/// ```
/// use donjon::balance::slow_start::AsF64;
///
/// /// A replica's replication lag.
/// #[derive(PartialEq, PartialOrd)]
/// struct Lag(std::time::Duration);
///
/// impl AsF64 for Lag {
///     fn as_f64(&self) -> f64 {
///         self.0.as_secs_f64()
///     }
/// }
///
/// assert_eq!(Lag(std::time::Duration::from_millis(1500)).as_f64(), 1.5);
/// assert_eq!(7_u32.as_f64(), 7.0);
/// ```
pub trait AsF64 {
    /// The metric as a number, ordered as the metric is, zero or more.
    fn as_f64(&self) -> f64;
}

macro_rules! as_f64_lossless {
    ($($ty:ty),*) => {$(
        impl AsF64 for $ty {
            #[inline]
            fn as_f64(&self) -> f64 {
                f64::from(*self)
            }
        }
    )*};
}

as_f64_lossless!(u8, u16, u32, f32, f64);

macro_rules! as_f64_rounded {
    ($($ty:ty),*) => {$(
        impl AsF64 for $ty {
            /// Rounded to the nearest `f64` above 2^53; the order is kept,
            /// ties aside.
            #[inline]
            fn as_f64(&self) -> f64 {
                *self as f64
            }
        }
    )*};
}

as_f64_rounded!(u64, usize);
