//! The real-agent part of `meseta-bench marathon`: the raw launch rate of the agent through
//! the `meseta-scheduler` driver, then `marathon` deploying, scaling down and up.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use meseta_api::{HealthCheck, TaskState};
use meseta_scheduler::{command_task, scalar as offered, Event};
use meseta_tests::zookeeper::ZooKeeper;
use meseta_tests::{get_json, wait_until, Cluster, ClusterOptions};
use serde_json::json;

use super::Marathon;
use crate::sched::subscribe;

/// The same declared resources as `meseta-bench e2e`.
const RESOURCES: &str = "cpus:64;mem:131072;disk:100000;ports:[31000-32000]";
/// Per task.
const CPUS: f64 = 0.01;
/// Per task, MB.
const MEM: f64 = 16.0;
/// The app under test.
const APP: &str = "/bench/sleep";

/// The timings of the real-agent part.
#[derive(Debug)]
pub struct Timings {
    /// Raw: first ACCEPT → all healthy.
    pub raw: Duration,
    /// Marathon: POST → all healthy.
    pub deploy: Duration,
    /// Marathon: scale to 0 → no task.
    pub scale_down: Duration,
    /// Marathon: scale back → all healthy.
    pub scale_up: Duration,
}

/// The Mesos-side health check both paths use (the JSON marathon builds for a `COMMAND`
/// check with delay 0, interval 10 s).
fn health_check() -> Result<HealthCheck> {
    Ok(serde_json::from_value(json!({
        "type": "COMMAND", "command": {"value": "true", "shell": true},
        "delay_seconds": 0.0, "interval_seconds": 10.0, "timeout_seconds": 10.0,
        "consecutive_failures": 3, "grace_period_seconds": 300.0,
    }))?)
}

/// Launches `n` health-checked `sleep` tasks as fast as offers come; first ACCEPT → the last
/// one's first `healthy: true`. Tears the framework down and waits for the agent to drain.
fn raw(cluster: &Cluster, n: usize) -> Result<Duration> {
    let hc = health_check()?;
    // Checkpointing like marathon (`--checkpoint` defaults to true): the agent's per-task
    // work is then the same on both paths.
    let mut sched = subscribe(cluster.master_port, "meseta-bench-marathon-raw", |f| {
        f.checkpoint = Some(true);
    })?;
    let mut start = None;
    let mut launched = 0usize;
    let mut healthy = HashSet::new();
    let mut last = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(600);
    while healthy.len() < n {
        if Instant::now() > deadline {
            bail!("raw: only {} of {n} tasks healthy in 600 s", healthy.len());
        }
        let Some((t, ev)) = sched.next_event(Duration::from_secs(60))? else {
            bail!("raw: no event for 60 s ({} healthy)", healthy.len())
        };
        match ev {
            Event::Offers(offers) => {
                for offer in offers {
                    let (mut cpus, mut mem) = (offered(&offer, "cpus"), offered(&offer, "mem"));
                    let mut batch = Vec::new();
                    // At most 100 per ACCEPT, as `meseta-bench e2e` launches.
                    while launched < n && cpus >= CPUS && mem >= MEM && batch.len() < 100 {
                        let mut task = command_task(
                            &format!("raw-{launched}"),
                            &offer,
                            "sleep 100000",
                            CPUS,
                            MEM,
                        );
                        task.health_check = Some(hc.clone());
                        batch.push(task);
                        launched += 1;
                        cpus -= CPUS;
                        mem -= MEM;
                    }
                    start.get_or_insert_with(Instant::now);
                    sched.block_on(sched.scheduler().launch(&offer.id, batch))?;
                }
            }
            Event::Update(st) => match st.state {
                TaskState::Running if st.healthy == Some(true) => {
                    healthy.insert(st.task_id.value);
                    last = t;
                }
                TaskState::Failed | TaskState::Lost | TaskState::Error | TaskState::Killed => {
                    bail!(
                        "raw task {} {:?}: {:?}",
                        st.task_id.value,
                        st.state,
                        st.message
                    )
                }
                _ => {}
            },
            _ => {}
        }
    }
    let took = last.duration_since(start.unwrap_or(last));
    sched.block_on(sched.scheduler().teardown())?;
    drain(cluster)?;
    Ok(took)
}

