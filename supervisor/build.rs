//! Builds `park/main.rs`, the tiny static program an idle supervisor execs into (see there),
//! into `$OUT_DIR/park`, which `src/park.rs` embeds.
//!
//! It is compiled here with `$RUSTC` rather than as a `[[bin]]`: a `no_std` program needs
//! `panic = "abort"`, which cargo can only set per profile for the whole workspace. Where it
//! cannot be built (an architecture without a park), an empty file makes the supervisor skip
//! parking and simply wait itself.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=park/main.rs");
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
