//! `mesos-agent --master` with ZooKeeper, on the real binary: a malformed `zk://` URL ends the
//! agent at once with one readable line; an unreachable ZooKeeper is said once, in one line,
//! while the agent keeps running and retrying; with no `--master` the URL comes from
//! `/etc/mesos/zk` (here `MESETA_MESOS_ZK_FILE`, as mesos-init-wrapper reads it), and an agent
//! given neither says `--master` is required.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn agent(dir: &Path, master: Option<&str>, zk_file: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mesos-agent"));
    cmd.arg(format!("--work_dir={}", dir.join("work").display()))
        .arg(format!("--runtime_dir={}", dir.join("run").display()))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={}", meseta_tests::free_port()))
        .arg("--isolation=posix/cpu,posix/mem")
        .arg("--resources=cpus:1;mem:256;disk:64")
        .env("MESETA_AGENT_CONF_DIR", dir.join("no-conf"))
        .env_remove("MESOS_MASTER")
        .stdout(Stdio::null());
    if let Some(m) = master {
        cmd.arg(format!("--master={m}"));
    }
    match zk_file {
        Some(f) => cmd.env("MESETA_MESOS_ZK_FILE", f),
        None => cmd.env_remove("MESETA_MESOS_ZK_FILE"),
    };
    cmd
}

fn finished(mut cmd: Command) -> Output {
    let out = cmd.stderr(Stdio::piped()).output().unwrap();
    assert!(!out.status.success());
    out
}

/// Runs the agent for `secs` and returns its log; it must still be running then.
fn log_of_running(mut cmd: Command, dir: &Path, secs: u64) -> String {
    let log = dir.join("agent.log");
    let mut child: Child = cmd
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the agent exited: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    std::fs::read_to_string(&log).unwrap()
}

fn unused_zookeeper() -> String {
    format!("zk://127.0.0.1:{}/mesos", meseta_tests::free_port())
}

#[test]
fn malformed_zk_urls_end_the_agent_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "zk://127.0.0.1:notaport/mesos",
        "zk:///mesos",
        "zk://127.0.0.1:2181/me//sos",
    ] {
        let out = finished(agent(dir.path(), Some(bad), None));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{bad}: {err}");
        assert!(
            err.starts_with("mesos-agent: --master: invalid ZooKeeper URL"),
            "{bad}: {err}"
        );
    }
    let missing = dir.path().join("missing");
    let out = finished(agent(
        dir.path(),
        Some(&format!("file://{}", missing.display())),
        None,
    ));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    // Neither --master nor a ZooKeeper file (a test agent does not read /etc/mesos/zk).
    let out = finished(agent(dir.path(), None, None));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("mesos-agent: --master: required"), "{err}");
}

#[test]
fn unreachable_zookeeper_is_one_line_and_the_agent_keeps_trying() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = agent(dir.path(), Some(&unused_zookeeper()), None);
    // A connection attempt lasts about the session timeout.
    cmd.arg("--zk_session_timeout=1secs");
    let log = log_of_running(cmd, dir.path(), 7);
    let said: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ZooKeeper unreachable"))
        .collect();
    assert_eq!(said.len(), 1, "{log}");
    assert!(said[0].contains("retrying"), "{log}");
}

#[test]
fn without_master_the_zookeeper_file_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zk");
    std::fs::write(&file, format!("{}\n", unused_zookeeper())).unwrap();
    let log = log_of_running(agent(dir.path(), None, Some(&file)), dir.path(), 3);
    assert!(
        log.contains(&format!(
            "no --master given; using the master in {}",
            file.display()
        )),
        "{log}"
    );
    assert!(
        log.contains("detecting the leading master in ZooKeeper"),
        "{log}"
    );
    // An empty MESETA_MESOS_ZK_FILE turns the file off.
    let out = finished({
        let mut c = agent(dir.path(), None, None);
        c.env("MESETA_MESOS_ZK_FILE", "");
        c
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("mesos-agent: --master: required"), "{err}");
}
