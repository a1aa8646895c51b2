//! marathon-lb end to end with the real programs: ZooKeeper, `mesos-master`, `mesos-agent`,
//! `marathon`, `marathon-lb --sse` and HAProxy, and an app whose tasks (real processes on the
//! agent) serve their own task id. Requests to the service port are balanced over the app's
//! tasks; a new instance takes traffic within 1 s of running; a removed one gets no new
//! request; a rolling restart under a request loop fails no request (the app drains for 2 s
//! after SIGTERM, as apps behind a load balancer do).

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meseta_tests::zookeeper::ZooKeeper;
use meseta_tests::{bin, free_port, http, wait_until, Cluster};
use serde_json::Value;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Haproxy(std::path::PathBuf);

impl Drop for Haproxy {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            for w in meseta_marathon_lb::haproxy::workers(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(w),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// The app: serves its task id; on SIGTERM it goes on serving for 2 s before it exits, as an
/// app behind a load balancer drains (Marathon's `taskKillGracePeriodSeconds` gives it 5 s).
const APP: &str = r#"
import http.server, os, signal, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = os.environ["MESOS_TASK_ID"].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT0"])), H)
signal.signal(signal.SIGTERM, lambda *a: threading.Timer(2, lambda: os._exit(0)).start())
s.serve_forever()
"#;

fn get(port: u16) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    if !out.starts_with("HTTP/1.") || !out.contains(" 200 ") {
        return Err(out.lines().next().unwrap_or("empty answer").to_owned());
    }
    Ok(out.split("\r\n\r\n").nth(1).unwrap_or("").trim().to_owned())
}

fn running_tasks(marathon: u16) -> BTreeSet<String> {
    http("GET", marathon, "/v2/apps/web/tasks", None)
        .ok()
        .and_then(|(_, b)| serde_json::from_str::<Value>(&b).ok())
        .and_then(|v| v["tasks"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|t| t["state"] == "TASK_RUNNING")
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect()
}

fn no_deployment(marathon: u16) -> bool {
    http("GET", marathon, "/v2/deployments", None)
        .ok()
        .and_then(|(_, b)| serde_json::from_str::<Value>(&b).ok())
        .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
}

fn seen(port: u16, n: usize) -> BTreeSet<String> {
    (0..n).filter_map(|_| get(port).ok()).collect()
}

/// The end of the first few sandboxes' stderr (why tasks failed).
fn task_stderr(cluster_dir: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg("for f in $(find \"$0\"/agent/slaves -name stderr | head -3); do echo \"== $f\"; tail -5 \"$f\"; done")
        .arg(cluster_dir)
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn log(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

#[test]
fn marathon_lb_balances_scales_and_restarts_a_marathon_app_without_failures() {
    if !meseta_tests::root_or_skip(
        "marathon_lb_balances_scales_and_restarts_a_marathon_app_without_failures",
    ) || !meseta_tests::zookeeper::available_or_skip("marathon_lb_serves_marathon_apps")
    {
        return;
    }
    let zk = ZooKeeper::shared();
    let cluster = Cluster::start("cpus:4;mem:2048;disk:1024;ports:[31000-31999]");
    let dir = tempfile::tempdir().unwrap();
    let logf = |name: &str| std::fs::File::create(dir.path().join(name)).unwrap();
    let mport = free_port();
    let _marathon = Proc(
        Command::new(bin("marathon"))
            .arg(format!("--master=127.0.0.1:{}", cluster.master_port))
            .arg(format!(
                "--zk={}",
                zk.url(&ZooKeeper::unique_path("mlb-marathon"))
            ))
            .arg(format!("--http_port={mport}"))
            .args(["--hostname=127.0.0.1", "--http_address=127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(logf("marathon.log"))
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_until(Duration::from_secs(30), || http(
            "GET", mport, "/ping", None
        )
        .is_ok_and(|(s, _)| s == 200)),
        "marathon did not start: {}",
        log(dir.path(), "marathon.log")
    );
    assert!(
        wait_until(Duration::from_secs(30), || {
            http("GET", mport, "/v2/info", None)
                .ok()
                .and_then(|(_, b)| serde_json::from_str::<Value>(&b).ok())
                .is_some_and(|i| i["elected"] == true)
        }),
        "marathon was not elected: {}",
        log(dir.path(), "marathon.log")
    );
    let (stats, appid, control) = (free_port(), free_port(), free_port());
    let head = format!(
        "global\n  stats socket {}/sock mode 600 level admin expose-fd listeners\n  hard-stop-after 10s\n\
         defaults\n  timeout connect 3s\n  timeout client 30s\n  timeout server 30s\n  option redispatch\n  retries 3\n\
         listen stats\n  bind 127.0.0.1:{stats}\n  mode http\n  monitor-uri /_haproxy_health_check\n",
        dir.path().display()
    );
    let pid_file = dir.path().join("haproxy.pid");
    let _haproxy = Haproxy(pid_file.clone());
    let _lb = Proc(
        Command::new(bin("marathon-lb"))
            .args([
                "--sse",
                "--health-check",
                "--group",
                "external",
                "--dont-bind-http-https",
            ])
            .arg(format!("--marathon=http://127.0.0.1:{mport}"))
            .arg(format!(
                "--haproxy-config={}",
                dir.path().join("haproxy.cfg").display()
            ))
            .arg(format!("--haproxy-pid-file={}", pid_file.display()))
            .arg(format!("--control-address=127.0.0.1:{control}"))
            .env("HAPROXY_HEAD", head)
            .env(
                "HAPROXY_HTTP_FRONTEND_APPID_HEAD",
                format!(
                    "\nfrontend marathon_http_appid_in\n  bind 127.0.0.1:{appid}\n  mode http\n"
                ),
            )
            .stdout(Stdio::null())
            .stderr(logf("marathon-lb.log"))
            .spawn()
            .unwrap(),
    );
    let sp = free_port();
    let app = serde_json::json!({
        "id": "/web",
        "instances": 2,
        "cpus": 0.1,
        "mem": 32,
        "cmd": format!("exec python3 -c '{APP}'"),
        "taskKillGracePeriodSeconds": 5,
        "portDefinitions": [{"port": sp, "protocol": "tcp"}],
        "requirePorts": false,
        "healthChecks": [{"protocol": "HTTP", "path": "/", "portIndex": 0, "gracePeriodSeconds": 5,
                          "intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 3}],
        "upgradeStrategy": {"minimumHealthCapacity": 1.0, "maximumOverCapacity": 1.0},
        "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_BIND_ADDR": "127.0.0.1", "HAPROXY_0_MODE": "http"},
    });
    let (status, body) = http("POST", mport, "/v2/apps", Some(&app.to_string())).unwrap();
    assert_eq!(status, 201, "{body}");
    let diag = || {
        format!(
            "\n--- marathon ---\n{}\n--- marathon-lb ---\n{}\n--- haproxy.cfg ---\n{}\n--- task stderr ---\n{}\n{}",
            log(dir.path(), "marathon.log"),
            log(dir.path(), "marathon-lb.log"),
            log(dir.path(), "haproxy.cfg"),
            task_stderr(cluster.dir.path()),
            cluster.logs()
        )
    };
    assert!(
        wait_until(Duration::from_secs(60), || running_tasks(mport).len() == 2
            && no_deployment(mport)
            && seen(sp, 10).len() == 2),
        "two tasks are not both served through HAProxy: tasks {:?}, seen {:?}{}",
        running_tasks(mport),
        seen(sp, 10),
        diag()
    );
    assert_eq!(
        seen(sp, 20),
        running_tasks(mport),
        "HAProxy serves other ids than the running tasks"
    );

    // One app with a bad label and one with a template override HAProxy refuses: each is left
    // out with a log line naming it; /web keeps serving throughout.
    let (bad_sp, badtpl_sp) = (free_port(), free_port());
    for (id, port, labels) in [
        ("/bad", bad_sp, serde_json::json!({"HAPROXY_0_MODE": "udp"})),
        (
            "/badtpl",
            badtpl_sp,
            serde_json::json!({"HAPROXY_0_BACKEND_HEAD": "\nbackend {backend}\n  balance roundrobin\n  no_such_keyword 1\n"}),
        ),
    ] {
        let mut labels = labels;
        labels["HAPROXY_GROUP"] = "external".into();
        labels["HAPROXY_0_BIND_ADDR"] = "127.0.0.1".into();
        let bad = serde_json::json!({
            "id": id, "instances": 1, "cpus": 0.1, "mem": 32,
            "cmd": format!("exec python3 -c '{APP}'"),
            "portDefinitions": [{"port": port, "protocol": "tcp"}],
            "labels": labels,
        });
        let (status, body) = http("POST", mport, "/v2/apps", Some(&bad.to_string())).unwrap();
        assert_eq!(status, 201, "{body}");
    }
    let left_out = |id: &str| {
        log(dir.path(), "marathon-lb.log")
            .lines()
            .any(|l| l.contains(id) && (l.contains("left out") || l.contains("refused")))
    };
    assert!(
        wait_until(Duration::from_secs(60), || left_out("app=/bad ")
            && left_out("app=/badtpl")),
        "the bad apps were not reported as left out:{}",
        diag()
    );
    assert!(
        get(bad_sp).is_err() && get(badtpl_sp).is_err(),
        "a bad app is served"
    );
    assert_eq!(
        seen(sp, 10),
        running_tasks(mport),
        "/web stopped serving:{}",
        diag()
    );

    // Scale to three: the new task takes traffic within a second of being healthy in Marathon.
    let before = running_tasks(mport);
    let (status, body) = http("PUT", mport, "/v2/apps/web", Some(r#"{"instances": 3}"#)).unwrap();
    assert!(status == 200 || status == 201, "{status} {body}");
    assert!(
        wait_until(Duration::from_secs(60), || running_tasks(mport).len() == 3
            && no_deployment(mport)),
        "not scaled:{}",
        diag()
    );
    let new: String = running_tasks(mport)
        .difference(&before)
        .next()
        .cloned()
        .unwrap();
    // marathon-lb --health-check waits for Marathon's health result; time from there.
    let healthy = |id: &str| {
        http("GET", mport, "/v2/apps/web/tasks", None)
            .ok()
            .and_then(|(_, b)| serde_json::from_str::<Value>(&b).ok())
            .and_then(|v| v["tasks"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .any(|t| {
                t["id"] == id
                    && t["healthCheckResults"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|h| h["alive"] == true))
            })
    };
    assert!(
        wait_until(Duration::from_secs(30), || healthy(&new)),
        "the new task never became healthy:{}",
        diag()
    );
    let t0 = Instant::now();
    let mut took = false;
    while t0.elapsed() < Duration::from_secs(1) && !took {
        took = get(sp).is_ok_and(|b| b == new);
    }
    assert!(
        took,
        "the new backend {new} got no request within 1 s of being healthy:{}",
        diag()
    );

    // Scale down: the removed task gets no new request.
    let (status, body) = http("PUT", mport, "/v2/apps/web", Some(r#"{"instances": 2}"#)).unwrap();
    assert!(status == 200 || status == 201, "{status} {body}");
    assert!(
        wait_until(Duration::from_secs(60), || running_tasks(mport).len() == 2
            && no_deployment(mport)),
        "not scaled down:{}",
        diag()
    );
    let left = running_tasks(mport);
    std::thread::sleep(Duration::from_millis(500));
    let served = seen(sp, 30);
    assert!(
        served.is_subset(&left),
        "a removed task still got requests: served {served:?}, running {left:?}"
    );

    // A rolling restart under a bounded request loop: no failed request.
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let load = std::thread::spawn(move || {
        let (mut ok, mut failed) = (0usize, Vec::new());
        let start = Instant::now();
        // Bounded: at most 60 s and 20,000 requests.
        while !s2.load(Ordering::Relaxed)
            && start.elapsed() < Duration::from_secs(60)
            && ok + failed.len() < 20_000
        {
            match get(sp) {
                Ok(_) => ok += 1,
                Err(e) => failed.push(e),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (ok, failed)
    });
    std::thread::sleep(Duration::from_secs(1));
    let (status, body) = http("POST", mport, "/v2/apps/web/restart", Some("{}")).unwrap();
    assert!(status == 200 || status == 201, "{status} {body}");
    let replaced = wait_until(Duration::from_secs(90), || {
        let now = running_tasks(mport);
        now.len() == 2 && now.is_disjoint(&left) && no_deployment(mport)
    });
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let (ok, failed) = load.join().unwrap();
    assert!(
        replaced,
        "the restart did not replace both tasks:{}",
        diag()
    );
    assert!(
        ok >= 100,
        "only {ok} requests went through during the restart"
    );
    assert!(
        failed.is_empty(),
        "{} of {} requests failed during the rolling restart: {:?}{}",
        failed.len(),
        ok + failed.len(),
        &failed[..failed.len().min(5)],
        diag()
    );
}
