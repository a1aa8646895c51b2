//! `ContainerCgroup::destroy` on this host's real cgroups (v1 or v2, whichever is mounted at
//! `/sys/fs/cgroup`): an empty cgroup goes at once, a cgroup with a live process has it killed
//! first, and one with a cgroup nested in it (as an image task's) goes with the nested one.
//! On v1, a container gets a `devices` cgroup only when asked (its tasks run in an image).
//! Needs root.

#![allow(clippy::tests_outside_test_module)]

use std::path::Path;
use std::time::Duration;

use isolators::cgroups::Controllers;
use isolators::{Cgroups, Limits};
use nix::unistd::Pid;

fn cgroups_or_skip(test: &str) -> Option<(Cgroups, String)> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED {test}: needs root to create cgroups");
        return None;
    }
    let root = format!("meseta-destroy-{}-{test}", std::process::id());
    let cgroups = Cgroups::detect(Path::new("/sys/fs/cgroup"), &root).expect("cgroups mounted");
    Some((cgroups, root))
}

/// Every directory the container's cgroup had; none may be left.
fn assert_gone(cgroups: &Cgroups, id: &str, dirs: &[std::path::PathBuf]) {
    assert!(!dirs.is_empty());
    for dir in dirs {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    assert!(!cgroups.exists(id));
}

/// Creates the container's cgroup as the supervisor does, without a process in it.
fn create(cgroups: &Cgroups, id: &str, controllers: Controllers) {
    drop(cgroups.prepare_self_join(id, controllers).unwrap()); // v1
    drop(cgroups.prepare_clone_into(id).unwrap()); // v2
}

/// Removes the test's own root below each hierarchy (v1) or below the one hierarchy (v2).
fn remove_root(root: &str) {
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let _ = std::fs::remove_dir(hierarchy.path().join(root));
    }
    let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(root));
}

#[test]
fn empty_busy_and_nested_cgroups_are_all_removed() {
    let Some((cgroups, root)) = cgroups_or_skip("all") else {
        return;
    };
    let limits = Limits::new(None, None, false).unwrap();
    let controllers = Controllers::default();

    // Empty: its first process has come and gone.
    create(&cgroups, "empty", controllers);
    let dirs = cgroups.paths("empty").unwrap();
    cgroups
        .open("empty")
        .unwrap()
        .destroy(Duration::from_secs(5))
        .unwrap();
    assert_gone(&cgroups, "empty", &dirs);

    // Busy: a process still runs in it.
    let mut child = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    let busy = cgroups.open("busy").unwrap();
    busy.attach(pid, &limits, controllers).unwrap();
    assert_eq!(cgroups.pids("busy").unwrap(), vec![pid]);
    let dirs = cgroups.paths("busy").unwrap();
    busy.destroy(Duration::from_secs(5)).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );
    assert_gone(&cgroups, "busy", &dirs);

    // Nested: a cgroup inside one of its directories.
    create(&cgroups, "nested", controllers);
    let dirs = cgroups.paths("nested").unwrap();
    let inner = dirs.last().unwrap().join("task");
    std::fs::create_dir(&inner).unwrap();
    cgroups
        .open("nested")
        .unwrap()
        .destroy(Duration::from_secs(5))
        .unwrap();
    assert!(!inner.exists());
    assert_gone(&cgroups, "nested", &dirs);

    remove_root(&root);
}

#[test]
fn a_v1_devices_cgroup_only_when_asked() {
    let Some((cgroups, root)) = cgroups_or_skip("devices") else {
        return;
    };
    let devices = Path::new("/sys/fs/cgroup/devices");
    if cgroups.version() != isolators::CgroupVersion::V1 || !devices.join("tasks").exists() {
        eprintln!("SKIPPED a_v1_devices_cgroup_only_when_asked: no cgroup v1 devices hierarchy");
        return;
    }
    let plain = Controllers::default();
    let image = Controllers {
        devices: true,
        ..plain
    };
    create(&cgroups, "plain", plain);
    create(&cgroups, "image", image);
    let freezer = Path::new("/sys/fs/cgroup/freezer").join(&root);
    assert!(freezer.join("plain").is_dir() && freezer.join("image").is_dir());
    assert!(!devices.join(&root).join("plain").exists());
    assert!(devices.join(&root).join("image").is_dir());
    for id in ["plain", "image"] {
        cgroups
            .open(id)
            .unwrap()
            .destroy(Duration::from_secs(5))
            .unwrap();
        assert!(!cgroups.exists(id));
    }
    remove_root(&root);
}
