//! Builds `park/main.rs`, the tiny static program an idle supervisor execs into (see there),
//! into `$OUT_DIR/park`, which `src/park.rs` embeds.
//!
//! It is compiled here with `$RUSTC` rather than as a `[[bin]]`: a `no_std` program needs
//! `panic = "abort"`, which cargo can only set per profile for the whole workspace. Where it
//! cannot be built (an architecture without a park), an empty file makes the supervisor skip
//! parking and simply wait itself.
//!
//! It also links `mesos-containerizer` statically (glibc, static-pie): no dynamic loader, no
//! shared libraries to map and relocate on each of the agent's launches. `crt-static` cannot be
//! set for one binary on stable cargo (RUSTFLAGS would also hit proc-macros and build
//! scripts), and rustc keeps asking for `-lgcc_s -lc ...` dynamically, so this binary's link
//! gets a search directory, searched before the system's, in which each of those names is a
//! linker script pulling the static archives in.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=park/main.rs");
    build_park();
    link_statically("mesos-containerizer");
}

/// Links binary `bin` as a static PIE, when the C toolchain has the static archives.
fn link_statically(bin: &str) {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let find = |name: &str| -> Option<String> {
        let out = Command::new(&cc)
            .arg(format!("-print-file-name={name}"))
            .output()
            .ok()?;
        let path = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        // Without the archive, cc echoes the bare name back.
        std::path::Path::new(&path).is_absolute().then_some(path)
    };
    let archives: Option<Vec<String>> = ["libc.a", "libm.a", "libgcc_eh.a", "libgcc.a"]
        .into_iter()
        .map(find)
        .collect();
    let Some(archives) = archives else {
        println!("cargo:warning=no static libc.a/libm.a/libgcc_eh.a: {bin} is linked dynamically");
        return;
    };
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("static-libs");
    std::fs::create_dir_all(&dir).expect("creating the static-libs dir");
    let group = format!("GROUP({})\n", archives.join(" "));
    // The libraries rustc names for std on linux-gnu; both suffixes, so whichever the linker
    // looks for first in this directory is the script.
    for lib in ["gcc_s", "util", "rt", "pthread", "m", "dl", "c"] {
        for suffix in ["a", "so"] {
            std::fs::write(dir.join(format!("lib{lib}.{suffix}")), &group)
                .expect("writing a linker script");
        }
    }
    println!("cargo:rustc-link-arg-bin={bin}=-L{}", dir.display());
    println!("cargo:rustc-link-arg-bin={bin}=-static-pie");
}

/// Builds the park program into `$OUT_DIR/park` (empty where it cannot be built).
fn build_park() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let park = out.join("park");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target = std::env::var("TARGET").expect("TARGET");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let built = os == "linux"
        && ["x86_64", "aarch64"].contains(&arch.as_str())
        && Command::new(rustc)
            .args([
                "--edition",
                "2021",
                "--crate-type",
                "bin",
                "--crate-name",
                "park",
            ])
            .args(["--target", &target])
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
            .arg("park/main.rs")
            .status()
            .is_ok_and(|s| s.success());
    if !built {
        println!("cargo:warning=the supervisor's park program was not built: idle supervisors stay full size");
        std::fs::write(&park, b"").expect("writing an empty park");
    }
}
