//! Images for Meseta containers: safe layer unpacking, a content-addressed layer store, and
//! image import from `docker save` tarballs and OCI image layouts.

pub mod unpack;

pub use unpack::{unpack_layer, Limits, SpecialFiles, Stats, UnpackError};
