//! The real `mesos-master` binary: `--help`, bad flags (one line, exit 1),
//! `MESOS_<FLAG>` environment, a restart keeps the master id and a
//! re-registering agent its id, a corrupt registry stops it (exit 1).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{get_json, FakeAgent};

const BIN: &str = env!("CARGO_BIN_EXE_mesos-master");

fn free_port() -> u16 {
    meseta_tests::free_port()
}

struct Master {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Master {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(work_dir: &std::path::Path) -> Master {
    let port = free_port();
    let child = Command::new(BIN)
        .args([
            "--ip=127.0.0.1",
            &format!("--port={port}"),
            "--hostname=localhost",
        ])
        .env("MESOS_WORK_DIR", work_dir)
        .env("MESOS_ALLOCATION_INTERVAL", "100ms")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "master did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Master { child, addr }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_and_bad_flags() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--ip",
        "--port",
        "--work_dir",
        "--hostname",
        "--allocation_interval",
        "--agent_ping_timeout",
        "--max_agent_ping_timeouts",
        "--offer_timeout",
        "--max_request_body_bytes",
        "--role_sorter",
        "--framework_sorter",
        "--min_allocatable_resources",
        "--fair_sharing_excluded_resource_names",
    ] {
        assert!(out.contains(flag), "--help lacks {flag}");
    }
    for bad in [
        vec!["--work_dir=/tmp/x", "--role_sorter=fifo"],
        vec!["--work_dir=/tmp/x", "--min_allocatable_resources=cpus:lots"],
        vec!["--work_dir=/tmp/x", "--allocation_interval=5"],
        vec!["--work_dir=/tmp/x", "--no_such_flag=1"],
        vec!["--port=5050"],
        vec!["--work_dir=/tmp/x", "--port=notaport"],
    ] {
        let (code, out, err) = run(&bad);
        assert_eq!(code, 1, "{bad:?}: {out}{err}");
        assert_eq!(err.trim().lines().count(), 1, "{bad:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_master_and_agent_ids() {
    let dir = tempfile::tempdir().unwrap();
    let m = spawn(dir.path());
    let state = get_json(m.addr, "/state").await;
    let master_id = state["id"].as_str().unwrap().to_string();
    assert_eq!(state["flags"]["allocation_interval"], "100ms");
    let agent = FakeAgent::subscribe(m.addr, None).await.unwrap();
    let agent_id = agent.agent_id.clone();
    drop(agent);
    drop(m);

    let m = spawn(dir.path());
    let state = get_json(m.addr, "/state").await;
    assert_eq!(state["id"], master_id.as_str());
    let agent = FakeAgent::subscribe(m.addr, Some(&agent_id)).await.unwrap();
    assert_eq!(agent.agent_id, agent_id);
    // A brand-new agent gets the next number.
    let other = FakeAgent::subscribe(m.addr, None).await.unwrap();
    assert_eq!(other.agent_id, format!("{master_id}-S1"));
    drop(m);

    std::fs::write(dir.path().join("registry.json"), b"{corrupt").unwrap();
    let port = free_port().to_string();
    let (code, _, err) = run(&[
        &format!("--work_dir={}", dir.path().display()),
        "--ip=127.0.0.1",
        &format!("--port={port}"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("corrupt"), "{err}");
}
