//! `PendingRequests`: requests counted until their responses complete, and its `Discover` wrapper.

use super::*;

fn new_service() -> (Spawn<PendingRequests<Mock>>, Handle) {
    mock::spawn_with(|mock| PendingRequests::new(mock, CompleteOnResponse::default()))
}

#[tokio::test]
async fn counts_requests_until_their_responses_arrive() {
    let (mut service, mut handle) = new_service();
    let none = service.get_ref().load();
    assert_eq!(none, Count::default());

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("one"));
    let one = service.get_ref().load();
    assert!(one > none, "{one:?} > {none:?}");

    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("two"));
    let two = service.get_ref().load();
    assert!(two > one, "{two:?} > {one:?}");

    // Receiving the request is not completing it.
    let first_reply = assert_request_eq!(handle, "one");
    let second_reply = assert_request_eq!(handle, "two");
    assert_eq!(service.get_ref().load(), two);

    // Sending the response is not either: the caller has to get it.
    first_reply.send_response("1");
    assert_eq!(service.get_ref().load(), two);
    assert_eq!(assert_ready_ok!(first.poll()), "1");
    assert_eq!(service.get_ref().load(), one);

    second_reply.send_response("2");
    assert_eq!(assert_ready_ok!(second.poll()), "2");
    assert_eq!(service.get_ref().load(), none);
}

#[tokio::test]
async fn a_dropped_response_future_stops_counting() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let response = service.call("abandoned");
    assert!(service.get_ref().load() > Count::default());
    drop(response);
    assert_eq!(service.get_ref().load(), Count::default());

    // The request did reach the service; answering it is harmless.
    assert_request_eq!(handle, "abandoned").send_response("late");
    assert_eq!(service.get_ref().load(), Count::default());
}

#[tokio::test]
async fn a_failed_response_stops_counting_once_its_future_is_dropped() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("doomed"));
    assert_request_eq!(handle, "doomed").send_error("upstream reset");
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.to_string(), "upstream reset");
    drop(response);
    assert_eq!(service.get_ref().load(), Count::default());
}

#[tokio::test]
async fn a_handle_kept_in_the_response_counts_until_the_response_is_dropped() {
    let (mut service, mut handle) =
        mock::spawn_with(|mock: Mock| PendingRequests::new(mock, KeepHandle));

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("one"));
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("two"));
    let two = service.get_ref().load();

    assert_request_eq!(handle, "one").send_response("1");
    assert_request_eq!(handle, "two").send_response("2");
    let (value, first_handle) = assert_ready_ok!(first.poll());
    assert_eq!(value, "1");
    let (value, second_handle) = assert_ready_ok!(second.poll());
    assert_eq!(value, "2");
    drop((first, second));
    assert_eq!(service.get_ref().load(), two, "both responses are alive");

    assert!(format!("{first_handle:?}").starts_with("Handle"));
    let _: &pending_requests::Handle = &first_handle;
    drop(first_handle);
    let one = service.get_ref().load();
    assert!(one < two && one > Count::default(), "{one:?}");
    drop(second_handle);
    assert_eq!(service.get_ref().load(), Count::default());
}

#[test]
fn readiness_follows_the_inner_service() {
    let (mut service, mut handle) = new_service();
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
    // Polling for readiness is not a request.
    assert_eq!(service.get_ref().load(), Count::default());
}

#[test]
fn readiness_errors_pass_through() {
    let (mut service, mut handle) = new_service();
    handle.send_error("refused");
    assert_eq!(
        assert_ready_err!(service.poll_ready()).to_string(),
        "refused"
    );

    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<mock::error::Closed>(), "{error}");
}

#[test]
fn count_is_ordered_copy_and_defaults_to_zero() {
    let zero = Count::default();
    let copy = zero;
    assert_eq!(zero, copy);
    assert_eq!(format!("{zero:?}"), "Count(0)");

    let mut service = PendingRequests::new(Echo, CompleteOnResponse::default());
    let _in_flight = donjon::Service::<u8>::call(&mut service, 1);
    let one = service.load();
    assert_eq!(format!("{one:?}"), "Count(1)");
    assert!(zero < one);
    assert_eq!(zero.cmp(&one), std::cmp::Ordering::Less);
    assert_eq!(zero.max(one), one);
}

#[cfg(feature = "discover")]
mod discover {
    use std::pin::Pin;

    use donjon::discover::{Change, Discover};
    use donjon::load::PendingRequestsDiscover;
    use tokio_stream::wrappers::UnboundedReceiverStream;
    use tokio_test::assert_ready;

    use super::*;

    type Changes = Result<Change<u32, Mock>, &'static str>;

    #[test]
    fn wraps_each_inserted_service_and_passes_the_rest_through() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Changes>();
        let mut discover = PendingRequestsDiscover::new(
            UnboundedReceiverStream::new(rx),
            CompleteOnResponse::default(),
        );
        let mut task = task::spawn(());

        assert_pending!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        assert!(!task.is_woken());

        let (mock, mut handle) = mock::pair();
        tx.send(Ok(Change::Insert(1, mock))).unwrap();
        assert!(
            task.is_woken(),
            "the inner discovery's wake-up comes through"
        );
        tx.send(Ok(Change::Remove(2))).unwrap();
        tx.send(Err("registry down")).unwrap();

        let change = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        let Change::Insert(key, mut service) = change.unwrap().unwrap() else {
            panic!("expected an insertion");
        };
        assert_eq!(key, 1);
        assert_eq!(service.load(), Count::default());
        assert!(
            task.enter(|cx, _| donjon::Service::poll_ready(&mut service, cx))
                .is_ready()
        );
        let response = donjon::Service::call(&mut service, "counted");
        assert!(service.load() > Count::default(), "the wrapper counts");
        let (request, _) = assert_ready!(handle.poll_request()).unwrap();
        assert_eq!(request, "counted");
        drop(response);
        assert_eq!(service.load(), Count::default());

        let change = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        assert!(matches!(change, Some(Ok(Change::Remove(2)))));
        let change = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        assert_eq!(change.unwrap().unwrap_err(), "registry down");

        drop(tx);
        let end = assert_ready!(task.enter(|cx, _| Pin::new(&mut discover).poll_discover(cx)));
        assert!(end.is_none());
    }
}
