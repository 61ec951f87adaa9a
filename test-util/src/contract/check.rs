//! [`Contract`]: the configuration of a check, and its entry points.

use std::any::type_name;
use std::fmt::{self, Debug};

use donjon_layer::Layer;
use donjon_service::Service;

use super::report::{Report, Violation};
use super::rule::Rule;
use super::scenarios;
use crate::mock::Mock;

/// How many response futures [`Rule::DropReleases`] drops by default.
const DEFAULT_ROUNDS: usize = 8;

/// Checks that a [`Layer`] keeps the readiness contract, by building
/// services with it around [`Mock`]s; see the [module documentation](super).
///
/// Made with [`new`](Contract::new) from the layer and a function that makes
/// the requests to send, and configured with [`skip`](Contract::skip) and
/// [`with_rounds`](Contract::with_rounds). The checks are `async`:
///
/// - [`check`](Contract::check) and [`report`](Contract::report) check
///   every rule but [`Rule::CloneStartsUnready`], for any service;
/// - [`check_cloneable`](Contract::check_cloneable) and
///   [`report_cloneable`](Contract::report_cloneable) check every rule, for
///   services that are `Clone`.
///
/// `check*` panics when a rule breaks; `report*` returns a [`Report`].
///
/// The type parameters of these methods are the mock's request and response
/// types, `T` and `U` of [`Mock<T, U>`]; name them when the layer works
/// with any service (`check::<&str, &str>()`). The requests sent to the
/// service under test come from the function given to `new`, so they may be
/// of another type than `T` (for a layer that maps requests).
///
/// # Examples
///
/// ```
/// use donjon_layer::Identity;
/// use donjon_test::contract::{Contract, Rule};
///
/// # tokio_test::block_on(async {
/// // The mock itself keeps the contract.
/// Contract::new(Identity::new(), || "hello")
///     .check_cloneable::<&str, &str>()
///     .await;
///
/// // The rounds of `DropReleases` should exceed any capacity of the layer.
/// let report = Contract::new(Identity::new(), || 7_u32)
///     .with_rounds(3)
///     .skip(Rule::ErrorSurfaces, "shown here; the mock surfaces its errors")
///     .report::<u32, u32>()
///     .await;
/// assert_eq!(report.skipped(), [(Rule::ErrorSurfaces, "shown here; the mock surfaces its errors")]);
/// # });
/// ```
#[must_use = "a contract checks nothing until one of its check or report methods is awaited"]
pub struct Contract<L, F> {
    layer: L,
    request: F,
    skipped: Vec<(Rule, &'static str)>,
    rounds: usize,
}

impl<L, F> Contract<L, F> {
    /// A check of `layer`, sending requests made by `request`.
    ///
    /// `request` is called once for each request the checks send; it may
    /// make the same request each time (`|| "hello"`).
    pub const fn new(layer: L, request: F) -> Self {
        Contract {
            layer,
            request,
            skipped: Vec::new(),
            rounds: DEFAULT_ROUNDS,
        }
    }

    /// Declares that the middleware does not keep `rule`, and why: the rule
    /// is not checked, and the report lists it with the reason.
    ///
    /// Use it for documented behaviour (a load shedder is ready while its
    /// inner service is not) and, with a reason starting `known bug:`, for a
    /// bug that is not fixed yet. Skipping a rule again replaces the reason.
    ///
    /// # Panics
    ///
    /// If `reason` is empty or only whitespace: an exception to the contract
    /// must say why.
    pub fn skip(mut self, rule: Rule, reason: &'static str) -> Self {
        assert!(
            !reason.trim().is_empty(),
            "Contract::skip needs a reason: say why the middleware does not keep {rule:?}"
        );
        match self
            .skipped
            .iter_mut()
            .find(|(skipped, _)| *skipped == rule)
        {
            Some(skip) => skip.1 = reason,
            None => self.skipped.push((rule, reason)),
        }
        self
    }

    /// Sets how many response futures [`Rule::DropReleases`] drops, one
    /// after the other (8 by default). Make it larger than any capacity the
    /// layer has (a concurrency limit, a queue bound), so that a leak shows.
    ///
    /// # Panics
    ///
    /// If `rounds` is zero.
    pub fn with_rounds(mut self, rounds: usize) -> Self {
        assert!(rounds > 0, "Contract::with_rounds needs at least one round");
        self.rounds = rounds;
        self
    }

    /// Whether `rule` is to be checked.
    fn checks(&self, rule: Rule) -> bool {
        !self.skipped.iter().any(|(skipped, _)| *skipped == rule)
    }

    /// The rules checked by `report` (or `report_cloneable`, with `clone`).
    fn checked(&self, clone: bool) -> Vec<Rule> {
        Rule::ALL
            .into_iter()
            .filter(|rule| self.checks(*rule) && (clone || !rule.needs_clone()))
            .collect()
    }

