//! What the adapters are besides services and layers: `get_ref`, `get_mut`
//! and `into_inner`; `Clone`, `Copy`, `Debug`, `Default`, `PartialEq`;
//! `const` constructors; `Send`, `Sync` and `Unpin` over inner types that
//! have them; the associated types they forward; and the bounds that
//! frameworks put on tower layers and services.

use std::future::Ready;
use std::rc::Rc;

use donjon::BoxError;
use donjon::tower_compat::{
    DonjonLayer, DonjonService, IntoDonjon, IntoTower, TowerLayer, TowerService,
};
use tokio_test::{assert_ready_ok, task};

use crate::support::{assert_clone, assert_copy, assert_send, assert_sync, assert_unpin};
use crate::{Mock, Prefix, TowerMock, TowerPrefix, donjon_pair, tower_pair};

/// A layer with an identity of its own, to see which layer comes back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tag(u8);

impl<S> donjon::Layer<S> for Tag {
    type Service = S;

    fn layer(&self, inner: S) -> S {
        inner
    }
}

impl<S> tower_layer::Layer<S> for Tag {
    type Service = S;

    fn layer(&self, inner: S) -> S {
        inner
    }
}

#[test]
fn tower_service_gives_access_to_the_donjon_service_it_wraps() {
    let mut service = Prefix("a:".to_string()).into_tower();
    assert_eq!(service.get_ref(), &Prefix("a:".to_string()));

    service.get_mut().0 = "b:".to_string();
    let mut cx = task::spawn(());
    assert_ready_ok!(cx.enter(|cx, _| tower_service::Service::poll_ready(&mut service, cx)));
    let mut response = task::spawn(tower_service::Service::call(&mut service, "c"));
    assert_eq!(
        assert_ready_ok!(response.poll()),
        "b:c",
        "calls reach the service that get_mut changed"
    );

    let inner: Prefix = service.into_inner();
    assert_eq!(inner, Prefix("b:".to_string()));
}

#[test]
fn donjon_service_gives_access_to_the_tower_service_it_wraps() {
    let mut service = TowerPrefix("a:".to_string()).into_donjon();
    assert_eq!(service.get_ref(), &TowerPrefix("a:".to_string()));

    service.get_mut().0 = "b:".to_string();
    let mut cx = task::spawn(());
    assert_ready_ok!(cx.enter(|cx, _| donjon::Service::poll_ready(&mut service, cx)));
    let mut response = task::spawn(donjon::Service::call(&mut service, "c"));
    assert_eq!(
        assert_ready_ok!(response.poll()),
        "b:c",
        "calls reach the service that get_mut changed"
    );

    let inner: TowerPrefix = service.into_inner();
    assert_eq!(inner, TowerPrefix("b:".to_string()));
}

#[test]
fn the_extension_traits_wrap_like_new() {
    assert_eq!(
        Prefix("p".to_string()).into_tower(),
        TowerService::new(Prefix("p".to_string()))
    );
    assert_eq!(
        TowerPrefix("p".to_string()).into_donjon(),
        DonjonService::new(TowerPrefix("p".to_string()))
    );
}

#[test]
fn the_layer_adapters_give_back_the_layer_they_wrap() {
    assert_eq!(TowerLayer::new(Tag(1)).into_inner(), Tag(1));
    assert_eq!(DonjonLayer::new(Tag(2)).into_inner(), Tag(2));
}

#[test]
fn clones_copies_and_defaults_wrap_clones_copies_and_defaults() {
    let service = TowerService::new(Prefix("x".to_string()));
    assert_eq!(service.clone(), service);
    assert_ne!(service, TowerService::new(Prefix("y".to_string())));
    let service = DonjonService::new(TowerPrefix("x".to_string()));
    assert_eq!(service.clone(), service);
    assert_ne!(service, DonjonService::new(TowerPrefix("y".to_string())));

    assert_eq!(
        TowerService::<Prefix>::default().into_inner(),
        Prefix::default()
    );
    assert_eq!(
        DonjonService::<TowerPrefix>::default().into_inner(),
        TowerPrefix::default()
    );
    assert_eq!(TowerLayer::<Tag>::default().into_inner(), Tag(0));
    assert_eq!(DonjonLayer::<Tag>::default().into_inner(), Tag(0));

    let layer = TowerLayer::new(Tag(3));
    let copy = layer;
    assert_eq!(layer.into_inner(), copy.into_inner());
    let layer = DonjonLayer::new(Tag(4));
    let copy = layer;
    assert_eq!(layer.into_inner(), copy.into_inner());

    assert_copy::<TowerService<Tag>>();
    assert_copy::<DonjonService<Tag>>();
    assert_copy::<TowerLayer<Tag>>();
    assert_copy::<DonjonLayer<Tag>>();
}

#[test]
fn clones_of_the_adapters_are_clones_of_what_they_wrap() {
    // Mocks number their clones: a clone of the adapter holds a new one.
    let (mock, _handle) = donjon_pair();
    let service = mock.into_tower();
    let clone = service.clone();
    assert!(
        format!("{service:?}").starts_with("TowerService { inner: Mock { id: 0,"),
        "{service:?}"
    );
    assert!(
        format!("{clone:?}").starts_with("TowerService { inner: Mock { id: 1,"),
        "{clone:?}"
    );

    let (mock, _handle) = tower_pair();
    let service = mock.into_donjon();
    let clone = service.clone();
    assert!(
        format!("{service:?}").starts_with("DonjonService { inner: Mock { id: 0,"),
        "{service:?}"
    );
    assert!(
        format!("{clone:?}").starts_with("DonjonService { inner: Mock { id: 1,"),
        "{clone:?}"
    );
}

