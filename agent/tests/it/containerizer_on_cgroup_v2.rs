//! The cgroup v2 launch path against a real cgroup2 mount: `/sys/fs/cgroup` on a v2 host, the
//! nearly empty `/sys/fs/cgroup/unified` on this project's hybrid test host (it has no cpu or
//! memory controller, so no limits are set here; the fake-tree tests in `isolators` cover
//! them). Needs root.

use std::path::{Path, PathBuf};

use crate::common::{root_or_skip, sh, Harness};
use meseta_agent::containerizer::mesos::ContainerSpec;

fn cgroup2_mount() -> Option<PathBuf> {
    ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .map(PathBuf::from)
        .find(|m| {
            nix::sys::statfs::statfs(m.as_path())
                .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        })
}

/// A tracefs instance recording the kernel's `cgroup_attach_task` event, which fires for every
/// migration into a cgroup (a write to `cgroup.procs`) and never for a process created inside
/// one. Removed on drop.
struct AttachTrace(PathBuf);

impl AttachTrace {
    fn start(name: &str) -> Option<Self> {
        let dir = Path::new("/sys/kernel/tracing/instances").join(name);
        std::fs::create_dir(&dir).ok()?;
        let trace = Self(dir);
        std::fs::write(trace.0.join("events/cgroup/cgroup_attach_task/enable"), "1").ok()?;
        Some(trace)
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.0.join("trace")).unwrap_or_default()
    }
}

impl Drop for AttachTrace {
    fn drop(&mut self) {
        let _ = std::fs::write(self.0.join("events/cgroup/cgroup_attach_task/enable"), "0");
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[tokio::test]
async fn the_first_process_is_created_inside_its_v2_cgroup() {
    if !root_or_skip("the_first_process_is_created_inside_its_v2_cgroup") {
        return;
    }
    let Some(mount) = cgroup2_mount() else {
        eprintln!("SKIPPED: no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified");
        return;
    };
    let h = Harness::with_hierarchy("cgroups/cpu", false, &mount);
    let (containerizer, root) = (&h.containerizer, h.cgroups_root.clone());
    assert_eq!(
        containerizer.cgroups().map(|c| c.version()),
        Some(isolators::CgroupVersion::V2)
    );
    let sandbox = h.sandbox("v2");
    let spec = ContainerSpec::new("v2", sh("cat /proc/self/cgroup"), &sandbox);
    let trace = AttachTrace::start(&root);
    if trace.is_none() {
        eprintln!("no tracefs instance: not checking that nothing was migrated");
    }
    containerizer.launch(spec).await.unwrap();
    let t = containerizer.wait("v2").await.unwrap();
    let log = std::fs::read_to_string(h.dir.path().join("runtime/containers/v2/supervisor.log"))
        .unwrap_or_default();
    let stdout = h.stdout("v2");
    let migrations = trace.as_ref().map(AttachTrace::text).unwrap_or_default();
    drop(trace);
    let _ = containerizer.destroy("v2").await;
    let cgroup = mount.join(&root).join("v2");
    let left = cgroup.exists();
    let _ = std::fs::remove_dir(&cgroup);
    assert!(t.succeeded(), "{t:?} {log}");
    assert!(
        stdout.lines().any(|l| l == format!("0::/{root}/v2")),
        "the task is not in its v2 cgroup: {stdout}"
    );
    // Created inside (clone3 with CLONE_INTO_CGROUP), not moved there afterwards.
    assert!(!log.contains("clone3"), "the supervisor fell back: {log}");
    let into_ours: Vec<&str> = migrations
        .lines()
        .filter(|l| l.contains("cgroup_attach_task") && l.contains(&format!("/{root}/")))
        .collect();
    assert!(into_ours.is_empty(), "processes were moved: {into_ours:?}");
    assert!(!left, "{} left behind", cgroup.display());
}
