//! `tower_layer`: custom layers, `&L`, `Identity`, `Stack`, `layer_fn`,
//! tuples, and the `tower::layer` re-exports.

use std::cell::Cell;
use std::convert::Infallible;

use tower::ServiceExt;
use tower_layer::{Identity, Layer, LayerFn, Stack, layer_fn};

use super::support::{Echo, Tag, TagLayer, assert_clone, assert_copy, assert_default, cloned};

/// Sends `"req:"` through `svc` and returns the recorded path.
async fn path<S>(svc: S) -> String
where
    S: tower_service::Service<String, Response = String, Error = Infallible>,
{
    svc.oneshot("req:".to_string()).await.unwrap()
}

/// A layer with interior state, to show that `layer` takes `&self`.
#[derive(Debug, Default)]
struct Numbering {
    next: Cell<u32>,
}

impl<S> Layer<S> for Numbering {
    type Service = (u32, S);

    fn layer(&self, inner: S) -> (u32, S) {
        let n = self.next.get();
        self.next.set(n + 1);
        (n, inner)
    }
}

#[test]
fn a_layer_wraps_many_services_by_reference() {
    let layer = Numbering::default();
    assert_eq!(layer.layer("a"), (0, "a"));
    assert_eq!(layer.layer("b"), (1, "b"));
    // `&L` is a layer too, and forwards.
    let by_ref: &Numbering = &layer;
    assert_eq!(Layer::layer(&by_ref, "c"), (2, "c"));
    fn apply<L: Layer<&'static str>>(l: L) -> L::Service {
        l.layer("d")
    }
    assert_eq!(apply(&layer), (3, "d"));
    // Also through a trait object.
    let object: &dyn Layer<&'static str, Service = (u32, &'static str)> = &layer;
    assert_eq!(apply(object), (4, "d"));
}

#[test]
fn identity_returns_the_service_untouched() {
    let layer = Identity::new();
    assert_eq!(layer.layer(Echo), Echo);
    let default: Identity = Default::default();
    assert_eq!(default.layer(7_u8), 7);
    let cloned = cloned(&layer);
    assert_eq!(cloned.layer("x"), "x");
    assert_default::<Identity>();
    assert_clone::<Identity>();
}

#[tokio::test]
async fn stack_applies_inner_first_so_outer_sees_requests_first() {
    let stack: Stack<TagLayer, TagLayer> = Stack::new(TagLayer("inner"), TagLayer("outer"));
    let svc: Tag<Tag<Echo>> = stack.layer(Echo);
    assert_eq!(path(svc).await, "req:outer>inner><inner<outer");

    // Nested stacks.
    let nested = Stack::new(Stack::new(TagLayer("c"), TagLayer("b")), TagLayer("a"));
    assert_eq!(path(nested.layer(Echo)).await, "req:a>b>c><c<b<a");
    let cloned = cloned(&nested);
    assert_eq!(path(cloned.layer(Echo)).await, "req:a>b>c><c<b<a");
    assert_clone::<Stack<TagLayer, Identity>>();
}

#[tokio::test]
async fn layer_fn_turns_a_closure_into_a_layer() {
    let layer = layer_fn(|inner| Tag::new("fn", inner));
    assert_eq!(path(layer.layer(Echo)).await, "req:fn><fn");
    // Copy and Clone when the closure is.
    let copy = layer;
    let cloned = cloned(&copy);
    assert_eq!(path(cloned.layer(Echo)).await, "req:fn><fn");
    assert_eq!(path(layer.layer(Echo)).await, "req:fn><fn");

    // The type is nameable with a function pointer.
    let named: LayerFn<fn(Echo) -> Tag<Echo>> = layer_fn(|inner| Tag::new("ptr", inner));
    assert_eq!(path(named.layer(Echo)).await, "req:ptr><ptr");
    assert_copy::<LayerFn<fn(Echo) -> Tag<Echo>>>();

    // A layer_fn can produce anything, not only services.
    let pair = layer_fn(|n: u8| (n, n));
    assert_eq!(pair.layer(3), (3, 3));
}

#[tokio::test]
async fn tuples_are_layers_with_the_first_element_outermost() {
    assert_eq!(().layer(Echo), Echo);
    assert_eq!(path((TagLayer("one"),).layer(Echo)).await, "req:one><one");
    let pair = (TagLayer("a"), TagLayer("b"));
    assert_eq!(path(pair.layer(Echo)).await, "req:a>b><b<a");
    let triple = (TagLayer("a"), layer_fn(|s| Tag::new("b", s)), TagLayer("c"));
    assert_eq!(path(triple.layer(Echo)).await, "req:a>b>c><c<b<a");
    // Tuples mix with other layers and nest.
    let mixed = (
        Identity::new(),
        (TagLayer("x"), ()),
        Stack::new(TagLayer("z"), TagLayer("y")),
    );
    assert_eq!(path(mixed.layer(Echo)).await, "req:x>y>z><z<y<x");
}

#[tokio::test]
async fn sixteen_element_tuple_is_a_layer() {
    let t = TagLayer;
    let sixteen = (
        t("1"),
        t("2"),
        t("3"),
        t("4"),
        t("5"),
        t("6"),
        t("7"),
        t("8"),
        t("9"),
        t("10"),
        t("11"),
        t("12"),
        t("13"),
        t("14"),
        t("15"),
        t("16"),
    );
    let rsp = path(sixteen.layer(Echo)).await;
    assert_eq!(
        rsp,
        "req:1>2>3>4>5>6>7>8>9>10>11>12>13>14>15>16><16<15<14<13<12<11<10<9<8<7<6<5<4<3<2<1"
    );
}

#[tokio::test]
async fn tower_layer_module_reexports_the_same_items() {
    // Values built through `tower::layer` paths have the `tower_layer` types.
    let identity: tower_layer::Identity = tower::layer::util::Identity::new();
    let stack: tower_layer::Stack<TagLayer, tower_layer::Identity> =
        tower::layer::util::Stack::new(TagLayer("s"), identity);
    let via_fn: tower_layer::LayerFn<fn(Echo) -> Tag<Echo>> =
        tower::layer::layer_fn(|e| Tag::new("f", e));
    let svc = <tower_layer::LayerFn<_> as tower::layer::Layer<_>>::layer(&via_fn, Echo);
    assert_eq!(path(svc).await, "req:f><f");
    let svc = <_ as tower::layer::Layer<Echo>>::layer(&stack, Echo);
    assert_eq!(path(svc).await, "req:s><s");
    let _: tower::layer::LayerFn<fn(Echo) -> Tag<Echo>> = via_fn;
}
