//! Code-point newtypes: registry values whose unknown members round-trip unchanged.

/// Declares a code-point newtype over an unsigned integer with named constants.
///
/// Unknown values (GREASE, RFC 9420 §13.5, or future registrations) decode and re-encode
/// unchanged; `Debug` prints the name when the value is known.
#[macro_export]
#[doc(hidden)]
macro_rules! codepoint {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($int:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $value:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(pub $int);

        impl $name {
            $( $(#[$cmeta])* $vis const $konst: Self = Self($value); )*

            /// The registered name of this value, if it is one meetkey knows.
            #[must_use]
            $vis const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($konst)), )*
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}(0x{:x})", stringify!($name), self.0),
                }
            }
        }

        impl $crate::codec::Decode for $name {
            fn decode(r: &mut $crate::codec::Reader<'_>) -> $crate::error::Result<Self> {
                <$int as $crate::codec::Decode>::decode(r).map(Self)
            }
        }

        impl $crate::codec::Encode for $name {
            fn encode(&self, w: &mut $crate::codec::Writer) {
                $crate::codec::Encode::encode(&self.0, w);
            }
        }
    };
}
