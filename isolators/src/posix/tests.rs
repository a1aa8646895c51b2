use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

/// Writes `<root>/<pid>/stat` in the kernel's format with the fields the table reads.
fn fake(root: &Path, pid: i32, ppid: i32, utime: u64, stime: u64, rss: u64) {
    let dir = root.join(pid.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    // Fields 1..=52 of proc_pid_stat(5); zeros where the table does not look.
    let mut fields: Vec<String> = vec!["0".into(); 52];
    fields[0] = pid.to_string();
    fields[1] = format!("(p {pid})"); // a comm with a space, as the kernel allows
    fields[2] = "S".into();
    fields[3] = ppid.to_string();
    fields[13] = utime.to_string();
    fields[14] = stime.to_string();
    fields[19] = "1".into(); // num_threads
    fields[23] = rss.to_string();
    std::fs::write(dir.join("stat"), fields.join(" ") + "\n").unwrap();
}

#[test]
fn sums_a_process_tree_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fake(root, 1, 0, 1000, 1000, 1000); // init: not in the container
    fake(root, 10, 1, 100, 10, 5); // the container's first process
    fake(root, 11, 10, 200, 20, 7); // its child
    fake(root, 12, 11, 300, 30, 11); // grandchild
    fake(root, 20, 1, 999, 999, 999); // another container
    std::fs::create_dir_all(root.join("self")).unwrap(); // not a pid: skipped
    let table = ProcessTable::read(root).unwrap();
    let hz = procfs::ticks_per_second() as f64;
    let page = procfs::page_size();
    let u = table.usage(10).unwrap();
    assert!((u.cpus_user_time_secs - 600.0 / hz).abs() < 1e-9, "{u:?}");
    assert!((u.cpus_system_time_secs - 60.0 / hz).abs() < 1e-9, "{u:?}");
    assert_eq!(u.mem_rss_bytes, 23 * page);
    let leaf = table.usage(12).unwrap();
    assert_eq!(leaf.mem_rss_bytes, 11 * page);
    assert_eq!(table.usage(99), None);
}

#[test]
fn a_parent_cycle_from_a_torn_snapshot_ends() {
    let mut samples = HashMap::new();
    let s = |ppid| Sample {
        ppid,
        utime: 1,
        stime: 1,
        rss: 1,
    };
    samples.insert(5, s(6));
    samples.insert(6, s(5));
    let table = ProcessTable::from_samples(samples, 100, 4096);
    assert_eq!(table.usage(5).unwrap().mem_rss_bytes, 2 * 4096);
}

#[test]
fn reads_the_real_proc_for_a_live_tree() {
    // A shell that burns CPU in a child and holds memory: the tree's usage must show both.
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new("/bin/sh")
        .process_group(0)
        .args([
            "-c",
            "(i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 30) & wait",
        ])
        .spawn()
        .unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let usage = loop {
        let table = ProcessTable::read(Path::new("/proc")).unwrap();
        let usage = table.usage(pid).unwrap();
        if usage.cpus_user_time_secs + usage.cpus_system_time_secs > 0.05 {
            break usage;
        }
        assert!(Instant::now() < deadline, "no CPU time seen: {usage:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let alone = procfs::process::Process::new(pid).unwrap().stat().unwrap();
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = child.wait();
    assert!(usage.mem_rss_bytes > 0, "{usage:?}");
    // The busy loop runs in the subshell, not in `pid` itself: the tree was summed.
    assert!(
        (alone.utime + alone.stime) as f64 / (procfs::ticks_per_second() as f64)
            < usage.cpus_user_time_secs + usage.cpus_system_time_secs,
        "{alone:?} {usage:?}"
    );
}

#[test]
fn stat_lines_parse_after_the_last_parenthesis() {
    // comm "a) (b" as the kernel prints it; fields 4, 14, 15 and 24 are 7, 140, 150, 240.
    let mut fields: Vec<String> = (3..=52).map(|n| (n * 10).to_string()).collect();
    fields[0] = "S".into();
    fields[1] = "7".into();
    let line = format!("42 (a) (b) {}\n", fields.join(" "));
    let s = parse_stat(line.as_bytes()).unwrap();
    assert_eq!(
        s,
        Sample {
            ppid: 7,
            utime: 140,
            stime: 150,
            rss: 240
        }
    );
    assert_eq!(parse_stat(b"42 (x) S 1 2"), None, "a truncated line");
    assert_eq!(parse_stat(b"no parenthesis"), None);
}

#[test]
fn excluded_processes_are_not_read_but_their_children_are() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fake(root, 1, 0, 1000, 1000, 1000);
    fake(root, 5, 1, 50, 50, 50); // a supervisor: excluded
    fake(root, 10, 5, 100, 10, 5); // its executor, the tree's root
    fake(root, 11, 10, 200, 20, 7); // the task
    let exclude = HashSet::from([5]);
    let table = ProcessTable::read_excluding(root, &exclude).unwrap();
    assert_eq!(table.usage(5), None, "an excluded process is not read");
    let page = procfs::page_size();
    assert_eq!(table.usage(10).unwrap().mem_rss_bytes, 12 * page);
    // Reading everything counts the supervisor in its own (larger) tree.
    let all = ProcessTable::read(root).unwrap();
    assert_eq!(all.usage(5).unwrap().mem_rss_bytes, 62 * page);
}
