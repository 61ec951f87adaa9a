//! The layer, which gives each service a limiter of its own, and the handle.

use super::*;

#[tokio::test]
async fn each_service_a_layer_wraps_has_its_own_limiter() {
    let layer = scripted(&Script::new(), 1);
    let (mut first, _first_handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut second, _second_handle) = mock::spawn_layer::<&str, &str, _>(layer);

    assert_ready_ok!(first.poll_ready());
    assert_ready_ok!(second.poll_ready(), "a separate limit of 1");
    assert_eq!(first.get_ref().handle().in_flight(), 1);
    assert_eq!(second.get_ref().handle().in_flight(), 1);
}

#[tokio::test]
async fn the_layer_stacks_in_a_service_builder() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut service = mock::Spawn::new(
        ServiceBuilder::new()
            .layer(scripted(&Script::new(), 1))
            .service(mock),
    );
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
}

#[test]
fn a_handle_keeps_reading_after_the_services_are_dropped() {
    let (mut service, _handle, limits) = new_service(scripted(&Script::new(), 7));
    assert_ready_ok!(service.poll_ready());
    let copy = limits.clone();
    assert_eq!((copy.limit(), copy.in_flight()), (7, 1));
    drop(service);
    assert_eq!((limits.limit(), limits.in_flight()), (7, 0));
    assert_eq!(format!("{limits:?}"), "Handle { limit: 7, in_flight: 0 }");
}
