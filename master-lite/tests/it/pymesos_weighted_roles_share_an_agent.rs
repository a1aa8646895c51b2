//! End to end with the real binaries: two unmodified pymesos frameworks in roles weighted 2:1
//! (set through `PUT /weights`) fill one real `mesos-agent` with equal long-running tasks, one
//! task per offer, and end up holding it in the weighted ratio (within 10 %). Needs root (the
//! agent) and `PYMESOS_PYTHONPATH`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meseta_tests::{get_json, http, pymesos_python, root_or_skip, Cluster, ClusterOptions};

/// 30 tasks fit by cpus (1.5 / 0.05); memory (1536 / 32 = 48) is never the limit.
const AGENT: &str = "cpus:1.5;mem:1536;disk:1024;ports:[31000-32000]";
const TASK_CPUS: f64 = 0.05;
const TASK_MEM: f64 = 32.0;

/// `allocated` cpus per role from `/master/roles`.
fn allocated_cpus(port: u16, role: &str) -> f64 {
    let roles = get_json(port, "/master/roles");
    roles["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == role)
        .and_then(|r| r["allocated"]["cpus"].as_f64())
        .unwrap_or(0.0)
}

/// Tasks in `state` per framework name, from `/master/state`.
fn task_states(port: u16) -> Vec<(String, String)> {
    let state = get_json(port, "/master/state");
    let mut out = Vec::new();
    for fw in state["frameworks"].as_array().into_iter().flatten() {
        for t in fw["tasks"].as_array().into_iter().flatten() {
            let st = t["state"].as_str().unwrap_or("").to_owned();
            out.push((fw["role"].as_str().unwrap_or("").to_owned(), st));
        }
    }
    out
}

#[test]
fn frameworks_in_roles_weighted_two_to_one_hold_the_agent_two_to_one() {
    if !root_or_skip("frameworks_in_roles_weighted_two_to_one_hold_the_agent_two_to_one") {
        return;
    }
    let Ok(pythonpath) = std::env::var("PYMESOS_PYTHONPATH") else {
        eprintln!("SKIPPED weighted share: set PYMESOS_PYTHONPATH to run it");
        return;
    };
    let mut opts = ClusterOptions::new(AGENT);
    opts.isolation = "posix/cpu,posix/mem".into();
    let cluster = Cluster::start_with(&opts);
    let port = cluster.master_port;
    let weights = r#"[{"role":"analytics","weight":2.0},{"role":"web","weight":1.0}]"#;
    let (status, body) = http("PUT", port, "/weights", Some(weights)).expect("PUT /weights");
    assert_eq!(status, 200, "PUT /weights: {body}");

    let script = format!(
        "{}/tests/pymesos/weighted_share.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut sched = Command::new(pymesos_python())
        .arg(script)
        .arg(format!("127.0.0.1:{port}"))
        .arg("analytics,web")
        .arg(TASK_CPUS.to_string())
        .arg(TASK_MEM.to_string())
        .env("PYMESOS_PYTHONPATH", pythonpath)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weighted_share.py");
    let stdout = sched.stdout.take().expect("stdout");
    let log = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });

    // Full: no room for another task, every task RUNNING, for two seconds in a row.
    let capacity = 30usize;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stable_since: Option<Instant> = None;
    let mut last = Vec::new();
    while Instant::now() < deadline {
        last = task_states(port);
        let running = last.iter().filter(|(_, s)| s == "TASK_RUNNING").count();
        if running == capacity && last.len() == capacity {
            let since = *stable_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= Duration::from_secs(2) {
                break;
            }
        } else {
            stable_since = None;
        }
        assert!(
            last.len() <= capacity,
            "more tasks than fit: {last:?}\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let analytics = allocated_cpus(port, "analytics");
    let web = allocated_cpus(port, "web");
    let metrics = get_json(port, "/metrics/snapshot");
    let share = |role: &str| {
        metrics[format!("allocator/mesos/roles/{role}/shares/dominant")]
            .as_f64()
            .unwrap_or(-1.0)
    };
    let shares = (share("analytics"), share("web"));
    let per_role = |role: &str| last.iter().filter(|(r, _)| r == role).count();
    let (n_analytics, n_web) = (per_role("analytics"), per_role("web"));

    drop(sched.stdin.take());
    let _ = sched.wait();
    let events = log.join().unwrap_or_default().join("\n");
    assert!(
        stable_since.is_some_and(|s| s.elapsed() >= Duration::from_secs(2)),
        "the agent never filled with {capacity} RUNNING tasks: {last:?}\n{events}\n{}",
        cluster.logs()
    );
    assert_eq!(n_analytics + n_web, capacity, "{last:?}");
    assert!(
        (analytics - TASK_CPUS * n_analytics as f64).abs() < 1e-6
            && (web - TASK_CPUS * n_web as f64).abs() < 1e-6,
        "/master/roles allocated {analytics}/{web} cpus for {n_analytics}/{n_web} tasks"
    );
    // The allocator's own view: dominant shares (cpus here) of 2/3 and 1/3.
    assert!(
        (shares.0 - analytics / 1.5).abs() < 1e-6 && (shares.1 - web / 1.5).abs() < 1e-6,
        "dominant shares {shares:?} for {analytics}:{web} cpus"
    );
    let ratio = analytics / web;
    eprintln!("analytics:web = {n_analytics}:{n_web} tasks, {analytics}:{web} cpus");
    assert!(
        (ratio - 2.0).abs() <= 0.2,
        "analytics:web = {n_analytics}:{n_web} tasks ({analytics}:{web} cpus, ratio {ratio:.2}), \
         want 2:1 within 10 %\n{events}"
    );
}
