//! `agentctl pull` from a directory of `docker save` tarballs (Mesos's local puller layout)
//! into an image store, and its one-line errors. The registry path is covered against a real
//! registry in oci-bundles' tests. Needs root (layers keep file ownership).

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::process::Command;

fn agentctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn pulls_a_docker_save_tarball_into_the_store_once() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED pulls_a_docker_save_tarball_into_the_store_once: needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let registry = tmp.path().join("images");
    std::fs::create_dir(&registry).unwrap();
    let layers = meseta_tests::images::layers();
    std::fs::write(
        registry.join("busybox:latest.tar"),
        meseta_tests::images::docker_save(&layers, false),
    )
    .unwrap();
    let store = tmp.path().join("store");
    let args = [
        "pull",
        "busybox",
        &format!("--docker_registry={}", registry.display()),
        &format!("--docker_store_dir={}", store.display()),
    ];
    let out = agentctl(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("busybox:latest: 3 layers"), "{stdout}");
    let layers_dir: Vec<_> = std::fs::read_dir(store.join("layers")).unwrap().collect();
    assert_eq!(layers_dir.len(), 3);
    assert!(store.join("images").read_dir().unwrap().count() == 1);
    // Again: nothing new is unpacked.
    assert!(agentctl(&args).status.success());
    assert_eq!(std::fs::read_dir(store.join("layers")).unwrap().count(), 3);
}

#[test]
fn pull_errors_are_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let store = format!("--docker_store_dir={}", tmp.path().join("store").display());
    let dir = format!("--docker_registry={}", tmp.path().display());
    for (args, expected) in [
        (
            vec!["pull", "nosuch:1", dir.as_str(), store.as_str()],
            "agentctl: pull: ",
        ),
        (
            vec!["pull", "../etc", dir.as_str(), store.as_str()],
            "agentctl: pull: invalid image reference",
        ),
        (
            vec![
                "pull",
                "busybox",
                "--docker_registry=ftp://x",
                store.as_str(),
            ],
            "agentctl: pull: ",
        ),
    ] {
        let out = agentctl(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(expected), "{stderr}");
    }
}
