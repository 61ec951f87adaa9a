//! Tests of `Layer` and its helpers: `Identity`, `Stack`, `layer_fn`, tuple
//! layers and `&L`, including their `Debug` output.

use std::cell::RefCell;
use std::fmt;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use donjon_layer::{Identity, Layer, LayerFn, Stack, layer_fn};
use donjon_service::Service;

/// Wraps a string as `name(inner)`, logging its name each time it wraps.
#[derive(Debug, Clone)]
struct Paren {
    name: &'static str,
    log: Rc<RefCell<Vec<&'static str>>>,
}

impl Layer<String> for Paren {
    type Service = String;

    fn layer(&self, inner: String) -> String {
        self.log.borrow_mut().push(self.name);
        format!("{}({inner})", self.name)
    }
}

fn parens<const N: usize>(
    names: [&'static str; N],
) -> ([Paren; N], Rc<RefCell<Vec<&'static str>>>) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let layers = names.map(|name| Paren {
        name,
        log: log.clone(),
    });
    (layers, log)
}

/// Appends its number to a `Vec`: the resulting order is the order in which
/// layers were applied, innermost first.
#[derive(Debug, Clone, Copy)]
struct Push(u8);

impl Layer<Vec<u8>> for Push {
    type Service = Vec<u8>;

    fn layer(&self, mut inner: Vec<u8>) -> Vec<u8> {
        inner.push(self.0);
        inner
    }
}

/// The innermost service: answers with the names of the middleware that
/// the request went through, in order.
#[derive(Debug)]
struct Path;

impl Service<Vec<&'static str>> for Path {
    type Response = Vec<&'static str>;
    type Error = ();
    type Future = Ready<Result<Self::Response, ()>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Vec<&'static str>) -> Self::Future {
        ready(Ok(request))
    }
}

/// Middleware that adds its name to the request on the way in.
#[derive(Debug)]
struct Tagged<S> {
    name: &'static str,
    inner: S,
}

impl<S: Service<Vec<&'static str>>> Service<Vec<&'static str>> for Tagged<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Vec<&'static str>) -> S::Future {
        request.push(self.name);
        self.inner.call(request)
    }
}

