//! `Layer` for tuples of layers, outermost first.

use crate::Layer;

impl<S> Layer<S> for () {
    type Service = S;

    #[inline]
    fn layer(&self, service: S) -> S {
        service
    }
}

/// Applies the named layers to `$service`, the last one innermost.
macro_rules! nest {
    ($service:expr; $layer:ident) => {
        $layer.layer($service)
    };
    ($service:expr; $layer:ident, $($rest:ident),+) => {
        $layer.layer(nest!($service; $($rest),+))
    };
}

/// Implements `Layer` for one tuple size.
///
/// Arguments: the first (outermost) element type; the element types with
/// their binding names; each element with the element that it wraps
/// (`outer: inner`); the last (innermost) element type.
macro_rules! tuple_layer {
    ($first:ident; $($ty:ident $name:ident),+ ; $($outer:ident: $inner:ident),* ; $last:ident) => {
        impl<S, $($ty),+> Layer<S> for ($($ty,)+)
        where
            $($outer: Layer<$inner::Service>,)*
            $last: Layer<S>,
        {
            type Service = $first::Service;

            #[inline]
            fn layer(&self, service: S) -> Self::Service {
                let ($($name,)+) = self;
                nest!(service; $($name),+)
            }
        }
    };
}

tuple_layer!(L1; L1 l1; ; L1);
tuple_layer!(L1; L1 l1, L2 l2; L1: L2; L2);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3; L1: L2, L2: L3; L3);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4; L1: L2, L2: L3, L3: L4; L4);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5; L1: L2, L2: L3, L3: L4, L4: L5; L5);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6; L6);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7; L7);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8; L8);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8, L9 l9; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8, L8: L9; L9);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8, L9 l9, L10 l10; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8, L8: L9, L9: L10; L10);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8, L9 l9, L10 l10, L11 l11; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8, L8: L9, L9: L10, L10: L11; L11);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8, L9 l9, L10 l10, L11 l11, L12 l12; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8, L8: L9, L9: L10, L10: L11, L11: L12; L12);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8, L9 l9, L10 l10, L11 l11, L12 l12, L13 l13; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8, L8: L9, L9: L10, L10: L11, L11: L12, L12: L13; L13);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8, L9 l9, L10 l10, L11 l11, L12 l12, L13 l13, L14 l14; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8, L8: L9, L9: L10, L10: L11, L11: L12, L12: L13, L13: L14; L14);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8, L9 l9, L10 l10, L11 l11, L12 l12, L13 l13, L14 l14, L15 l15; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8, L8: L9, L9: L10, L10: L11, L11: L12, L12: L13, L13: L14, L14: L15; L15);
tuple_layer!(L1; L1 l1, L2 l2, L3 l3, L4 l4, L5 l5, L6 l6, L7 l7, L8 l8, L9 l9, L10 l10, L11 l11, L12 l12, L13 l13, L14 l14, L15 l15, L16 l16; L1: L2, L2: L3, L3: L4, L4: L5, L5: L6, L6: L7, L7: L8, L8: L9, L9: L10, L10: L11, L11: L12, L12: L13, L13: L14, L14: L15, L15: L16; L16);
