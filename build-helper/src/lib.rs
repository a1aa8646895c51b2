//! Helpers for the build scripts of the binaries that run once per task
//! (`mesos-containerizer`, `mesos-executor`, `mesos-docker-executor`), where every resident
//! page is paid per task:
//!
//! * [`link_statically`]: link named binaries as static PIEs against glibc's archives;
//! * [`build_park`]: compile a tiny `no_std` program (a "park" an idle process execs into)
//!   into `$OUT_DIR`, to be embedded with `include_bytes!`.
//!
//! Only for use from `build.rs`: both print `cargo:` instructions on stdout.

use std::path::{Path, PathBuf};
use std::process::Command;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn out_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set for build scripts"))
}

/// Links each binary of `bins` (of the package being built) as a static PIE against glibc,
/// when the target is linux-gnu and the C toolchain has the static archives; otherwise they
/// stay dynamic, with a cargo warning. Returns whether they are static.
///
/// A static binary maps no dynamic loader and no shared libraries (~1.9 MiB of resident
/// `libc.so`/`ld.so`/`libgcc_s` pages per process) and relocates nothing at start.
/// `-C target-feature=+crt-static` cannot be set for one binary on stable cargo (RUSTFLAGS
/// would also hit proc-macros and build scripts), and rustc keeps naming `-lgcc_s -lc ...`
/// for a dynamic std: so these binaries' links get a search directory, searched before the
/// system's, in which each of those libraries is a linker script pulling in the static
/// archives, plus `-static-pie`. The lib, its tests, proc-macros and build scripts stay
/// dynamic (`cargo:rustc-link-arg-bin`).
pub fn link_statically(bins: &[&str]) -> bool {
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" {
        return false;
    }
    let Some(dir) = static_libs_dir() else {
        println!(
            "cargo:warning=no static libc.a/libm.a/libgcc_eh.a: {} linked dynamically",
            bins.join(", ")
        );
        return false;
    };
    for bin in bins {
        println!("cargo:rustc-link-arg-bin={bin}=-L{}", dir.display());
        println!("cargo:rustc-link-arg-bin={bin}=-static-pie");
    }
    true
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
    let dir = out_dir().join("static-libs");
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

/// The runtime every park program `include!`s (`_start`, raw system calls, the panic
/// handler), relative to the package that builds one.
const PARK_RUNTIME: &str = "../build-helper/park/rt.rs";

/// Compiles the `no_std`, `no_main` program `source` (relative to the package) into
/// `$OUT_DIR/<name>`: static, no libc, stripped, `panic = abort`. Where it cannot be built
/// (another OS or architecture, a failed compile) the file is left empty and a cargo warning
/// says so; the embedding crate must then do without it. Returns whether it was built.
///
/// It is compiled here with `$RUSTC` rather than as a `[[bin]]`: a `no_std` program needs
/// `panic = "abort"`, which cargo can only set per profile for the whole workspace.
pub fn build_park(source: &str, name: &str) -> bool {
    println!("cargo:rerun-if-changed={source}");
    println!("cargo:rerun-if-changed={PARK_RUNTIME}");
    let park = out_dir().join(name);
    let arch = var("CARGO_CFG_TARGET_ARCH");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let built = var("CARGO_CFG_TARGET_OS") == "linux"
        && ["x86_64", "aarch64"].contains(&arch.as_str())
        && Command::new(rustc)
            .args(["--edition", "2021", "--crate-type", "bin"])
            .args(["--crate-name", &name.replace('-', "_")])
            .args(["--target", &var("TARGET")])
            .args([
                "-C",
                "panic=abort",
                "-C",
                "opt-level=s",
                "-C",
                "debuginfo=0",
            ])
            .args(["-C", "strip=symbols", "-C", "relocation-model=static"])
            .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
            .args([
                "-C",
                "link-arg=-static",
                "-C",
                "link-arg=-Wl,--build-id=none",
            ])
            .arg("-o")
            .arg(&park)
            .arg(source)
            .status()
            .is_ok_and(|s| s.success());
    if !built {
        println!(
            "cargo:warning={name} ({source}) was not built: the process stays full size while idle"
        );
        std::fs::write(&park, b"").expect("writing an empty park program");
    }
    built
}
