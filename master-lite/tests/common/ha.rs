//! Several real `mesos-master` processes on one real ZooKeeper: starting, signalling and
//! finding the leader, and reading the election znodes.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meseta_tests::zookeeper::ZooKeeper;
use serde_json::Value;

use crate::common::request;

/// A group of masters sharing one election path.
pub struct Masters {
    /// `zk://127.0.0.1:<port>/<unique path>`.
    pub url: String,
    /// The election path.
    pub path: String,
    pub dir: tempfile::TempDir,
    pub ports: Vec<u16>,
    pub procs: Vec<Option<Child>>,
    zk_port: u16,
    extra: Vec<String>,
}

impl Masters {
    /// Starts `n` masters on `zk` with a 2 s session and `extra` flags.
    pub fn start(zk: &ZooKeeper, n: usize, extra: &[&str]) -> Masters {
        let path = ZooKeeper::unique_path("mesos");
        let mut m = Masters {
            url: zk.url(&path),
            path,
            dir: tempfile::tempdir().unwrap(),
            ports: Vec::new(),
            procs: Vec::new(),
            zk_port: zk.port(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        for i in 0..n {
            m.ports.push(meseta_tests::free_port());
            let child = m.spawn(i);
            m.procs.push(Some(child));
        }
        m
    }

    fn spawn(&self, i: usize) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("m{i}.log")))
            .unwrap();
        Command::new(meseta_tests::bin("mesos-master"))
            .arg("--ip=127.0.0.1")
            .arg("--hostname=127.0.0.1")
            .arg(format!("--port={}", self.ports[i]))
            .arg(format!(
                "--work_dir={}",
                self.dir.path().join(format!("m{i}")).display()
            ))
            .arg(format!("--zk={}", self.url))
            .arg("--zk_session_timeout=2secs")
            .arg("--allocation_interval=100ms")
            .args(&self.extra)
            .env("MESETA_MASTER_CONF_DIR", self.dir.path().join("no-etc"))
            .env("RUST_LOG", "info,meseta_zk=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start mesos-master")
    }

    /// The address of master `i`.
    pub fn addr(&self, i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports[i]))
    }

    /// `/state` of master `i`, if it answers.
    pub async fn state(&self, i: usize) -> Option<Value> {
        let r = tokio::time::timeout(
            Duration::from_secs(2),
            request(self.addr(i), "GET", "/state", &[], b""),
        )
        .await
        .ok()?
        .ok()?;
        (r.status == 200).then(|| r.json())
    }

    /// The live masters that say they are the elected, recovered leader.
    pub async fn leaders(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for i in 0..self.ports.len() {
            if self.procs[i].is_none() {
                continue;
            }
            if let Some(s) = self.state(i).await {
                if s.get("elected_time").is_some() && s["leader"] == s["pid"] {
                    out.push(i);
                }
            }
        }
        out
    }

    /// Waits until exactly one master leads; returns it and when it was first seen.
    pub async fn wait_leader(&self, timeout: Duration) -> (usize, Instant) {
        let deadline = Instant::now() + timeout;
        loop {
            let leaders = self.leaders().await;
            if leaders.len() == 1 {
                return (leaders[0], Instant::now());
            }
            assert!(
                leaders.len() <= 1,
                "two leaders at once: {leaders:?}\n{}",
                self.logs()
            );
            assert!(
                Instant::now() < deadline,
                "no single leader within {timeout:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `signal` (`KILL`, `TERM`, `STOP`, `CONT`) to master `i`.
    pub fn signal(&mut self, i: usize, signal: &str) {
        let pid = self.procs[i].as_ref().expect("running").id();
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(ok.success());
        if signal == "KILL" || signal == "TERM" {
            let mut child = self.procs[i].take().unwrap();
            let _ = child.wait();
        }
    }

    /// The election path's children and their data, via a fresh ZooKeeper session.
    pub async fn election_nodes(&self) -> Vec<(String, Vec<u8>)> {
        let url: meseta_zk::ZkUrl = format!("zk://127.0.0.1:{}{}", self.zk_port, self.path)
            .parse()
            .unwrap();
        let session = meseta_zk::Session::connect(&url, Duration::from_secs(2))
            .await
            .unwrap();
        meseta_zk::read_children(session.client(), &self.path)
            .await
            .unwrap()
    }

    /// Reads one znode (`None` if absent).
    pub async fn znode(&self, path: &str) -> Option<Vec<u8>> {
        let url: meseta_zk::ZkUrl = format!("zk://127.0.0.1:{}/", self.zk_port).parse().unwrap();
        let session = meseta_zk::Session::connect(&url, Duration::from_secs(2))
            .await
            .unwrap();
        session.client().get_data(path).await.ok().map(|(d, _)| d)
    }

    /// Every master's log.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for i in 0..self.ports.len() {
            let text = std::fs::read_to_string(self.dir.path().join(format!("m{i}.log")))
                .unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(30)..];
            out.push_str(&format!(
                "--- master {i} (port {}) ---\n{}\n",
                self.ports[i],
                tail.join("\n")
            ));
        }
        out
    }

    /// Master `i`'s whole log.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("m{i}.log"))).unwrap_or_default()
    }
}

impl Drop for Masters {
    fn drop(&mut self) {
        for child in self.procs.iter_mut().flatten() {
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(child.id().to_string())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
