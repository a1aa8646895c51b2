//! The mesos containerizer against the real kernel: exit codes, cgroup limits, OOM, pid and
//! UTS namespaces, kill with a grace period, root filesystems and bad input. Needs root.

use std::time::{Duration, Instant};

use crate::common::{busybox_rootfs, root_or_skip, sh, Harness, FULL_ISOLATION};
use meseta_agent::containerizer::mesos::ContainerSpec;
use meseta_agent::containerizer::ContainerizerError;

fn spec(h: &Harness, id: &str, script: &str) -> ContainerSpec {
    ContainerSpec::new(id, sh(script), h.sandbox(id))
}

#[tokio::test]
async fn exit_code_is_propagated() {
    if !root_or_skip("exit_code_is_propagated") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    h.containerizer
        .launch(spec(&h, "exit3", "echo out; echo err >&2; exit 3"))
        .await
        .unwrap();
    let t = h.containerizer.wait("exit3").await.unwrap();
    assert_eq!(t.exit_code, Some(3), "{t:?}");
    assert_eq!(t.message, "Command exited with status 3");
    assert_eq!(h.stdout("exit3"), "out\n");
    assert_eq!(
        std::fs::read_to_string(h.sandbox("exit3").join("stderr")).unwrap(),
        "err\n"
    );
    assert!(
        h.leftover_cgroups().is_empty(),
        "{:?}",
        h.leftover_cgroups()
    );
}

#[tokio::test]
async fn cpu_shares_quota_and_memory_limit_are_set() {
    if !root_or_skip("cpu_shares_quota_and_memory_limit_are_set") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, true);
    let mut s = spec(&h, "limits", "sleep 30");
    s.cpus = Some(0.5);
    s.mem_mb = Some(64.0);
    s.pids_limit = Some(50);
    h.containerizer.launch(s).await.unwrap();
    let cg = h.containerizer.cgroups().unwrap();
    let read = |ctrl: &str, file: &str| {
        std::fs::read_to_string(cg.path(ctrl, "limits").unwrap().join(file))
            .unwrap()
            .trim()
            .to_owned()
    };
    match cg.version() {
        isolators::CgroupVersion::V1 => {
            assert_eq!(read("cpu", "cpu.shares"), "512");
            assert_eq!(read("cpu", "cpu.cfs_quota_us"), "50000");
            assert_eq!(read("cpu", "cpu.cfs_period_us"), "100000");
            assert_eq!(
                read("memory", "memory.limit_in_bytes"),
                (64u64 << 20).to_string()
            );
            assert_eq!(read("pids", "pids.max"), "50");
        }
        isolators::CgroupVersion::V2 => {
            assert_eq!(read("", "cpu.max"), "50000 100000");
            assert_eq!(read("", "memory.max"), (64u64 << 20).to_string());
        }
    }
    let usage = h.containerizer.usage("limits").unwrap();
    assert_eq!(usage.cpus_limit, Some(0.5));
    assert_eq!(usage.mem_limit_bytes, Some(64 << 20));
    assert!(usage.processes.unwrap() >= 1, "{usage:?}");
    assert!(usage.mem_total_bytes.unwrap() > 0, "{usage:?}");
    let t = h.containerizer.destroy("limits").await.unwrap();
    assert!(t.killed && t.signal == Some(9), "{t:?}");
    assert!(
        h.leftover_cgroups().is_empty(),
        "{:?}",
        h.leftover_cgroups()
    );
}

#[tokio::test]
async fn task_over_its_memory_limit_is_oom_killed_and_reported() {
    if !root_or_skip("task_over_its_memory_limit_is_oom_killed_and_reported") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    // The whole container ends at the OOM kill: the shell does not get to its `sleep`.
    let mut s = spec(
        &h,
        "oom",
        "dd if=/dev/zero of=/dev/null bs=256M count=1; sleep 30",
    );
    s.mem_mb = Some(32.0);
    let start = std::time::Instant::now();
    h.containerizer.launch(s).await.unwrap();
    let t = h.containerizer.wait("oom").await.unwrap();
    assert!(t.oom_killed, "{t:?}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the container outlived its OOM kill: {t:?}"
    );
    assert!(t.message.contains("Memory limit"), "{t:?}");
    // A task under its limit is not reported as OOM.
    let mut ok = spec(&h, "no-oom", "dd if=/dev/zero of=/dev/null bs=1M count=1");
    ok.mem_mb = Some(64.0);
    h.containerizer.launch(ok).await.unwrap();
    let t = h.containerizer.wait("no-oom").await.unwrap();
    assert!(t.succeeded(), "{t:?}");
}

