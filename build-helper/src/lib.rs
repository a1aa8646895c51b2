//! Helpers for the build scripts of the binaries that run once per task
//! (`mesos-containerizer`, `mesos-executor`, `mesos-docker-executor`), where every resident
//! page is paid per task:
//!
//! * [`link_statically`]: link named binaries as static PIEs against glibc's archives;
//! * [`build_park`]: compile a tiny `no_std` program (a "park" an idle process execs into)
//!   into `$OUT_DIR`, to be embedded with `include_bytes!`;
//! * [`build_musl`]: build named binaries of this workspace for the musl target, with a nested
//!   cargo, to be embedded with `include_bytes!` by the program that starts them.
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
            // The musl target adds its own crt1.o (and `_start`) unless told not to.
            .args(if var("CARGO_CFG_TARGET_ENV") == "musl" {
                &["-C", "link-self-contained=no"][..]
            } else {
                &[]
            })
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

/// Builds each `(package, binary)` of `bins` (of this workspace) for the musl target of the
/// architecture being built for, and writes for each `$OUT_DIR/<binary>` (empty if not built)
/// and the environment variable `MESETA_MUSL_<BINARY>` (upper case, `_` for `-`) naming it,
/// plus `MESETA_MUSL_HASH` (a hash of all of them) for the embedding crate. `watch` lists the
/// directories (relative to the package) whose changes rebuild them. Returns whether they were
/// built.
///
/// Why musl: glibc's start-up code (static or through `ld.so`) reads the processor's cache
/// geometry with dozens of `cpuid` instructions, each a VM exit under virtualisation: ~0.5 ms
/// per exec on our VMs, paid twice per task (supervisor and executor). musl's start-up runs no
/// `cpuid`. Stable cargo cannot build one package of a workspace for another target (artifact
/// dependencies are nightly-only), hence the nested cargo, into `<target dir>/per-task-musl`
/// so that it is incremental. Without the musl standard library (`rustup target add
/// x86_64-unknown-linux-musl`), or for another OS or architecture, nothing is built and a
/// cargo warning says so; a failed build with the target installed fails this build.
pub fn build_musl(bins: &[(&str, &str)], watch: &[&str]) -> bool {
    for dir in watch {
        println!("cargo:rerun-if-changed={dir}");
    }
    println!("cargo:rerun-if-env-changed=MESETA_NO_MUSL");
    println!("cargo:rerun-if-env-changed=RUSTFLAGS");
    let out = out_dir();
    let paths: Vec<PathBuf> = bins.iter().map(|(_, bin)| out.join(bin)).collect();
    let publish = |hash: u64| {
        for ((_, bin), path) in bins.iter().zip(&paths) {
            let key = bin.to_uppercase().replace('-', "_");
            println!("cargo:rustc-env=MESETA_MUSL_{key}={}", path.display());
        }
        println!("cargo:rustc-env=MESETA_MUSL_HASH={hash:016x}");
    };
    let empty = |why: &str| {
        println!("cargo:warning=per-task programs not built for musl ({why}): the agent runs the ones next to it");
        for path in &paths {
            std::fs::write(path, b"").expect("writing an empty program");
        }
        publish(0);
        false
    };
    let arch = var("CARGO_CFG_TARGET_ARCH");
    if var("CARGO_CFG_TARGET_OS") != "linux" || !["x86_64", "aarch64"].contains(&arch.as_str()) {
        return empty("not linux on x86_64 or aarch64");
    }
    if std::env::var_os("MESETA_NO_MUSL").is_some() {
        return empty("MESETA_NO_MUSL is set");
    }
    let target = format!("{arch}-unknown-linux-musl");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    let installed =
        sysroot.is_some_and(|s| s.join("lib/rustlib").join(&target).join("lib").is_dir());
    if !installed {
        return empty(&format!("the {target} standard library is not installed"));
    }
    // $OUT_DIR is <target dir>[/<triple>]/<profile>/build/<package>-<hash>/out.
    let target_dir = out
        .ancestors()
        .nth(4)
        .expect("OUT_DIR is below the target directory")
        .join("per-task-musl");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .args(["--target", &target])
        .arg("--target-dir")
        .arg(&target_dir);
    let release = var("PROFILE") == "release";
    if release {
        cmd.arg("--release");
    }
    for (package, bin) in bins {
        cmd.args(["-p", package, "--bin", bin]);
    }
    // The outer build's settings are for the outer target: this cargo reads its own. The
    // binaries are embedded, so they carry symbols but no debug information.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let keep = ["CARGO_HOME", "CARGO_MAKEFLAGS", "CARGO_INCREMENTAL"].contains(&key.as_ref())
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTRIES_");
        // RUSTC_WORKSPACE_WRAPPER is clippy's under `cargo clippy`: these builds are not
        // linted (the same sources are, for the outer target), and the outer clippy run would
        // otherwise invalidate the musl builds of the plain ones every time.
        if (key.starts_with("CARGO_") && !keep)
            || [
                "TARGET",
                "HOST",
                "OUT_DIR",
                "PROFILE",
                "OPT_LEVEL",
                "DEBUG",
                "NUM_JOBS",
                "RUSTC_WORKSPACE_WRAPPER",
            ]
            .contains(&key.as_ref())
        {
            cmd.env_remove(key.as_ref());
        }
    }
    // Static and *not* position-independent (musl's default is a static PIE): a PIE relocates
    // itself at every start (~4,500 pointers in the executor, ~2,000 in the supervisor), which
    // dirties its whole RELRO segment, copy-on-write, page by page. Measured on the 1,000-task
    // e2e run, 0.4-0.7 ms of CPU per task (of ~6.4). What this gives up is ASLR for these two
    // images only (their heap, stack and mappings stay randomised); neither parses anything but
    // the agent's own files and messages, and both are memory-safe Rust. Set here, not in
    // RUSTFLAGS, so it reaches no build script or proc-macro; the caller's RUSTFLAGS still apply.
    let mut rustflags: Vec<String> = std::env::var("RUSTFLAGS")
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    rustflags.extend(
        [
            "-C",
            "relocation-model=static",
            "-C",
            "target-feature=+crt-static",
        ]
        .map(str::to_owned),
    );
    cmd.env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\x1f"));
    // (`strip` alone is dropped for packages with a profile override, as the executor has.)
    cmd.env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .env("CARGO_PROFILE_DEV_STRIP", "debuginfo")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        // httparse otherwise picks its SIMD code at run time with `cpuid`, which traps to the
        // hypervisor on a VM: ~50 µs in every executor for the few header lines it parses.
        .env("CARGO_CFG_HTTPARSE_DISABLE_SIMD", "1");
    let status = cmd.status().expect("running cargo for the musl programs");
    assert!(status.success(), "building the per-task programs for {target} failed (set MESETA_NO_MUSL=1 to build without them)");
    let profile_dir = if release { "release" } else { "debug" };
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for ((_, bin), path) in bins.iter().zip(&paths) {
        let built = target_dir.join(&target).join(profile_dir).join(bin);
        let bytes = std::fs::read(&built).expect("reading a musl program just built");
        // FNV-1a: only tells builds apart (names the directory the agent installs them in).
        for b in &bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        std::fs::write(path, &bytes).expect("copying a musl program into OUT_DIR");
    }
    publish(hash);
    true
}
