//! `proto_enum!`: declares a Rust enum whose variants serialise as given proto names,
//! with `as_str()`, `ALL` and `Display`.

/// Declares an enum mirroring a proto enum: each variant names its proto spelling, e.g.
/// `Staging = "TASK_STAGING"`. Unknown names fail to deserialize.
macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $proto:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $proto)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The proto name, as sent on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $proto,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