#[tokio::test]
async fn task_is_pid_1_in_its_pid_namespace() {
    if !root_or_skip("task_is_pid_1_in_its_pid_namespace") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    h.containerizer
        .launch(spec(&h, "pid1", "echo $$; ls /proc | grep -c '^[0-9]'"))
        .await
        .unwrap();
    let t = h.containerizer.wait("pid1").await.unwrap();
    assert!(t.succeeded(), "{t:?}");
    let out = h.stdout("pid1");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1"));
    // Only the shell, ls and grep are visible in the task's /proc.
    let visible: u32 = lines.next().unwrap().parse().unwrap();
    assert!(
        visible <= 3,
        "{visible} processes visible: /proc is the host's"
    );
}

#[tokio::test]
async fn hostname_is_isolated() {
    if !root_or_skip("hostname_is_isolated") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    let host_before = nix::unistd::gethostname().unwrap();
    let mut s = spec(&h, "uts", "hostname; hostname changed-inside; hostname");
    s.hostname = Some("task-host".into());
    h.containerizer.launch(s).await.unwrap();
    let t = h.containerizer.wait("uts").await.unwrap();
    assert!(t.succeeded(), "{t:?}");
    assert_eq!(h.stdout("uts"), "task-host\nchanged-inside\n");
    assert_eq!(nix::unistd::gethostname().unwrap(), host_before);
}

