//! The metrics of the middleware other than the circuit breaker: each
//! module drives one middleware through the scenario that moves its
//! metrics, and reads them back from a recorder of its own.

#[cfg(feature = "load-shed")]
mod load_shed {
    use donjon::load_shed::error::Overloaded;
    use donjon::load_shed::{LoadShed, LoadShedLayer};
    use donjon_test::assert_request_eq;
    use donjon_test::mock::{self, Spawn};
    use tokio_test::{assert_ready_err, assert_ready_ok, task};

    use crate::support::recorder::Recorded;

    type Mock = mock::Mock<&'static str, &'static str>;
    type Handle = mock::Handle<&'static str, &'static str>;

    const SHED: &str = "donjon_load_shed_total";

    /// Sends one request through `service` while `handle` allows no call:
    /// it is shed.
    fn shed_one(service: &mut Spawn<LoadShed<Mock>>, handle: &mut Handle) {
        handle.allow(0);
        assert_ready_ok!(service.poll_ready(), "a load shed is always ready");
        let mut response = task::spawn(service.call("hello"));
        let error = assert_ready_err!(response.poll());
        assert!(error.is::<Overloaded>(), "unexpected error: {error}");
    }

    #[tokio::test]
    async fn shed_requests_are_counted_under_the_layers_name_and_served_ones_are_not() {
        let recorded = Recorded::default();
        let (mut service, mut handle) =
            recorded.with(|| mock::spawn_layer(LoadShedLayer::new().with_name("api")));
        assert_eq!(recorded.counter(SHED, &[("name", "api")]), 0);

        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("hello"));
        assert_request_eq!(handle, "hello").send_response("world");
        assert_ready_ok!(response.poll());
        assert_eq!(recorded.counter(SHED, &[("name", "api")]), 0);

        shed_one(&mut service, &mut handle);
        shed_one(&mut service, &mut handle);
        assert_eq!(recorded.counter(SHED, &[("name", "api")]), 2);
    }

    #[test]
    fn clones_count_into_the_same_counter() {
        let recorded = Recorded::default();
        let (mock, mut handle) = mock::pair();
        let original = recorded.with(|| LoadShed::new(mock).with_name("direct"));
        let mut clone = Spawn::new(original.clone());
        let mut original = Spawn::new(original);
        shed_one(&mut original, &mut handle);
        shed_one(&mut clone, &mut handle);
        assert_eq!(recorded.counter(SHED, &[("name", "direct")]), 2);
    }

    #[test]
    fn an_unnamed_layer_counts_as_load_shed() {
        let recorded = Recorded::default();
        let (mut service, mut handle) = recorded.with(|| mock::spawn_layer(LoadShedLayer::new()));
        shed_one(&mut service, &mut handle);
        assert_eq!(recorded.counter(SHED, &[("name", "load_shed")]), 1);
    }
}