/// Builds [`Tagged`] services.
#[derive(Debug, Clone, Copy)]
struct Tag(&'static str);

impl<S> Layer<S> for Tag {
    type Service = Tagged<S>;

    fn layer(&self, inner: S) -> Tagged<S> {
        Tagged {
            name: self.0,
            inner,
        }
    }
}

/// Sends one request through `service`, returning the path it took.
fn path_through<S>(mut service: S) -> Vec<&'static str>
where
    S: Service<
            Vec<&'static str>,
            Response = Vec<&'static str>,
            Error = (),
            Future = Ready<Result<Vec<&'static str>, ()>>,
        >,
{
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(service.poll_ready(&mut cx), Poll::Ready(Ok(())));
    service.call(Vec::new()).into_inner().unwrap()
}

/// A layer with a field, to see `{:#?}` pass through `Stack`.
#[derive(Debug, Clone, Copy)]
struct Limit {
    max: u32,
}

impl<S> Layer<S> for Limit {
    type Service = (u32, S);

    fn layer(&self, inner: S) -> (u32, S) {
        (self.max, inner)
    }
}

/// A layer whose `Debug` is a fixed word.
#[derive(Clone, Copy)]
struct Word(&'static str);

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl<S> Layer<S> for Word {
    type Service = S;

    fn layer(&self, inner: S) -> S {
        inner
    }
}

/// Clones through the `Clone` bound only (several layers are also `Copy`).
fn clone_of<T: Clone>(value: &T) -> T {
    value.clone()
}

// `new` functions are `const`.
const IDENTITY: Identity = Identity::new();
const EMPTY_STACK: Stack<Identity, Identity> = Stack::new(Identity::new(), Identity::new());

#[test]
fn identity_returns_the_service_untouched() {
    let service = Box::new(String::from("service"));
    let address: *const String = &*service;

    let out = Identity::new().layer(service);
    assert!(
        std::ptr::eq(&*out, address),
        "the very same service comes back"
    );
    assert_eq!(*out, "service");

    assert_eq!(IDENTITY.layer(7_u8), 7);
    assert_eq!(Identity::default().layer(vec![1, 2]), [1, 2]);
    assert_eq!(
        path_through(Identity::new().layer(Path)),
        Vec::<&str>::new()
    );
}

#[test]
fn identity_debug_prints_identity() {
    assert_eq!(format!("{:?}", Identity::new()), "Identity");
    assert_eq!(format!("{:#?}", Identity::default()), "Identity");
    assert_eq!(format!("{:?}", clone_of(&IDENTITY)), "Identity");
}

#[test]
fn stack_applies_inner_then_outer() {
    let ([inner, outer], log) = parens(["inner", "outer"]);
    let stack = Stack::new(inner, outer);

    assert_eq!(stack.layer("s".to_string()), "outer(inner(s))");
    assert_eq!(*log.borrow(), ["inner", "outer"]);
}

#[test]
fn stack_outer_sees_requests_first() {
    let stack = Stack::new(Tag("inner"), Tag("outer"));
    assert_eq!(path_through(stack.layer(Path)), ["outer", "inner"]);
}

#[test]
fn nested_stacks_apply_innermost_first() {
    let ([a, b, c, d], log) = parens(["a", "b", "c", "d"]);
    // As a builder nests them: each new layer is the outer of a new stack.
    let stack = Stack::new(Stack::new(Stack::new(a, b), c), d);
    assert_eq!(stack.layer("s".to_string()), "d(c(b(a(s))))");
    assert_eq!(*log.borrow(), ["a", "b", "c", "d"]);

    let nested_outer = Stack::new(Tag("1"), Stack::new(Tag("2"), Tag("3")));
    assert_eq!(path_through(nested_outer.layer(Path)), ["3", "2", "1"]);
}

#[test]
fn stack_of_identities_is_identity() {
    assert_eq!(EMPTY_STACK.layer("s"), "s");
    assert_eq!(path_through(EMPTY_STACK.layer(Path)), Vec::<&str>::new());
}

#[test]
fn stack_clone_is_an_equal_layer() {
    let ([inner, outer], log) = parens(["inner", "outer"]);
    let stack = Stack::new(inner, outer);
    let copy = clone_of(&stack);
    assert_eq!(copy.layer("x".to_string()), "outer(inner(x))");
    assert_eq!(stack.layer("y".to_string()), "outer(inner(y))");
    assert_eq!(*log.borrow(), ["inner", "outer", "inner", "outer"]);
}

#[test]
fn stack_debug_is_a_flat_list_outermost_first() {
    let stack = Stack::new(Word("inner"), Word("outer"));
    assert_eq!(format!("{stack:?}"), "outer, inner");

    let identities = Stack::new(Identity::new(), Identity::new());
    assert_eq!(format!("{identities:?}"), "Identity, Identity");

    let derived = Stack::new(Limit { max: 5 }, Word("outer"));
    assert_eq!(derived.layer("s"), (5, "s"));
    assert_eq!(format!("{derived:?}"), "outer, Limit { max: 5 }");
}

#[test]
fn stack_alternate_debug_puts_each_layer_on_its_own_line() {
    let stack = Stack::new(Word("inner"), Word("outer"));
    assert_eq!(format!("{stack:#?}"), "outer,\ninner");

    // The alternate flag reaches each layer.
    let derived = Stack::new(Limit { max: 5 }, Word("outer"));
    assert_eq!(format!("{derived:#?}"), "outer,\nLimit {\n    max: 5,\n}");
}

#[test]
fn nested_stack_debug_stays_flat() {
    // Builder-shaped nesting: the stack grows on the outer side...
    let built = Stack::new(
        Stack::new(Stack::new(Word("a"), Word("b")), Word("c")),
        Word("d"),
    );
    assert_eq!(format!("{built:?}"), "d, c, b, a");
    assert_eq!(format!("{built:#?}"), "d,\nc,\nb,\na");

    // ...and nesting on the outer side prints the same way.
    let other = Stack::new(
        Word("a"),
        Stack::new(Word("b"), Stack::new(Word("c"), Word("d"))),
    );
    assert_eq!(format!("{other:?}"), "d, c, b, a");
    assert_eq!(format!("{other:#?}"), "d,\nc,\nb,\na");
}

#[test]
fn layer_fn_applies_the_closure() {
    let layer = layer_fn(|inner: String| format!("f({inner})"));
    assert_eq!(layer.layer("s".to_string()), "f(s)");
    // Applied by `&self`: the same closure again.
    assert_eq!(layer.layer("t".to_string()), "f(t)");

    // It can change the type, here wrapping a service.
    let tag = layer_fn(|inner| Tagged { name: "fn", inner });
    assert_eq!(path_through(tag.layer(Path)), ["fn"]);
}

#[test]
fn layer_fn_accepts_fn_items_and_is_copy_when_the_closure_is() {
    fn boxed(inner: u32) -> Box<u32> {
        Box::new(inner)
    }

    let layer: LayerFn<fn(u32) -> Box<u32>> = layer_fn(boxed);
    let copy = layer;
    assert_eq!(*copy.layer(1), 1);
    assert_eq!(*layer.layer(2), 2);
}

/// The type name of `T`, as `LayerFn`'s `Debug` should print it.
fn type_name_of<T>(_: &T) -> &'static str {
    std::any::type_name::<T>()
}

#[test]
fn layer_fn_has_useful_debug_impl() {
    struct WrappedService<S> {
        #[expect(dead_code, reason = "only built, to give the closure a type to return")]
        inner: S,
    }
    let closure = |inner| WrappedService { inner };
    let expected = type_name_of(&closure);
    assert_eq!(expected, std::any::type_name_of_val(&closure));

    let layer = layer_fn(closure);
    let _service = layer.layer("foo");

    // The closure is not `Debug`; its type name is printed instead.
    assert_eq!(format!("{layer:?}"), format!("LayerFn {{ f: {expected} }}"));
    assert_eq!(
        format!("{layer:?}"),
        "LayerFn { f: layer::layer_fn_has_useful_debug_impl::{{closure}} }"
    );
    assert_eq!(
        format!("{layer:#?}"),
        format!("LayerFn {{\n    f: {expected},\n}}")
    );
}

#[test]
fn layer_fn_debug_names_fn_items() {
    fn wrap(inner: u8) -> Option<u8> {
        Some(inner)
    }
    let layer = layer_fn(wrap);
    assert_eq!(
        format!("{layer:?}"),
        format!("LayerFn {{ f: {} }}", type_name_of(&wrap))
    );
    assert!(format!("{layer:?}").ends_with("::wrap }"));
}

#[test]
fn unit_is_the_identity_layer() {
    let service = Box::new(5_u64);
    let address: *const u64 = &*service;
    let out = ().layer(service);
    assert!(std::ptr::eq(&*out, address));
    assert_eq!(path_through(().layer(Path)), Vec::<&str>::new());
}

#[test]
fn one_tuple_applies_its_layer() {
    assert_eq!((Push(1),).layer(vec![0]), [0, 1]);
    let ([only], log) = parens(["only"]);
    assert_eq!((only,).layer("s".to_string()), "only(s)");
    assert_eq!(*log.borrow(), ["only"]);
}

#[test]
fn two_tuple_is_first_element_outermost() {
    let ([first, second], log) = parens(["first", "second"]);
    assert_eq!((first, second).layer("s".to_string()), "first(second(s))");
    // The last element wraps first.
    assert_eq!(*log.borrow(), ["second", "first"]);
    assert_eq!(
        path_through((Tag("first"), Tag("second")).layer(Path)),
        ["first", "second"]
    );
}

#[test]
fn three_tuple_is_first_element_outermost() {
    let ([a, b, c], log) = parens(["a", "b", "c"]);
    assert_eq!((a, b, c).layer("s".to_string()), "a(b(c(s)))");
    assert_eq!(*log.borrow(), ["c", "b", "a"]);
    assert_eq!(
        path_through((Tag("a"), Tag("b"), Tag("c")).layer(Path)),
        ["a", "b", "c"]
    );
}

#[test]
fn sixteen_tuple_is_first_element_outermost() {
    let tuple = (
        Tag("1"),
        Tag("2"),
        Tag("3"),
        Tag("4"),
        Tag("5"),
        Tag("6"),
        Tag("7"),
        Tag("8"),
        Tag("9"),
        Tag("10"),
        Tag("11"),
        Tag("12"),
        Tag("13"),
        Tag("14"),
        Tag("15"),
        Tag("16"),
    );
    assert_eq!(
        path_through(tuple.layer(Path)),
        [
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"
        ]
    );
}

/// Checks a tuple of `Push(1)..Push(n)`: layers apply from the last element
/// to the first, so the pushes come out as `n, …, 1`.
macro_rules! check_push_tuple {
    ($($n:literal),+) => {{
        let tuple = ($(Push($n),)+);
        let mut expected = vec![$($n),+];
        expected.reverse();
        assert_eq!(tuple.layer(Vec::new()), expected, "tuple of {} layers", expected.len());
    }};
}

#[test]
fn every_tuple_size_applies_from_the_last_element() {
    check_push_tuple!(1);
    check_push_tuple!(1, 2);
    check_push_tuple!(1, 2, 3);
    check_push_tuple!(1, 2, 3, 4);
    check_push_tuple!(1, 2, 3, 4, 5);
    check_push_tuple!(1, 2, 3, 4, 5, 6);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8, 9);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    check_push_tuple!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
}

