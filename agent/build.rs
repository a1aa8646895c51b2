//! Links `mesos-agent` (and `mesos-slave`) with packed relative relocations (`DT_RELR`,
//! glibc ≥ 2.36). A position-independent Rust binary carries one 24-byte `RELA` entry per
//! pointer in its vtables and static tables (~26,000 here); the dynamic loader reads all of
//! them at every start and they stay mapped: ~600 KiB of the idle agent's RSS. `RELR` packs the
//! same relocations into ~8 KiB. The binary stays a PIE (ASLR unchanged).
//!
//! Only where the target is Linux with glibc; other targets link as before.
//!
//! Also builds the two programs the agent starts for every task, `mesos-containerizer` and
//! `mesos-executor`, for musl, to embed them (see `meseta_build::build_musl` and
//! `meseta_agent::per_task`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    meseta_build::build_musl(
        &[
            ("meseta-supervisor", "mesos-containerizer"),
            ("meseta-executor", "mesos-executor"),
        ],
        // Everything those two are built from.
        &[
            "../supervisor",
            "../executor",
            "../isolators",
            "../base",
            "../containerizer-api",
            "../api",
            "../docker",
            "../build-helper",
            "../Cargo.toml",
            "../Cargo.lock",
        ],
    );
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    for bin in ["mesos-agent", "mesos-slave"] {
        println!("cargo:rustc-link-arg-bin={bin}=-Wl,-z,pack-relative-relocs");
    }
}
