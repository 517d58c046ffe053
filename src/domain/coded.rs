//! Enums whose variants are stored by a code that never changes (the audit log's
//! actions and resources, the purposes of processing), declared as one list so that
//! `ALL` cannot miss a variant: the catalogue test and `from_code` walk `ALL`, so a
//! variant left out of it would be a name no page can show and a code no filter finds.

/// Declare an enum with a code per variant, `ALL` (every variant, in order),
/// `code()` and `from_code()`.
///
/// ```ignore
/// coded_enum! {
///     /// What was done.
///     pub enum Action {
///         Read = "read",
///         Create = "create",
///     }
/// }
/// ```
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored code; never rename one.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

pub(crate) use coded_enum;

#[cfg(test)]
mod tests {
    coded_enum! {
        /// A test enum.
        enum Colour {
            Red = "red",
            /// With a comment.
            Green = "green",
        }
    }

    #[test]
    fn all_lists_every_variant_and_codes_round_trip() {
        assert_eq!(Colour::ALL, &[Colour::Red, Colour::Green]);
        for c in Colour::ALL {
            assert_eq!(Colour::from_code(c.code()), Some(*c));
        }
        assert_eq!(Colour::from_code("blue"), None);
    }
}