#[test]
fn tuple_elements_may_change_the_service_type() {
    // Innermost (last) first: u32 -> String -> usize -> Option<usize>.
    let tuple = (
        layer_fn(Some),
        layer_fn(|s: String| s.len()),
        layer_fn(|n: u32| n.to_string()),
    );
    assert_eq!(tuple.layer(12_345), Some(5));
}

#[test]
fn tuples_nest_with_stacks_and_identity() {
    let layer = (
        Tag("a"),
        Stack::new(Tag("c"), Tag("b")),
        Identity::new(),
        (),
        (Tag("d"),),
    );
    assert_eq!(path_through(layer.layer(Path)), ["a", "b", "c", "d"]);
}

/// Applies any layer, taken by value.
fn apply<L: Layer<S>, S>(layer: L, service: S) -> L::Service {
    layer.layer(service)
}

#[test]
fn references_to_layers_are_layers() {
    let ([outer, inner], log) = parens(["outer", "inner"]);
    assert_eq!(apply(&inner, "s".to_string()), "inner(s)");
    assert_eq!(apply(&&inner, "s".to_string()), "inner(s)");
    assert_eq!(apply((&outer, &inner), "s".to_string()), "outer(inner(s))");
    assert_eq!(
        apply(Stack::new(&inner, &outer), "s".to_string()),
        "outer(inner(s))"
    );
    assert_eq!(
        *log.borrow(),
        ["inner", "inner", "inner", "outer", "inner", "outer"]
    );

    // `T: ?Sized`: a reference to a layer trait object is a layer.
    let object: &dyn Layer<String, Service = String> = &outer;
    assert_eq!(apply(object, "s".to_string()), "outer(s)");
    assert_eq!(apply(&Tag("ref"), Path).name, "ref");
}

#[test]
fn one_layer_value_wraps_many_services() {
    let ([inner, outer], log) = parens(["inner", "outer"]);
    let stack = Stack::new(inner, outer);
    let wrapped: Vec<String> = ["x", "y", "z"]
        .into_iter()
        .map(|service| stack.layer(service.to_string()))
        .collect();
    assert_eq!(
        wrapped,
        ["outer(inner(x))", "outer(inner(y))", "outer(inner(z))"]
    );
    assert_eq!(log.borrow().len(), 6);

    // Each wrapped service is independent of the others.
    let tuple = (Tag("outer"), Tag("inner"));
    let first = tuple.layer(Path);
    let second = tuple.layer(Path);
    assert_eq!(path_through(first), ["outer", "inner"]);
    assert_eq!(path_through(second), ["outer", "inner"]);
}
