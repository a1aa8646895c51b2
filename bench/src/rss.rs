//! `meseta-bench agent-rss`: the agent's resident memory when idle, and the memory each
//! running task costs on top: agent growth plus the task's supervisor and command executor
//! (the task's own command is the user's, not counted).

use std::time::Duration;

use anyhow::{bail, Result};
use meseta_api::TaskState;
use meseta_scheduler::{command_task as task, Event};
use meseta_tests::{Cluster, ClusterOptions};

use crate::sched::subscribe;

/// `VmRSS` and `Pss` of a process, in KiB.
fn rss_pss_kib(pid: u32) -> (u64, u64) {
    let field = |text: &str, key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    (field(&status, "VmRSS:"), field(&rollup, "Pss:"))
}

/// Pids of processes whose command line names `exe` and whose command line or environment
/// mentions `needle` (so only this cluster's processes count).
fn pids_of(exe: &str, needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        let env = std::fs::read(e.path().join("environ")).unwrap_or_default();
        let env = String::from_utf8_lossy(&env);
        let named = cmd.split('\0').next().is_some_and(|a0| a0.ends_with(exe));
        if named && (cmd.contains(needle) || env.contains(needle)) {
            out.push(pid);
        }
    }
    out
}

/// Whether `pid`, an `exe`, runs its park program.
fn parked(pid: u32, exe: &str) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .is_ok_and(|p| crate::smaps::is_park(&p.to_string_lossy(), exe))
}

/// Waits until every supervisor and executor has parked; how long that took.
fn wait_parked(supervisors: &[u32], executors: &[u32], limit: Duration) -> Result<Duration> {
    let start = std::time::Instant::now();
    loop {
        let awake = supervisors
            .iter()
            .filter(|p| !parked(**p, "mesos-containerizer"))
            .chain(executors.iter().filter(|p| !parked(**p, "mesos-executor")))
            .count();
        if awake == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!("{awake} supervisors and executors still resident after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs the benchmark with `tasks` sleeping tasks; returns the table and the RESULT line.
pub fn run(tasks: usize) -> Result<String> {
    let cluster = Cluster::start_with(&ClusterOptions::new(
        "cpus:16;mem:65536;disk:100000;ports:[31000-32000]",
    ));
    std::thread::sleep(Duration::from_secs(2));
    let (idle_rss, idle_pss) = rss_pss_kib(cluster.agent_pid);

    let mut sched = subscribe(cluster.master_port, "meseta-bench-rss", |_| {})?;
    let mut launched = 0;
    let mut running = 0;
    while running < tasks {
        let Some((_, ev)) = sched.next_event(Duration::from_secs(30))? else {
            bail!("no event for 30s")
        };
        match ev {
            Event::Offers(offers) => {
                for offer in offers {
                    let batch: Vec<_> = (launched..tasks)
                        .map(|i| task(&format!("rss-{i}"), &offer, "sleep 600", 0.1, 32.0))
                        .collect();
                    launched = tasks;
                    sched.block_on(sched.scheduler().launch(&offer.id, batch))?;
                }
            }
            Event::Update(st) => match st.state {
                TaskState::Running => running += 1,
                TaskState::Starting => {}
                other => bail!("task {}: {other:?}", st.task_id.value),
            },
            _ => {}
        }
    }
    let runtime = cluster.runtime_dir.display().to_string();
    let supervisors = pids_of("mesos-containerizer", &runtime);
    let executors = pids_of(
        "mesos-executor",
        &format!("MESOS_AGENT_ENDPOINT=127.0.0.1:{}", cluster.agent_port),
    );
    let sum = |pids: &[u32]| {
        pids.iter()
            .map(|p| rss_pss_kib(*p))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    // Just after TASK_RUNNING, before supervisors and executors park (2 s idle).
    let (agent_now, _) = rss_pss_kib(cluster.agent_pid);
    let resident_kib = agent_now.saturating_sub(idle_rss) + sum(&supervisors).0 + sum(&executors).0;
    let waited = wait_parked(&supervisors, &executors, Duration::from_secs(30))?;
    let (busy_rss, busy_pss) = rss_pss_kib(cluster.agent_pid);
    let (sup_rss, sup_pss) = sum(&supervisors);
    let (ex_rss, ex_pss) = sum(&executors);
    let mut parts = String::new();
    if let Some(pid) = supervisors.first() {
        parts.push_str(&crate::smaps::rows(
            "one supervisor",
            &crate::smaps::read(*pid, "mesos-containerizer"),
        ));
    }
    if let Some(pid) = executors.first() {
        parts.push_str(&crate::smaps::rows(
            "one executor",
            &crate::smaps::read(*pid, "mesos-executor"),
        ));
    }
    sched.block_on(sched.scheduler().teardown())?;

    let n = tasks as f64;
    let per_task_rss = mib(busy_rss.saturating_sub(idle_rss) + sup_rss + ex_rss) / n;
    let per_task_pss = mib(busy_pss.saturating_sub(idle_pss) + sup_pss + ex_pss) / n;
    let mut out = format!(
        "Release `mesos-agent` with full isolation, {tasks} running `sleep` tasks, each with its supervisor and command executor.\n\n\
         | measure | RSS MiB | PSS MiB |\n|---|---|---|\n\
         | agent, idle | {:.2} | {:.2} |\n\
         | agent, {tasks} tasks | {:.2} | {:.2} |\n\
         | supervisors ({} processes) | {:.2} | {:.2} |\n\
         | executors ({} processes) | {:.2} | {:.2} |\n\
         | per task (agent growth + supervisor + executor) | {:.2} | {:.2} |\n\
         | per task in its first 2 s, before its supervisor and executor park | {:.2} | |\n",
        mib(idle_rss), mib(idle_pss), mib(busy_rss), mib(busy_pss),
        supervisors.len(), mib(sup_rss), mib(sup_pss),
        executors.len(), mib(ex_rss), mib(ex_pss),
        per_task_rss, per_task_pss,
        mib(resident_kib) / n,
    );
    out.push_str(&parts);
    out.push_str(&format!(
        "\nMeasured once every supervisor and executor had parked ({:.1} s after the last TASK_RUNNING).\n",
        waited.as_secs_f64()
    ));
    out.push_str(&format!(
        "\nRESULT agent-rss idle_mib={:.2} per_task_mib={:.2}\n",
        mib(idle_rss),
        per_task_rss
    ));
    Ok(out)
}
