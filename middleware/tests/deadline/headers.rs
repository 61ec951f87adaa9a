//! The HTTP parts: a deadline in the extensions, and the `grpc-timeout`
//! header between processes.

use ::http::{HeaderName, HeaderValue, Request};
use donjon::deadline::grpc_timeout::InvalidTimeout;
use donjon::deadline::{
    DeadlineFor, DeadlineFromHeader, DeadlineFromHeaderLayer, DeadlineToHeader,
    DeadlineToHeaderLayer, FromExtensions, GRPC_TIMEOUT,
};

use super::*;

/// A service answering with the deadline it found in the request's
/// extensions, and its `grpc-timeout` header.
fn echo() -> impl Service<
    Request<()>,
    Response = (Option<Deadline>, Option<String>),
    Error = BoxError,
    Future = impl Send,
> + Clone {
    service_fn(|request: Request<()>| async move {
        let header = request
            .headers()
            .get(GRPC_TIMEOUT)
            .map(|value| value.to_str().unwrap().to_owned());
        Ok::<_, BoxError>((FromExtensions.deadline_for(&request), header))
    })
}

fn with_header(value: &str) -> Request<()> {
    Request::builder()
        .header("grpc-timeout", value)
        .body(())
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn from_extensions_reads_the_deadline_a_request_carries() {
    let mut request = Request::new(());
    assert_eq!(FromExtensions.deadline_for(&request), None);
    let deadline = Deadline::after(ms(30));
    request.extensions_mut().insert(deadline);
    assert_eq!(FromExtensions.deadline_for(&request), Some(deadline));
}

#[tokio::test(start_paused = true)]
async fn the_server_side_turns_the_header_into_a_deadline() {
    let service = DeadlineFromHeader::new(echo());
    let (deadline, _) = service.clone().oneshot(with_header("250m")).await.unwrap();
    assert_eq!(deadline.unwrap().remaining(), ms(250));

    // No header: no deadline.
    let (deadline, _) = service.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(deadline, None);

    // An earlier deadline already there is kept; a later one is not.
    let mut request = with_header("250m");
    let earlier = Deadline::after(ms(100));
    request.extensions_mut().insert(earlier);
    let (deadline, _) = service.clone().oneshot(request).await.unwrap();
    assert_eq!(deadline, Some(earlier));
    let mut request = with_header("250m");
    request.extensions_mut().insert(Deadline::after(ms(900)));
    let (deadline, _) = service.oneshot(request).await.unwrap();
    assert_eq!(deadline.unwrap().remaining(), ms(250));
}

#[tokio::test(start_paused = true)]
async fn a_malformed_header_is_an_error_and_the_request_goes_no_further() {
    let (mock, mut handle) = mock::pair::<Request<()>, ()>();
    let mut service = Spawn::new(DeadlineFromHeaderLayer::new().layer(mock));
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let error = service.call(with_header("soon")).await.unwrap_err();
    assert!(error.is::<InvalidTimeout>(), "{error}");
    assert_eq!(
        error.to_string(),
        "invalid grpc-timeout \"soon\": expected 1 to 8 digits and a unit (H, M, S, m, u, n)"
    );
    assert!(handle.poll_request().is_pending());

    let bytes = Request::builder()
        .header("grpc-timeout", HeaderValue::from_bytes(b"1\xffS").unwrap())
        .body(())
        .unwrap();
    assert_ready_ok!(service.poll_ready());
    assert!(
        service
            .call(bytes)
            .await
            .unwrap_err()
            .is::<InvalidTimeout>()
    );
}

#[tokio::test(start_paused = true)]
async fn the_client_side_writes_the_time_left_into_the_header() {
    let service = DeadlineToHeader::new(echo());
    let mut request = Request::new(());
    request.extensions_mut().insert(Deadline::after(ms(300)));
    advance(ms(120)).await;
    let (_, header) = service.clone().oneshot(request).await.unwrap();
    assert_eq!(header.as_deref(), Some("180000u"), "180 ms left");

    // A header already there is replaced; no deadline, no header written.
    let mut request = with_header("99S");
    request.extensions_mut().insert(Deadline::after(ms(5)));
    let (_, header) = service.clone().oneshot(request).await.unwrap();
    assert_eq!(header.as_deref(), Some("5000000n"));
    let (_, header) = service.oneshot(Request::new(())).await.unwrap();
    assert_eq!(header, None);

    // A passed deadline travels as no time at all.
    let layered = DeadlineToHeaderLayer::new().layer(echo());
    let mut request = Request::new(());
    request.extensions_mut().insert(Deadline::after(ms(1)));
    advance(ms(5)).await;
    let (_, header) = layered.oneshot(request).await.unwrap();
    assert_eq!(header.as_deref(), Some("0n"));
}

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn two_hops_give_up_at_the_callers_deadline() {
    use tokio::time::Instant;
    // The client writes the caller's time left; the server reads it back,
    // and its timeout (a minute) ends the work at the caller's deadline.
    let server = DeadlineFromHeaderLayer::new().layer(
        donjon::timeout::TimeoutLayer::new(Duration::from_secs(60))
            .with_deadlines(FromExtensions)
            .layer(service_fn(|_: Request<()>| {
                std::future::pending::<Result<(), BoxError>>()
            })),
    );
    let client = DeadlineToHeaderLayer::new().layer(server);
    let start = Instant::now();
    let mut request = Request::new(());
    request.extensions_mut().insert(Deadline::after(ms(200)));
    let error = client.oneshot(request).await.unwrap_err();
    assert!(error.is::<donjon::timeout::error::Elapsed>(), "{error}");
    assert_eq!(start.elapsed(), ms(200));
}

#[tokio::test(start_paused = true)]
async fn other_header_names_can_be_used() {
    let name = HeaderName::from_static("x-time-left");
    let server = DeadlineFromHeader::new(echo()).with_header(name.clone());
    let client = DeadlineToHeader::new(server).with_header(name);
    let mut request = Request::new(());
    request.extensions_mut().insert(Deadline::after(ms(40)));
    let (deadline, grpc) = client.oneshot(request).await.unwrap();
    assert_eq!(deadline.unwrap().remaining(), ms(40));
    assert_eq!(grpc, None, "grpc-timeout untouched");
}