    fn report_of(&self, clone: bool, observed: Vec<Violation>) -> Report {
        Report::new(
            type_name::<L>(),
            &self.checked(clone),
            self.skipped.clone(),
            observed,
        )
    }
}

impl<L, F, R> Contract<L, F>
where
    F: FnMut() -> R,
{
    /// Checks every rule but [`Rule::CloneStartsUnready`] and reports what
    /// held and what broke.
    ///
    /// `T` and `U` are the mock's request and response types. Run it inside
    /// a tokio runtime if the middleware needs one (see [Runtime](super#runtime)).
    pub async fn report<T, U>(&mut self) -> Report
    where
        L: Layer<Mock<T, U>>,
        L::Service: Service<R>,
        <L::Service as Service<R>>::Error: Debug,
    {
        let mut observed = Vec::new();
        self.run::<T, U>(&mut observed).await;
        self.report_of(false, observed)
    }

    /// Checks every rule, [`Rule::CloneStartsUnready`] included, and reports
    /// what held and what broke.
    ///
    /// `T` and `U` are the mock's request and response types. Run it inside
    /// a tokio runtime if the middleware needs one (see [Runtime](super#runtime)).
    pub async fn report_cloneable<T, U>(&mut self) -> Report
    where
        L: Layer<Mock<T, U>>,
        L::Service: Service<R> + Clone,
        <L::Service as Service<R>>::Error: Debug,
    {
        let mut observed = Vec::new();
        self.run::<T, U>(&mut observed).await;
        if self.checks(Rule::CloneStartsUnready) {
            let outcome = scenarios::clone_starts_unready(&self.layer, &mut self.request).await;
            observed.extend(outcome.err());
        }
        if self.checks(Rule::WakeupReachesCaller) {
            let outcome = scenarios::clone_wakeups::<_, T, U, R>(&self.layer).await;
            observed.extend(outcome.err());
        }
        self.report_of(true, observed)
    }

    /// Checks every rule but [`Rule::CloneStartsUnready`].
    ///
    /// `T` and `U` are the mock's request and response types. Run it inside
    /// a tokio runtime if the middleware needs one (see [Runtime](super#runtime)).
    ///
    /// # Panics
    ///
    /// If a rule broke, with the [`Report`] as the message: the rule (its
    /// name and sentence) and what was observed.
    pub async fn check<T, U>(&mut self)
    where
        L: Layer<Mock<T, U>>,
        L::Service: Service<R>,
        <L::Service as Service<R>>::Error: Debug,
    {
        self.report::<T, U>().await.assert_ok();
    }

    /// Checks every rule, [`Rule::CloneStartsUnready`] included.
    ///
    /// `T` and `U` are the mock's request and response types. Run it inside
    /// a tokio runtime if the middleware needs one (see [Runtime](super#runtime)).
    ///
    /// # Panics
    ///
    /// If a rule broke, with the [`Report`] as the message: the rule (its
    /// name and sentence) and what was observed.
    pub async fn check_cloneable<T, U>(&mut self)
    where
        L: Layer<Mock<T, U>>,
        L::Service: Service<R> + Clone,
        <L::Service as Service<R>>::Error: Debug,
    {
        self.report_cloneable::<T, U>().await.assert_ok();
    }

    /// Runs the scenarios of every rule that does not need a clone.
    async fn run<T, U>(&mut self, observed: &mut Vec<Violation>)
    where
        L: Layer<Mock<T, U>>,
        L::Service: Service<R>,
        <L::Service as Service<R>>::Error: Debug,
    {
        let checked = self.checked(false);
        let checks = |rule: Rule| checked.contains(&rule);
        let layer = &self.layer;
        let request = &mut self.request;
        // What a scenario noted on the way comes before what ended it.
        if checks(Rule::PendingPropagates) || checks(Rule::WakeupReachesCaller) {
            let outcome = scenarios::readiness(layer, request(), observed).await;
            observed.extend(outcome.err());
        }
        if checks(Rule::WakeupReachesCaller) {
            let outcome = scenarios::drop_wakeups(layer, request).await;
            observed.extend(outcome.err());
        }
        if checks(Rule::OneCallPerReady) {
            let outcome = scenarios::one_call(layer, request, observed).await;
            observed.extend(outcome.err());
        }
        if checks(Rule::DropReleases) {
            let outcome = scenarios::drop_releases(layer, request, self.rounds, observed).await;
            observed.extend(outcome.err());
        }
        if checks(Rule::ErrorSurfaces) {
            let outcome = scenarios::error_surfaces(layer, request).await;
            observed.extend(outcome.err());
        }
    }
}

impl<L, F> fmt::Debug for Contract<L, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("layer", &type_name::<L>())
            .field("skipped", &self.skipped)
            .field("rounds", &self.rounds)
            .finish_non_exhaustive()
    }
}
