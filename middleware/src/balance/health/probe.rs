//! [`Probe`]: the user's check of an endpoint, and [`ProbeIf`], which checks
//! only some endpoints.

use std::fmt;
use std::future::Future;

/// A check of an endpoint's health, given the endpoint's key (its address,
/// say): `Ok(())` passes, an error fails.
///
/// Implemented for every `Fn(&K) -> impl Future<Output = Result<(), E>>`
/// whose future is `Send + 'static` (clone what it needs from the key), and
/// `E: Display` (the error is shown in the events). Each endpoint's probes
/// run in a task of their own, so the probe is shared between tasks: it is
/// `Send + Sync`.
///
/// Which endpoints are checked is up to [`checks`](Probe::checks), asked
/// once per endpoint when it is inserted: every endpoint by default;
/// [`ProbeIf`] checks those a predicate selects.
///
/// # Examples
///
/// ```
/// use donjon::balance::health::{Probe, ProbeIf};
///
/// // A probe of its own: never checks a local endpoint.
/// struct Ping;
///
/// impl Probe<String> for Ping {
///     type Error = std::io::Error;
///     type Future = std::future::Ready<Result<(), std::io::Error>>;
///
///     fn probe(&self, _address: &String) -> Self::Future {
///         // A real probe would connect to the address.
///         std::future::ready(Ok(()))
///     }
///
///     fn checks(&self, address: &String) -> bool {
///         !address.starts_with("127.")
///     }
/// }
/// assert!(!Ping.checks(&"127.0.0.1:80".to_owned()));
///
/// // A closure, with a predicate.
/// let probe = ProbeIf::new(
///     |address: &&str| !address.starts_with("127."),
///     |address: &&str| {
///         let address = address.to_string();
///         async move { if address.is_empty() { Err("no address") } else { Ok(()) } }
///     },
/// );
/// assert!(probe.checks(&"10.0.0.1:80"));
/// assert!(!probe.checks(&"127.0.0.1:80"));
/// ```
pub trait Probe<K> {
    /// Why a probe failed.
    type Error: fmt::Display;

    /// A probe in flight.
    type Future: Future<Output = Result<(), Self::Error>> + Send + 'static;

    /// Probes the endpoint with this key.
    fn probe(&self, key: &K) -> Self::Future;

    /// Whether the endpoint with this key is checked at all: asked once,
    /// when it is inserted. `true` by default.
    fn checks(&self, key: &K) -> bool {
        let _ = key;
        true
    }
}

impl<K, F, Fut, E> Probe<K> for F
where
    F: Fn(&K) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display,
{
    type Error = E;
    type Future = Fut;

    fn probe(&self, key: &K) -> Fut {
        self(key)
    }
}

/// A [`Probe`] that checks only the endpoints whose key `predicate`
/// accepts; the others are never probed, and always healthy.
///
/// # Examples
///
/// See [`Probe`].
#[derive(Clone, Copy)]
pub struct ProbeIf<F, P> {
    predicate: F,
    probe: P,
}

impl<F, P> ProbeIf<F, P> {
    /// Checks with `probe` the endpoints whose key `predicate` accepts.
    pub const fn new(predicate: F, probe: P) -> Self {
        ProbeIf { predicate, probe }
    }

    /// The probe.
    pub const fn get_ref(&self) -> &P {
        &self.probe
    }

    /// Unwraps the probe.
    pub fn into_inner(self) -> P {
        self.probe
    }
}

impl<F, P> fmt::Debug for ProbeIf<F, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeIf").finish_non_exhaustive()
    }
}

impl<K, F, P> Probe<K> for ProbeIf<F, P>
where
    F: Fn(&K) -> bool,
    P: Probe<K>,
{
    type Error = P::Error;
    type Future = P::Future;

    fn probe(&self, key: &K) -> P::Future {
        self.probe.probe(key)
    }

    fn checks(&self, key: &K) -> bool {
        (self.predicate)(key) && self.probe.checks(key)
    }
}
