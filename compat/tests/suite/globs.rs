//! Glob imports: names reached through several modules must be the same
//! items (or the uses below would be ambiguous), and every name used here
//! must exist.

mod root_and_util {
    use std::convert::Infallible;

    use tower::layer::util::*;
    use tower::layer::*;
    use tower::util::future::*;
    use tower::util::*;
    use tower::*;

    use super::super::support::{AddOne, Echo, Oops, TagLayer};

    #[tokio::test]
    async fn names_from_overlapping_globs() {
        let svc = ServiceBuilder::new()
            .layer(layer_fn(|s| MapResponse::new(s, |n: u32| n + 1)))
            .layer(Stack::new(Identity::new(), Identity::new()))
            .service(service_fn(|n: u32| async move { Ok::<_, Infallible>(n) }));
        let svc: BoxService<u32, u32, Infallible> = svc.boxed();
        assert_eq!(svc.oneshot(1).await, Ok(2));
        let _: Option<BoxError> = None;
        let _: Option<LayerFn<fn(u8) -> u8>> = None;
        let _: Option<MapResponseFuture<std::future::Ready<Result<u32, Oops>>, fn(u32) -> u32>> =
            None;
        let _: Option<optional::ResponseFuture<std::future::Ready<Result<u32, Oops>>>> = None;
        let _: Option<Either<AddOne, Echo>> = None;
        fn layer_bound<L: Layer<Echo>>(_: &L) {}
        layer_bound(&TagLayer("x"));
        fn service_bound<S: Service<u32>>(_: &S) {}
        service_bound(&AddOne);
    }
}

mod mock_glob {
    use tower::ServiceExt;
    use tower_test::mock::*;

    #[tokio::test]
    async fn function_and_module_named_spawn() {
        let (svc, mut handle): (spawn::Spawn<Mock<u8, u8>>, Handle<u8, u8>) = spawn();
        let (other, _h): (Spawn<Mock<u8, u8>>, _) = spawn();
        drop(other);
        let svc: Mock<u8, u8> = svc.into_inner();
        let call = tokio::spawn(svc.oneshot(1));
        let (req, send): (u8, SendResponse<u8>) = handle.next_request().await.unwrap();
        send.send_response(req + 1);
        assert_eq!(call.await.unwrap().unwrap(), 2);
        let _: Option<error::Closed> = None;
        let _: Option<future::ResponseFuture<u8>> = None;
        let _ = (
            pair::<u8, u8>,
            spawn_with::<u8, u8, fn(Mock<u8, u8>) -> Mock<u8, u8>, Mock<u8, u8>>,
        );
        let _ = spawn_layer::<u8, u8, tower_layer::Identity>;
    }
}
