//! `meseta-run` as a user meets it: a real container, and one readable line with exit 2 for
//! bad input. Needs root for the container part.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::process::Command;

fn meseta_run(args: &[&str], work: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meseta-run"))
        .arg(format!("--work_dir={}", work.join("work").display()))
        .arg(format!("--runtime_dir={}", work.join("run").display()))
        .arg("--cgroups_root=meseta-cli-test")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["--isolation=cgroups/memory", "--", "true"],
            "meseta-run: --isolation: unknown isolator 'cgroups/memory'",
        ),
        (
            vec!["--cpus=-1", "--", "true"],
            "meseta-run: invalid cpus -1: must be a positive number",
        ),
        (
            vec!["--mem=0", "--", "true"],
            "meseta-run: invalid mem: must be a positive number of bytes",
        ),
    ] {
        let out = meseta_run(&args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(expected), "{stderr}");
    }
}

#[test]
fn runs_a_container_and_returns_its_exit_code() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED runs_a_container_and_returns_its_exit_code: needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = meseta_run(
        &[
            "--mem=64",
            "--hostname=cli",
            "--",
            "sh",
            "-c",
            "echo $(hostname) $$; exit 5",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("cli 1\n"), "{stderr}");
    assert!(
        stderr.contains("\"mem_limit_bytes\": 67108864")
            || stderr.contains("Command exited with status 5"),
        "{stderr}"
    );
    let missing = meseta_run(&["--", "no-such-command-xyz"], dir.path());
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("executable 'no-such-command-xyz' not found"));
    for ctrl in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let _ = std::fs::remove_dir(ctrl.path().join("meseta-cli-test"));
    }
}
