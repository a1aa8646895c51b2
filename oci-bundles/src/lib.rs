//! Images for Meseta containers: safe layer unpacking, a content-addressed layer store, and
//! image import from `docker save` tarballs and OCI image layouts.

pub mod command;
pub mod digest;
pub mod import;
pub mod mount_points;
pub mod provision;
pub mod pull;
pub mod reference;
pub mod store;
pub mod unpack;

pub use digest::Digest;
pub use import::{import_docker_archive, import_oci_layout, local_archive_path, ImportError};
pub use reference::Reference;
pub use store::{RuntimeConfig, Store, StoreError, StoredImage};
pub use unpack::{unpack_layer, Limits, SpecialFiles, Stats, UnpackError};
