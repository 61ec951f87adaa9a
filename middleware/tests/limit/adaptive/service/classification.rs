//! The classification decides which outcomes the algorithm sees.

use super::*;

#[tokio::test]
async fn the_classification_decides_what_the_algorithm_sees() {
    let script = Script::new();
    let layer =
        scripted(&script, 5).with_classify(
            |result: &Result<&'static str, BoxError>| match result {
                Ok("busy") => Outcome::Failure,
                Ok(_) => Outcome::Success,
                Err(_) => Outcome::Ignored,
            },
        );
    let (mut service, mut handle) = mock::spawn_layer(layer);
    let limits = service.get_ref().handle();

    for answer in [Ok("busy"), Ok("fine"), Err(Boom("cancelled"))] {
        assert_ready_ok!(service.poll_ready());
        let response = service.call("hello");
        let send = assert_request_eq!(handle, "hello");
        match answer {
            Ok(answer) => send.send_response(answer),
            Err(error) => send.send_error(error),
        }
        let _ = response.await;
    }
    let failures: Vec<_> = script.samples().iter().map(Sample::is_failure).collect();
    assert_eq!(
        failures,
        vec![true, false],
        "\"busy\" failed, \"fine\" succeeded, the error is ignored"
    );
    assert_eq!(limits.in_flight(), 0, "the ignored call freed its slot");
}
