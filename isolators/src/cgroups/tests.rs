//! The cgroup v2 code path, exercised against a fake cgroupfs tree in a temp dir (this host
//! runs v1), plus id validation. Real-kernel tests are in `isolators/tests/`.

use std::fs;
use std::path::Path;

use nix::unistd::Pid;

use super::*;

/// Lays out what the kernel would show for `/<root>/<id>` on a v2 host.
fn fake_v2_tree(dir: &Path, id: &str) {
    fs::write(
        dir.join("cgroup.controllers"),
        "cpuset cpu io memory hugetlb pids\n",
    )
    .unwrap();
    fs::write(dir.join("cgroup.subtree_control"), "").unwrap();
    let mesos = dir.join("mesos");
    fs::create_dir_all(mesos.join(id)).unwrap();
    fs::write(mesos.join("cgroup.subtree_control"), "").unwrap();
    let c = mesos.join(id);
    for f in [
        "cgroup.procs",
        "cgroup.threads",
        "cgroup.kill",
        "cgroup.freeze",
        "cpu.weight",
        "cpu.max",
        "memory.max",
        "memory.low",
        "memory.swap.max",
        "pids.max",
    ] {
        fs::write(c.join(f), "").unwrap();
    }
}

#[test]
fn v2_create_writes_limits_in_v2_units() {
    let tmp = tempfile::tempdir().unwrap();
    fake_v2_tree(tmp.path(), "c1");
    let cg = Cgroups::with_version(CgroupVersion::V2, tmp.path(), "mesos");
    let limits = Limits::new(Some(0.5), Some(64.0), true)
        .unwrap()
        .with_pids(100)
        .unwrap();
    let all = Controllers {
        cpu: true,
        memory: true,
        pids: true,
        devices: true,
    };
    cg.create("c1", Pid::from_raw(4242), &limits, all).unwrap();

    let c = tmp.path().join("mesos/c1");
    let read = |f: &str| fs::read_to_string(c.join(f)).unwrap();
    assert_eq!(read("cgroup.procs"), "4242");
    assert_eq!(read("memory.max"), (64u64 << 20).to_string());
    assert_eq!(read("pids.max"), "100");
    assert_eq!(read("cpu.max"), "50000 100000");
    // shares 512 map onto the v2 weight scale (1..10000), as runc/crun do.
    let weight: u64 = read("cpu.weight").trim().parse().unwrap();
    assert!(
        (1..=10000).contains(&weight) && weight < 100,
        "weight {weight}"
    );
    assert_eq!(cg.paths("c1").unwrap(), vec![c.clone()]);
    assert_eq!(cg.list(), vec!["c1".to_string()]);
}

#[test]
fn v2_prepare_clone_into_enables_controllers_above_the_container_then_limits_apply() {
    let tmp = tempfile::tempdir().unwrap();
    fake_v2_tree(tmp.path(), "c2");
    // The controllers file also lists one libcgroups does not know; it is left alone.
    fs::write(
        tmp.path().join("cgroup.controllers"),
        "cpuset cpu io memory hugetlb pids misc\n",
    )
    .unwrap();
    let cg = Cgroups::with_version(CgroupVersion::V2, tmp.path(), "mesos");
    assert!(
        cg.prepare_self_join("c2", Controllers::default())
            .unwrap()
            .is_none(),
        "v1 only"
    );
    assert!(cg.prepare_clone_into("c2").unwrap().is_some());
    let opened = cg.open("c2").unwrap();
    let limits = Limits::new(Some(0.5), Some(64.0), true).unwrap();
    let all = Controllers {
        cpu: true,
        memory: true,
        pids: false,
        devices: true,
    };
    opened.limit(&limits, all).unwrap();
    let read = |p: &str| fs::read_to_string(tmp.path().join(p)).unwrap();
    // A fake file keeps only the last write: the last known controller in the list.
    assert_eq!(read("cgroup.subtree_control"), "+pids");
    assert_eq!(read("mesos/cgroup.subtree_control"), "+pids");
    assert_eq!(read("mesos/c2/cpu.max"), "50000 100000");
    assert_eq!(read("mesos/c2/memory.max"), (64u64 << 20).to_string());
    // Nothing was moved: the process is created inside.
    assert_eq!(read("mesos/c2/cgroup.procs"), "");
}

