//! Helpers shared by the agent's kernel tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use isolators::Isolation;
use meseta_agent::containerizer::{Command, ContainerConfig, MesosContainerizer};
use tempfile::TempDir;

/// Full isolation, as the issue and the benchmark use it.
pub const FULL_ISOLATION: &str =
    "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid,namespaces/ipc,namespaces/uts,filesystem/linux";

/// True when the test can use the kernel; otherwise prints why it is skipped.
pub fn root_or_skip(test: &str) -> bool {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED {test}: needs root (cgroups, namespaces, mounts)");
        return false;
    }
    if !Path::new("/sys/fs/cgroup").exists() {
        eprintln!("SKIPPED {test}: no /sys/fs/cgroup");
        return false;
    }
    true
}

/// A containerizer with its own runtime dir and cgroups root, so tests can run side by side.
pub struct Harness {
    pub containerizer: MesosContainerizer,
    pub dir: TempDir,
    pub cgroups_root: String,
}

impl Harness {
    pub fn new(isolation: &str, cfs: bool) -> Self {
        Self::with_hierarchy(isolation, cfs, Path::new("/sys/fs/cgroup"))
    }

    /// As [`Harness::new`], with `--cgroups_hierarchy=hierarchy`.
    pub fn with_hierarchy(isolation: &str, cfs: bool, hierarchy: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cgroups_root = format!(
            "meseta-test-{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let launcher = meseta_tests::bin("mesos-containerizer");
        let mut config = ContainerConfig::new(
            dir.path().join("runtime"),
            launcher.parent().unwrap().to_owned(),
            Isolation::parse(isolation).unwrap(),
        );
        config.cgroups_root = cgroups_root.clone();
        config.cgroups_hierarchy = hierarchy.to_owned();
        config.cgroups_enable_cfs = cfs;
        config.default_kill_grace = Duration::from_secs(2);
        let containerizer = MesosContainerizer::new(config).unwrap();
        Self {
            containerizer,
            dir,
            cgroups_root,
        }
    }

    pub fn sandbox(&self, id: &str) -> PathBuf {
        self.dir.path().join("sandboxes").join(id)
    }

    pub fn stdout(&self, id: &str) -> String {
        std::fs::read_to_string(self.sandbox(id).join("stdout")).unwrap_or_default()
    }

    /// Container ids with a cgroup left under this harness's cgroups root, on any hierarchy.
    pub fn leftover_cgroups(&self) -> Vec<String> {
        let mut left = Vec::new();
        for entry in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
            let root = entry.path().join(&self.cgroups_root);
            if let Ok(children) = std::fs::read_dir(&root) {
                for c in children.flatten() {
                    if c.path().is_dir() {
                        left.push(c.path().display().to_string());
                    }
                }
            }
        }
        left
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        meseta_tests::kill_and_remove_cgroups(&self.cgroups_root, Duration::from_millis(100));
    }
}

pub fn sh(script: &str) -> Command {
    Command::shell(script)
}

/// A busybox root filesystem with the applets the tests use.
pub fn busybox_rootfs(dir: &Path) -> PathBuf {
    let applets = [
        "sh", "true", "echo", "cat", "ls", "hostname", "sleep", "ps", "mount", "id", "dd", "head",
        "tail", "wc",
    ];
    meseta_tests::busybox_rootfs(dir, &applets)
        .expect("busybox-static is needed (apt-get install busybox-static)")
}
