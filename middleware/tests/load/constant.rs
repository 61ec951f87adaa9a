//! `Constant`: a fixed load around an inner service, and its `Discover` wrapper.

use super::*;

#[test]
fn reports_the_load_it_was_given() {
    assert_eq!(load_of(&Constant::new(Echo, 3_u32)), 3);
    assert_eq!(load_of(&Constant::new(Echo, 0.5_f64)), 0.5);
    assert!(load_of(&Constant::new(Echo, 1)) < load_of(&Constant::new(Echo, 2)));
}

#[test]
fn calls_do_not_change_the_load() {
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 7));
    assert_ready_ok!(service.poll_ready());
    let _response = service.call("hello");
    assert_eq!(service.get_ref().load(), 7);
    let (request, _) = tokio_test::assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(request, "hello");
}

#[test]
fn readiness_follows_the_inner_service() {
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 1));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn requests_and_responses_pass_through() {
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 1));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn inner_errors_pass_through() {
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 1));

    handle.send_error("not today");
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.to_string(), "not today");

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("bad gateway");
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.to_string(), "bad gateway");
}

#[test]
fn a_dropped_inner_service_fails_readiness() {
    let (mut service, handle) = mock::spawn_with(|mock: Mock| Constant::new(mock, 1));
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<mock::error::Closed>(), "{error}");
}

#[cfg(feature = "discover")]
mod discover {
    use std::pin::Pin;

    use donjon::discover::{Change, Discover};
    use tokio_stream::wrappers::UnboundedReceiverStream;
    use tokio_test::assert_ready;

    use super::*;

    type Changes = Result<Change<&'static str, Mock>, &'static str>;

    #[test]
    fn wraps_each_inserted_service_and_passes_the_rest_through() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes>();
        let mut discover = Constant::new(UnboundedReceiverStream::new(rx), 42_u8);
        let mut task = task::spawn(());
        let mut poll = |discover: &mut Constant<_, u8>| {
            task.enter(|cx, _| Pin::new(discover).poll_discover(cx))
        };

        assert_pending!(poll(&mut discover));

        let (mock, mut handle) = mock::pair();
        tx.send(Ok(Change::Insert("a", mock))).unwrap();
        tx.send(Ok(Change::Remove("b"))).unwrap();
        tx.send(Err("dns")).unwrap();

        match assert_ready!(poll(&mut discover)).unwrap().unwrap() {
            Change::Insert(key, mut service) => {
                assert_eq!(key, "a");
                assert_eq!(service.load(), 42);
                // The wrapped service is the inserted one.
                let mut service_task = task::spawn(());
                assert!(
                    service_task
                        .enter(|cx, _| donjon::Service::poll_ready(&mut service, cx))
                        .is_ready()
                );
                let _response = donjon::Service::call(&mut service, "via constant");
                let (request, _) = assert_ready!(handle.poll_request()).unwrap();
                assert_eq!(request, "via constant");
            }
            Change::Remove(key) => panic!("expected an insertion, got a removal of {key}"),
        }
        match assert_ready!(poll(&mut discover)).unwrap().unwrap() {
            Change::Remove(key) => assert_eq!(key, "b"),
            Change::Insert(key, _) => panic!("expected a removal, got an insertion of {key}"),
        }
        assert_eq!(
            assert_ready!(poll(&mut discover)).unwrap().unwrap_err(),
            "dns"
        );
        assert_pending!(poll(&mut discover));

        drop(tx);
        assert!(assert_ready!(poll(&mut discover)).is_none());
    }
}
