/// Chooses which service a request goes to.
///
/// Any `Fn(&Req, &[S]) -> usize` is a picker.
///
/// # Examples
///
/// ```
/// use donjon::steer::Picker;
///
/// /// Spreads requests over the services by a key in the request.
/// struct ByKey;
///
/// impl<S> Picker<S, (u64, String)> for ByKey {
///     fn pick(&mut self, request: &(u64, String), services: &[S]) -> usize {
///         (request.0 % services.len() as u64) as usize
///     }
/// }
///
/// assert_eq!(ByKey.pick(&(7, "payload".to_string()), &[(), (), ()]), 1);
/// ```
pub trait Picker<S, Req> {
    /// Returns the index in `services` of the service `r` goes to.
    ///
    /// An index out of bounds makes [`Steer::call`](super::Steer) panic.
    fn pick(&mut self, r: &Req, services: &[S]) -> usize;
}

impl<S, F, Req> Picker<S, Req> for F
where
    F: Fn(&Req, &[S]) -> usize,
{
    fn pick(&mut self, r: &Req, services: &[S]) -> usize {
        self(r, services)
    }
}