#[test]
fn v2_statistics_come_from_cpu_stat_memory_stat_and_procs() {
    let tmp = tempfile::tempdir().unwrap();
    fake_v2_tree(tmp.path(), "c2");
    let c = tmp.path().join("mesos/c2");
    fs::write(
        c.join("cpu.stat"),
        "usage_usec 3500000\nuser_usec 2500123\nsystem_usec 999877\nnr_periods 40\n\
         nr_throttled 7\nthrottled_usec 1234567\n",
    )
    .unwrap();
    fs::write(c.join("memory.current"), "73400320\n").unwrap();
    fs::write(
        c.join("memory.stat"),
        "anon 52428800\nfile 20971520\nfile_mapped 4096\nkernel 8192\n",
    )
    .unwrap();
    fs::write(c.join("cgroup.procs"), "10\n11\n").unwrap();
    fs::write(c.join("cgroup.threads"), "10\n11\n12\n").unwrap();
    fs::write(
        c.join("memory.events"),
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
    )
    .unwrap();

    let cg = Cgroups::with_version(CgroupVersion::V2, tmp.path(), "mesos");
    let limits = Limits::new(Some(1.5), Some(128.0), true).unwrap();
    let s = cg.statistics("c2", &limits).unwrap();
    assert_eq!(s.cpus_user_time_secs, Some(2.500123));
    assert_eq!(s.cpus_system_time_secs, Some(0.999877));
    assert_eq!(s.cpus_nr_periods, Some(40));
    assert_eq!(s.cpus_nr_throttled, Some(7));
    assert_eq!(s.cpus_throttled_time_secs, Some(1.234567));
    assert_eq!(s.cpus_limit, Some(1.5));
    assert_eq!(s.mem_total_bytes, Some(73_400_320));
    assert_eq!(s.mem_rss_bytes, Some(52_428_800));
    assert_eq!(s.mem_cache_bytes, Some(20_971_520));
    assert_eq!(s.mem_limit_bytes, Some(128 << 20));
    assert_eq!(s.processes, Some(2));
    assert_eq!(s.threads, Some(3));
    assert!(s.timestamp > 1.0e9);
    assert!(cg.oom_killed("c2"));
}

#[test]
fn v2_oom_is_false_without_oom_kills() {
    let tmp = tempfile::tempdir().unwrap();
    fake_v2_tree(tmp.path(), "c3");
    fs::write(
        tmp.path().join("mesos/c3/memory.events"),
        "oom 0\noom_kill 0\n",
    )
    .unwrap();
    let cg = Cgroups::with_version(CgroupVersion::V2, tmp.path(), "mesos");
    assert!(!cg.oom_killed("c3"));
}

#[test]
fn v2_kill_all_uses_cgroup_kill() {
    let tmp = tempfile::tempdir().unwrap();
    fake_v2_tree(tmp.path(), "c4");
    let cg = Cgroups::with_version(CgroupVersion::V2, tmp.path(), "mesos");
    cg.kill_all("c4").unwrap();
    assert_eq!(
        fs::read_to_string(tmp.path().join("mesos/c4/cgroup.kill")).unwrap(),
        "1"
    );
}

#[test]
fn v2_missing_controller_files_are_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("cgroup.controllers"), "cpu memory pids\n").unwrap();
    let cg = Cgroups::with_version(CgroupVersion::V2, tmp.path(), "mesos");
    let limits = Limits::new(Some(1.0), Some(64.0), false).unwrap();
    let all = Controllers {
        cpu: true,
        memory: true,
        pids: true,
        devices: true,
    };
    let err = cg.create("c5", Pid::from_raw(1), &limits, all).unwrap_err();
    assert!(err.to_string().contains("/mesos/c5"), "{err}");
}

#[test]
fn ids_that_could_escape_the_root_are_rejected() {
    for bad in ["", ".", "..", "a/b", "../x", "a b", "x\0"] {
        assert!(validate_id(bad).is_err(), "{bad:?}");
    }
    for good in ["c1", "6a1f-2b.x_y", "0123456789abcdef"] {
        assert!(validate_id(good).is_ok(), "{good}");
    }
}

#[test]
fn v2_oom_watch_wakes_on_memory_events_and_checks_the_oom_counter() {
    let tmp = tempfile::tempdir().unwrap();
    fake_v2_tree(tmp.path(), "c6");
    let events = tmp.path().join("mesos/c6/memory.events");
    fs::write(&events, "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n").unwrap();
    let cg = Cgroups::with_version(CgroupVersion::V2, tmp.path(), "mesos")
        .open("c6")
        .unwrap();
    let watch = cg.watch_oom().unwrap();
    let readable = |w: &OomWatch| {
        let mut fds = [nix::poll::PollFd::new(w.fd(), nix::poll::PollFlags::POLLIN)];
        nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(200u16)).unwrap() == 1
    };
    assert!(!readable(&watch));
    // Hitting the limit without an OOM wakes the watch but is not an OOM.
    fs::write(&events, "low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n").unwrap();
    assert!(readable(&watch));
    watch.drain();
    assert!(!cg.oom_notified());
    fs::write(&events, "low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\n").unwrap();
    assert!(readable(&watch));
    assert!(cg.oom_notified());
}
