//! Links `mesos-executor` and `mesos-docker-executor` statically (glibc, static-pie): one
//! executor runs per task, and a static binary maps no dynamic loader and no shared
//! libraries (~1.9 MiB of resident `libc.so`/`ld.so`/`libgcc_s` pages each) and relocates
//! nothing at start.
//!
//! `-C target-feature=+crt-static` cannot be set for one binary on stable (RUSTFLAGS would
//! also hit proc-macros and build scripts), and rustc still names `-lgcc_s -lc ...` for a
//! dynamic std: so the link of these two binaries gets a search directory, searched first, in
//! which each of those libraries is a linker script pulling in the static archives, plus
//! `-static-pie`. (The same mechanism as `supervisor/build.rs` for `mesos-containerizer`.)
//! Where the static archives are missing the binaries stay dynamic, with a warning.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    let Some(dir) = static_libs_dir() else {
        println!("cargo:warning=no static libc.a/libm.a/libgcc_eh.a: the executors are linked dynamically");
        return;
    };
    for bin in ["mesos-executor", "mesos-docker-executor"] {
        println!("cargo:rustc-link-arg-bin={bin}=-L{}", dir.display());
        println!("cargo:rustc-link-arg-bin={bin}=-static-pie");
    }
}

/// Writes the linker scripts into `$OUT_DIR/static-libs`; `None` without the archives.
fn static_libs_dir() -> Option<PathBuf> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let find = |name: &str| -> Option<String> {
        let out = Command::new(&cc)
            .arg(format!("-print-file-name={name}"))
            .output()
            .ok()?;
        let path = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        // Without the archive, cc echoes the bare name back.
        Path::new(&path).is_absolute().then_some(path)
    };
    let archives: Vec<String> = ["libc.a", "libm.a", "libgcc_eh.a", "libgcc.a"]
        .into_iter()
        .map(find)
        .collect::<Option<_>>()?;
    let dir = PathBuf::from(std::env::var_os("OUT_DIR")?).join("static-libs");
    std::fs::create_dir_all(&dir).ok()?;
    let group = format!("GROUP({})\n", archives.join(" "));
    // The libraries rustc names for std on linux-gnu; both suffixes, so whichever the linker
    // looks for first in this directory is the script.
    for lib in ["gcc_s", "util", "rt", "pthread", "m", "dl", "c"] {
        for suffix in ["a", "so"] {
            std::fs::write(dir.join(format!("lib{lib}.{suffix}")), &group).ok()?;
        }
    }
    Some(dir)
}
