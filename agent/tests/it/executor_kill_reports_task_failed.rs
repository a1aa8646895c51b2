//! Fault injection: `kill -9` of a task's command executor on a real single-node
//! cluster (`mesos-master` + `mesos-agent`, full isolation). The scheduler sees TASK_FAILED
//! with REASON_EXECUTOR_TERMINATED within 1 s of the kill, nothing is left a zombie, and the
//! container's cgroups are removed. Needs root and `cargo build --workspace --bins`.

use std::time::{Duration, Instant};

use crate::fault_rig::{alive, cgroups_under, containers, zombies_under, Sched};
use meseta_tests::{root_or_skip, wait_until, Cluster, ClusterOptions};

#[test]
fn killed_executor_fails_its_task_within_a_second_and_leaves_nothing() {
    if !root_or_skip("killed_executor_fails_its_task_within_a_second_and_leaves_nothing") {
        return;
    }
    let cluster = Cluster::start_with(&ClusterOptions::new("cpus:4;mem:4096;disk:1000"));
    let mut sched = Sched::subscribe(cluster.master_port, "executor-kill");
    let ids = vec!["victim".to_owned(), "bystander".to_owned()];
    sched.launch(&ids, "sleep 600");
    sched.until_all(&ids, "TASK_RUNNING", 60);

    let list = containers(cluster.agent_port);
    let victim = list
        .iter()
        .find(|c| c["meseta"]["task_ids"][0] == "victim")
        .unwrap_or_else(|| panic!("no container for victim: {list:?}"));
    let pid_of = |v: &serde_json::Value| u32::try_from(v.as_u64().unwrap()).unwrap();
    let pid = pid_of(&victim["status"]["executor_pid"]);
    let supervisor = pid_of(&victim["meseta"]["supervisor_pid"]);
    let cgroups: Vec<String> = victim["meseta"]["cgroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert!(!cgroups.is_empty(), "{victim}");
    assert!(cgroups.iter().all(|c| std::path::Path::new(c).is_dir()));
    assert!(alive(pid) && alive(supervisor));
    assert_built_in_programs_run(&cluster, &victim["container_id"]);

    let killed_at = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::SIGKILL,
    )
    .unwrap();
    sched.until(10, "TASK_FAILED of victim", |s| {
        s.states
            .get("victim")
            .is_some_and(|st| st != "TASK_RUNNING")
    });
    let (seen_at, status) = sched
        .updates
        .iter()
        .rev()
        .find(|(_, st)| st["task_id"]["value"] == "victim")
        .cloned()
        .unwrap();
    let latency = seen_at.duration_since(killed_at);
    assert_eq!(status["state"], "TASK_FAILED", "{status}");
    assert_eq!(status["reason"], "REASON_EXECUTOR_TERMINATED", "{status}");
    assert_eq!(status["source"], "SOURCE_AGENT", "{status}");
    eprintln!("kill -9 of the executor → TASK_FAILED at the scheduler: {latency:?}");
    assert!(
        latency <= Duration::from_secs(1),
        "TASK_FAILED took {latency:?}"
    );

    // The supervisor reaped the executor and exited; the agent reaped the supervisor.
    assert!(
        wait_until(Duration::from_secs(5), || !alive(supervisor)
            && zombies_under(cluster.agent_pid).is_empty()),
        "supervisor {supervisor} alive or zombies {:?}",
        zombies_under(cluster.agent_pid)
    );
    // Reaped, not a zombie anywhere.
    assert!(
        wait_until(Duration::from_secs(5), || !std::path::Path::new(&format!(
            "/proc/{pid}"
        ))
        .exists()),
        "executor {pid} was not reaped"
    );
    assert!(
        wait_until(Duration::from_secs(5), || cgroups
            .iter()
            .all(|c| !std::path::Path::new(c).exists())),
        "cgroups left: {cgroups:?}"
    );
    // Only the bystander's container is left, and it still runs.
    let left = cgroups_under(&cluster.cgroups_root);
    assert!(left.iter().all(|c| !cgroups.contains(c)), "{left:?}");
    assert_eq!(sched.states["bystander"], "TASK_RUNNING");
    let list = containers(cluster.agent_port);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["meseta"]["task_ids"][0], "bystander");
    sched.teardown();
}

/// Without `--launcher_dir`, the agent runs its built-in musl copies of the per-task programs:
/// the container's launch_info names `<work_dir>/launchers/<hash>/mesos-executor`, a static
/// program (no `PT_INTERP`, so no glibc loader), and the supervisor beside it.
fn assert_built_in_programs_run(cluster: &Cluster, container_id: &serde_json::Value) {
    assert!(
        meseta_agent::per_task::built_in(),
        "this agent was built without its musl per-task programs (scripts/setup.sh adds the x86_64-unknown-linux-musl target)"
    );
    let id = container_id.as_str().expect("container id");
    let info_path = cluster
        .runtime_dir
        .join("containers")
        .join(id)
        .join("launch_info");
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&info_path).unwrap()).unwrap();
    let executor = std::path::PathBuf::from(info["command"]["argv"][0].as_str().unwrap());
    let launchers = cluster.dir.path().join("agent").join("launchers");
    assert!(executor.starts_with(&launchers), "{info}");
    assert_eq!(executor.file_name().unwrap(), "mesos-executor");
    for program in [
        executor.clone(),
        executor.with_file_name("mesos-containerizer"),
    ] {
        let elf = std::fs::read(&program).unwrap();
        assert!(
            !has_interpreter(&elf),
            "{} is dynamically linked",
            program.display()
        );
    }
}

/// Whether the 64-bit little-endian ELF `elf` has a `PT_INTERP` program header.
fn has_interpreter(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF");
    let u16_at = |o: usize| usize::from(u16::from_le_bytes([elf[o], elf[o + 1]]));
    let phoff = usize::try_from(u64::from_le_bytes(elf[32..40].try_into().unwrap())).unwrap();
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    (0..phnum).any(|i| {
        let at = phoff + i * phentsize;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == 3
    })
}
