//! 100 containers launched, waited for and destroyed (half with a busybox root filesystem,
//! four at a time) leave nothing behind: no zombie, no cgroup, no mount, no fd, no runtime
//! state. Needs root. Its own test binary, so the process-wide counts are not disturbed.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

mod common;

use common::{busybox_rootfs, root_or_skip, sh, Harness, FULL_ISOLATION};
use meseta_agent::containerizer::mesos::ContainerSpec;

fn count_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn mountinfo() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count()
}

/// Zombie children of this process, and any process still running from our runtime dir.
fn zombies_and_stragglers(runtime: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let after = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.len() > 1 && fields[0] == "Z" && fields[1] == me {
            found.push(format!("zombie {name}: {stat}"));
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(runtime) {
            found.push(format!(
                "straggler {name}: {}",
                String::from_utf8_lossy(&cmdline)
            ));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_zombies_cgroups_mounts_or_fds_after_100_launches() {
    if !root_or_skip("no_zombies_cgroups_mounts_or_fds_after_100_launches") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, true);
    let rootfs = busybox_rootfs(h.dir.path());
    let runtime = h.dir.path().join("runtime").display().to_string();

    let run = |i: usize| {
        let id = format!("leak-{i}");
        let mut s = ContainerSpec::new(id.clone(), sh("echo $$ > /dev/null; true"), h.sandbox(&id));
        s.cpus = Some(0.1);
        s.mem_mb = Some(32.0);
        s.pids_limit = Some(16);
        if i % 2 == 1 {
            s.rootfs = Some(rootfs.clone());
            s.rootfs_readonly = true;
        }
        let c = h.containerizer.clone();
        async move {
            c.launch(s).await.unwrap();
            let t = c.wait(&id).await.unwrap();
            assert!(t.succeeded(), "{id}: {t:?}");
            c.destroy(&id).await.unwrap();
        }
    };
    // Warm up: tokio's signal and process machinery open their fds once.
    run(1000).await;
    let (fds, mounts) = (count_fds(), mountinfo());

    for batch in 0..25 {
        let b = batch * 4;
        tokio::join!(run(b), run(b + 1), run(b + 2), run(b + 3));
    }
    // Give tokio's reaper a moment to collect the last supervisors.
    for _ in 0..100 {
        if zombies_and_stragglers(&runtime).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(zombies_and_stragglers(&runtime), Vec::<String>::new());
    assert_eq!(h.leftover_cgroups(), Vec::<String>::new());
    assert_eq!(mountinfo(), mounts, "mounts leaked");
    assert_eq!(count_fds(), fds, "fds leaked");
    let left: Vec<_> = std::fs::read_dir(h.dir.path().join("runtime/containers"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "runtime state left: {left:?}");
    assert!(h.containerizer.containers().is_empty());
}