#[test]
fn debug_shows_the_adapter_and_what_it_wraps() {
    assert_eq!(
        format!("{:?}", TowerService::new(Tag(1))),
        "TowerService { inner: Tag(1) }"
    );
    assert_eq!(
        format!("{:?}", DonjonService::new(Tag(2))),
        "DonjonService { inner: Tag(2) }"
    );
    assert_eq!(
        format!("{:?}", TowerLayer::new(Tag(3))),
        "TowerLayer { inner: Tag(3) }"
    );
    assert_eq!(
        format!("{:?}", DonjonLayer::new(Tag(4))),
        "DonjonLayer { inner: Tag(4) }"
    );
}

#[test]
fn the_constructors_are_const() {
    const TOWER_SERVICE: TowerService<Tag> = TowerService::new(Tag(1));
    const DONJON_SERVICE: DonjonService<Tag> = DonjonService::new(Tag(2));
    const TOWER_LAYER: TowerLayer<Tag> = TowerLayer::new(Tag(3));
    const DONJON_LAYER: DonjonLayer<Tag> = DonjonLayer::new(Tag(4));

    assert_eq!(TOWER_SERVICE.into_inner(), Tag(1));
    assert_eq!(DONJON_SERVICE.into_inner(), Tag(2));
    assert_eq!(TOWER_LAYER.into_inner(), Tag(3));
    assert_eq!(DONJON_LAYER.into_inner(), Tag(4));
}

#[test]
fn the_layer_adapters_make_the_adapted_services() {
    // `TowerLayer<L>` over a tower service `S` gives
    // `TowerService<L::Service>` over `DonjonService<S>`, and the other way
    // round: the types say where each side's trait applies.
    let tower_side: TowerService<DonjonService<TowerMock>> =
        tower_layer::Layer::layer(&TowerLayer::new(Tag(0)), tower_pair().0);
    let donjon_side: DonjonService<TowerService<Mock>> =
        donjon::Layer::layer(&DonjonLayer::new(Tag(0)), donjon_pair().0);
    drop((tower_side, donjon_side));
}

#[test]
fn the_adapters_forward_the_associated_types() {
    fn tower_types<S>(_: &S)
    where
        S: tower_service::Service<
                &'static str,
                Response = String,
                Error = BoxError,
                Future = Ready<Result<String, BoxError>>,
            >,
    {
    }
    fn donjon_types<S>(_: &S)
    where
        S: donjon::Service<
                &'static str,
                Response = String,
                Error = BoxError,
                Future = Ready<Result<String, BoxError>>,
            >,
    {
    }
    fn mock_future<S>(_: &S)
    where
        S: tower_service::Service<
                &'static str,
                Future = donjon_test::mock::future::ResponseFuture<&'static str>,
            >,
    {
    }

    tower_types(&Prefix::default().into_tower());
    donjon_types(&TowerPrefix::default().into_donjon());
    mock_future(&donjon_pair().0.into_tower());
}

#[test]
fn the_adapters_are_send_sync_and_unpin_when_what_they_wrap_is() {
    assert_send::<TowerService<Mock>>();
    assert_sync::<TowerService<Mock>>();
    assert_unpin::<TowerService<Mock>>();
    assert_clone::<TowerService<Mock>>();

    assert_send::<DonjonService<TowerMock>>();
    assert_sync::<DonjonService<TowerMock>>();
    assert_unpin::<DonjonService<TowerMock>>();
    assert_clone::<DonjonService<TowerMock>>();

    assert_send::<DonjonService<TowerService<Mock>>>();
    assert_sync::<DonjonService<TowerService<Mock>>>();
    assert_unpin::<DonjonService<TowerService<Mock>>>();

    assert_send::<TowerLayer<Tag>>();
    assert_sync::<TowerLayer<Tag>>();
    assert_unpin::<TowerLayer<Tag>>();
    assert_send::<DonjonLayer<Tag>>();
    assert_sync::<DonjonLayer<Tag>>();
    assert_unpin::<DonjonLayer<Tag>>();

    // Nothing of their own gets in the way: `Rc` makes them `!Send`, but
    // `Unpin` and `Clone` stay.
    assert_unpin::<TowerService<Rc<u8>>>();
    assert_clone::<TowerService<Rc<u8>>>();
    assert_unpin::<DonjonLayer<Rc<u8>>>();
}

#[cfg(all(feature = "timeout", feature = "limit"))]
#[test]
fn a_donjon_stack_as_a_tower_layer_meets_axums_bounds() {
    use std::convert::Infallible;
    use std::future::Future;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use donjon::ServiceBuilder;

    /// A tower service shaped like axum's router: cloneable, thread-safe,
    /// infallible.
    #[derive(Clone, Debug)]
    struct Router;

    impl tower_service::Service<String> for Router {
        type Response = String;
        type Error = Infallible;
        type Future = Ready<Result<String, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: String) -> Self::Future {
            std::future::ready(Ok(request))
        }
    }

    /// The bounds of axum's `Router::layer`, with the error left free.
    fn axum_layer<L>(layer: L) -> L
    where
        L: tower_layer::Layer<Router> + Clone + Send + Sync + 'static,
        L::Service: tower_service::Service<String> + Clone + Send + Sync + 'static,
        <L::Service as tower_service::Service<String>>::Response: 'static,
        <L::Service as tower_service::Service<String>>::Error: Into<BoxError> + 'static,
        <L::Service as tower_service::Service<String>>::Future: Future + Send + 'static,
    {
        layer
    }

    let layer = axum_layer(
        ServiceBuilder::new()
            .timeout(Duration::from_secs(1))
            .concurrency_limit(10)
            .into_tower_layer(),
    );
    let _service = tower_layer::Layer::layer(&layer, Router);
}
