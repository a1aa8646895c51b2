//! The task's view of its image, made inside the task's own mount namespace from the OCI
//! spec's mounts: the root filesystem bound onto itself ([`resolve`]), each mount of the spec
//! ([`mounts`]), the standard `/dev` nodes, `pivot_root`, then the spec's read-only and masked
//! paths ([`finish`]).
//!
//! The image is untrusted: every destination is resolved with `openat2(RESOLVE_IN_ROOT)`, so
//! a symlink in the image resolves inside the root filesystem (as the task would see it) and
//! never reaches the host, and missing mount points are created beneath that root only. The
//! mount then goes onto the resolved file through `/proc/self/fd/N` (what runc does).

mod finish;
mod mounts;
mod resolve;

pub(super) use self::finish::{masked_paths, pivot, populate_dev, readonly_paths};
pub(super) use self::mounts::mount_all;
pub(super) use self::resolve::{open_root, resolve, Kind};