#[tokio::test]
async fn kill_sends_sigterm_then_sigkill_after_the_grace_period() {
    if !root_or_skip("kill_sends_sigterm_then_sigkill_after_the_grace_period") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    // A task that handles SIGTERM exits on its own, well within the grace period.
    let polite = "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done";
    h.containerizer
        .launch(spec(&h, "polite", polite))
        .await
        .unwrap();
    wait_for_output(&h, "polite", "ready").await;
    let start = Instant::now();
    h.containerizer
        .kill("polite", Duration::from_secs(10))
        .unwrap();
    let t = h.containerizer.wait("polite").await.unwrap();
    assert_eq!(t.exit_code, Some(7), "{t:?}");
    assert!(t.killed);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(h.stdout("polite").contains("got-term"));

    // A task that ignores SIGTERM is SIGKILLed once the grace period is over.
    let stubborn = "trap '' TERM; echo ready; while :; do sleep 0.05; done";
    h.containerizer
        .launch(spec(&h, "stubborn", stubborn))
        .await
        .unwrap();
    wait_for_output(&h, "stubborn", "ready").await;
    let start = Instant::now();
    h.containerizer
        .kill("stubborn", Duration::from_millis(400))
        .unwrap();
    let t = h.containerizer.wait("stubborn").await.unwrap();
    let took = start.elapsed();
    assert_eq!(t.signal, Some(9), "{t:?}");
    assert!(
        took >= Duration::from_millis(400),
        "killed after {took:?}, before the grace period"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(h.leftover_cgroups().is_empty());
}

async fn wait_for_output(h: &Harness, id: &str, needle: &str) {
    for _ in 0..500 {
        if h.stdout(id).contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{id} never printed {needle:?}");
}

#[tokio::test]
async fn runs_in_a_busybox_rootfs_with_the_sandbox_mounted() {
    if !root_or_skip("runs_in_a_busybox_rootfs_with_the_sandbox_mounted") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    let rootfs = busybox_rootfs(h.dir.path());
    let mut s = spec(&h, "rootfs", "ls /bin/busybox && pwd && ls /dev/null && cat /proc/1/cmdline | tr '\\0' ' '; echo; echo hi > marker");
    s.rootfs = Some(rootfs.clone());
    s.rootfs_readonly = true;
    h.containerizer.launch(s).await.unwrap();
    let t = h.containerizer.wait("rootfs").await.unwrap();
    let out = h.stdout("rootfs");
    assert!(
        t.succeeded(),
        "{t:?} stdout={out} stderr={:?}",
        std::fs::read_to_string(h.sandbox("rootfs").join("stderr"))
    );
    assert!(
        out.starts_with("/bin/busybox\n/mnt/mesos/sandbox\n/dev/null\n"),
        "{out}"
    );
    // The sandbox is the host directory, writable through the read-only root.
    assert_eq!(
        std::fs::read_to_string(h.sandbox("rootfs").join("marker")).unwrap(),
        "hi\n"
    );
    // Nothing was mounted on the host.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(rootfs.to_str().unwrap()),
        "rootfs mount leaked to the host"
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_error() {
    if !root_or_skip("bad_input_gets_a_clear_error") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    let mut zero = spec(&h, "zero", "true");
    zero.cpus = Some(0.0);
    let err = h.containerizer.launch(zero).await.unwrap_err();
    assert!(matches!(err, ContainerizerError::Invalid(_)), "{err}");
    assert_eq!(err.to_string(), "invalid cpus 0: must be a positive number");
    let mut neg = spec(&h, "neg", "true");
    neg.mem_mb = Some(-64.0);
    assert!(h
        .containerizer
        .launch(neg)
        .await
        .unwrap_err()
        .to_string()
        .contains("invalid mem"));

    let missing = ContainerSpec::new(
        "missing",
        meseta_agent::containerizer::Command {
            argv: vec!["no-such-binary-xyz".into()],
            env: vec![],
            user: None,
        },
        h.sandbox("missing"),
    );
    let err = h.containerizer.launch(missing).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to launch container missing: executable 'no-such-binary-xyz' not found"
    );
    // An id whose runtime directory exists already (a container this containerizer does not
    // know, e.g. from an earlier agent) is refused, and neither its state nor its root
    // filesystem is touched.
    let mut config = meseta_agent::containerizer::ContainerConfig::new(
        h.dir.path().join("runtime"),
        meseta_tests::bin("mesos-containerizer")
            .parent()
            .unwrap()
            .to_owned(),
        isolators::Isolation::parse(FULL_ISOLATION).unwrap(),
    );
    config.cgroups_root = h.cgroups_root.clone();
    config.provisioner_dir = Some(h.dir.path().join("provisioner"));
    let with_images = meseta_agent::containerizer::MesosContainerizer::new(config).unwrap();
    let taken = h.dir.path().join("runtime/containers/taken");
    let rootfs = h.dir.path().join("provisioner/containers/taken");
    for d in [&taken, &rootfs] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("theirs"), "x").unwrap();
    }
    let err = with_images
        .launch(spec(&h, "taken", "true"))
        .await
        .unwrap_err();
    assert!(matches!(err, ContainerizerError::Exists(_)), "{err}");
    for d in [&taken, &rootfs] {
        assert!(d.join("theirs").exists(), "{} was touched", d.display());
    }
    let bad_id = spec(&h, "../escape", "true");
    assert!(h
        .containerizer
        .launch(bad_id)
        .await
        .unwrap_err()
        .to_string()
        .contains("invalid container id"));
    assert!(
        h.leftover_cgroups().is_empty(),
        "{:?}",
        h.leftover_cgroups()
    );
}

#[tokio::test]
async fn termination_survives_an_agent_restart() {
    if !root_or_skip("termination_survives_an_agent_restart") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    h.containerizer
        .launch(spec(&h, "survivor", "sleep 0.3; exit 4"))
        .await
        .unwrap();
    // A new containerizer over the same runtime dir stands for the restarted agent.
    let launcher = meseta_tests::bin("mesos-containerizer");
    let mut config = meseta_agent::containerizer::ContainerConfig::new(
        h.dir.path().join("runtime"),
        launcher.parent().unwrap().to_owned(),
        isolators::Isolation::parse(FULL_ISOLATION).unwrap(),
    );
    config.cgroups_root = h.cgroups_root.clone();
    let restarted = meseta_agent::containerizer::MesosContainerizer::new(config).unwrap();
    assert_eq!(
        restarted.recover().await.unwrap(),
        vec!["survivor".to_string()]
    );
    let t = restarted.wait("survivor").await.unwrap();
    assert_eq!(t.exit_code, Some(4), "{t:?}");
}