/// Waits until the agent runs no executor any more.
fn drain(cluster: &Cluster) -> Result<()> {
    let empty = wait_until(Duration::from_secs(300), || {
        get_json(cluster.agent_port, "/state")["frameworks"]
            .as_array()
            .is_some_and(|fs| {
                fs.iter()
                    .all(|f| f["executors"].as_array().is_none_or(Vec::is_empty))
            })
    });
    if !empty {
        bail!("the agent still runs executors 300 s after TEARDOWN");
    }
    Ok(())
}

fn app(n: usize) -> serde_json::Value {
    json!({
        "id": APP, "cmd": "sleep 100000", "cpus": CPUS, "mem": MEM, "instances": n,
        "portDefinitions": [],
        "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"},
            "delaySeconds": 0, "intervalSeconds": 10, "timeoutSeconds": 10,
            "gracePeriodSeconds": 300, "maxConsecutiveFailures": 3}],
    })
}

fn settled(a: &serde_json::Value) -> bool {
    a["deployments"].as_array().is_some_and(Vec::is_empty)
}

/// Runs the real-agent part.
pub fn run(bin: &Path, n: usize) -> Result<Timings> {
    let mut copts = ClusterOptions::new(RESOURCES);
    copts.allocation_interval = "10ms".into();
    let cluster = Cluster::start_with(&copts);
    let raw = raw(&cluster, n)?;

    let zk = ZooKeeper::start();
    let zk_url = zk.url(&ZooKeeper::unique_path("bench-marathon"));
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let m = Marathon::start(bin, &master, &zk_url, &[], cluster.dir.path())?;
    let limit = Duration::from_secs(600);
    let all_healthy = move |a: &serde_json::Value| a["tasksHealthy"] == n && settled(a);

    // Warm-up, untimed: a small app deployed and deleted first, so the timed deployment
    // does not pay the just-started ZooKeeper JVM's cold writes (a long-running ensemble
    // has none) and marathon's first offer round.
    let warm = json!({"id": "/bench/warmup", "cmd": "sleep 100000", "cpus": CPUS, "mem": MEM,
                      "instances": 20, "portDefinitions": []});
    m.send("POST", "/v2/apps", &warm)?;
    m.wait_app(
        "/bench/warmup",
        Instant::now(),
        limit,
        "warm-up running",
        |a| a["tasksRunning"] == 20 && settled(a),
    )?;
    m.send("DELETE", "/v2/apps/bench/warmup", &json!({}))?;
    let cleared = wait_until(Duration::from_secs(120), || {
        m.get("/v2/tasks")
            .is_some_and(|t| t["tasks"].as_array().is_some_and(Vec::is_empty))
    });
    if !cleared {
        bail!("the warm-up app's tasks were not killed within 120 s");
    }
    drain(&cluster)?;

    let t0 = Instant::now();
    m.send("POST", "/v2/apps", &app(n))?;
    let deploy = m.wait_app(APP, t0, limit, "all healthy", all_healthy)?;

    let t0 = Instant::now();
    m.send("PUT", &format!("/v2/apps{APP}"), &json!({"instances": 0}))?;
    let scale_down = m.wait_app(APP, t0, limit, "scaled to 0", |a| {
        a["tasksRunning"] == 0 && a["tasksStaged"] == 0 && settled(a)
    })?;
    drain(&cluster)?;

    let t0 = Instant::now();
    m.send("PUT", &format!("/v2/apps{APP}"), &json!({"instances": n}))?;
    let scale_up = m.wait_app(APP, t0, limit, "scaled back, all healthy", all_healthy)?;

    m.send("DELETE", &format!("/v2/apps{APP}"), &json!({}))?;
    let gone = wait_until(Duration::from_secs(120), || {
        m.get("/v2/tasks")
            .is_some_and(|t| t["tasks"].as_array().is_some_and(Vec::is_empty))
    });
    if !gone {
        eprintln!("meseta-bench marathon: tasks left after DELETE; the cluster's drop kills them");
    }
    drop(m);
    Ok(Timings {
        raw,
        deploy,
        scale_down,
        scale_up,
    })
}
