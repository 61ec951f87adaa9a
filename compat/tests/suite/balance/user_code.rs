//! A balancer in a user's code: behind a `Buffer`, over a boxed discover, over borrowed services.

use super::*;

/// What a user writes to share a balancer between tasks: the bounds of
/// `Balance`'s `Service` impl, plus what `Buffer` needs to spawn it.
fn shared_balancer<D, R>(
    discover: D,
) -> tower::buffer::Buffer<R, <Balance<D, R> as Service<R>>::Future>
where
    D: Discover + Unpin + Send + 'static,
    D::Key: std::hash::Hash + Clone + Send,
    D::Error: Into<BoxError>,
    D::Service: Service<R> + tower::load::Load + Send,
    <D::Service as tower::load::Load>::Metric: std::fmt::Debug,
    <D::Service as Service<R>>::Error: Into<BoxError>,
    <D::Service as Service<R>>::Future: Send,
    R: Send + 'static,
{
    tower::buffer::Buffer::new(Balance::new(discover), 16)
}

#[tokio::test]
async fn a_balancer_behind_a_buffer() {
    let (tx, rx) = unbounded_channel::<Result<Change<u32, Mock<Req, Req>>, Infallible>>();
    let discover = PeakEwmaDiscover::new(
        UnboundedReceiverStream::new(rx),
        Duration::from_millis(5),
        Duration::from_secs(5),
        CompleteOnResponse::default(),
    );
    let svc = shared_balancer(discover);
    let (a, mut ha) = mock::pair::<Req, Req>();
    tx.send(Ok(Change::Insert(1, a))).unwrap();

    let calls: Vec<_> = (0..3)
        .map(|_| tokio::spawn(svc.clone().oneshot("hi")))
        .collect();
    for _ in 0..3 {
        let (req, send) = ha.next_request().await.unwrap();
        assert_eq!(req, "hi");
        send.send_response("there");
    }
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "there");
    }

    // Through `ServiceBuilder`, over a boxed discover.
    type Boxed = std::pin::Pin<
        Box<dyn futures::Stream<Item = Result<Change<u8, Constant<AddOne, u8>>, Oops>> + Send>,
    >;
    let boxed: Boxed = Box::pin(futures::stream::iter(vec![Ok(Change::Insert(
        0,
        Constant::new(AddOne, 0),
    ))]));
    let svc = ServiceBuilder::new()
        .buffer(4)
        .service(Balance::<Boxed, u32>::new(boxed));
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
}

/// A service borrowing from its caller, for borrowed requests.
#[derive(Debug)]
struct Prefix<'a>(&'a str);

impl<'a> Service<&'a str> for Prefix<'a> {
    type Response = String;
    type Error = Oops;
    type Future = Instant<String, Oops>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> Poll<Result<(), Oops>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: &'a str) -> Self::Future {
        std::future::ready(Ok(format!("{}{req}", self.0)))
    }
}

#[tokio::test]
async fn borrowed_services_and_requests() {
    let prefix = String::from("> ");
    let request = String::from("borrowed");
    let list = ServiceList::new(vec![
        Constant::new(Prefix(&prefix), 1u8),
        Constant::new(Prefix(&prefix), 2u8),
    ]);
    let mut balance: Balance<ServiceList<Vec<Constant<Prefix<'_>, u8>>>, &str> = Balance::new(list);
    let rsp = balance.ready().await.unwrap().call(&request).await.unwrap();
    assert_eq!(rsp, "> borrowed");
}
