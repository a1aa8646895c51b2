//! Shared by marathon's end-to-end tests: a `marathon` process on a free port (killed on
//! drop), one ZooKeeper per test binary, and small HTTP/JSON helpers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meseta_tests::zookeeper::ZooKeeper;
use meseta_tests::{bin, free_port, http, wait_until};
use serde_json::Value;

/// A running `marathon`.
#[derive(Debug)]
pub struct Marathon {
    child: Option<Child>,
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
    args: Vec<String>,
    log: PathBuf,
}

impl Marathon {
    /// Starts `marathon --master=<master> <args>` with its log in `dir`, and waits for `/ping`.
    pub fn start(master: &str, args: &[String], dir: &Path) -> Self {
        let port = free_port();
        let mut args: Vec<String> = args.to_vec();
        args.extend([
            format!("--master={master}"),
            format!("--http_port={port}"),
            "--hostname=127.0.0.1".into(),
            "--http_address=127.0.0.1".into(),
        ]);
        // MARATHON_TEST_LOG_DIR keeps the logs after the test (its temporary dir is removed).
        let dir = std::env::var_os("MARATHON_TEST_LOG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.to_owned());
        let mut m = Self {
            child: None,
            port,
            args,
            log: dir.join(format!("marathon-{port}.log")),
        };
        m.spawn();
        m
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let child = Command::new(bin("marathon"))
            .args(&self.args)
            .env("RUST_LOG", "info,meseta_marathon=trace")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start marathon");
        self.child = Some(child);
        let port = self.port;
        assert!(
            wait_until(Duration::from_secs(20), || http("GET", port, "/ping", None)
                .is_ok_and(|(s, _)| s == 200)),
            "marathon did not answer /ping: {}",
            self.logs()
        );
    }

    /// SIGKILLs the process.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again with the same flags and port.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Whether it leads (`/v2/info` says elected).
    pub fn elected(&self) -> bool {
        self.get("/v2/info").is_some_and(|i| i["elected"] == true)
    }

    /// Waits until it leads.
    pub fn wait_elected(&self, timeout: Duration) {
        assert!(
            wait_until(timeout, || self.elected()),
            "marathon was not elected: {}",
            self.logs()
        );
    }

    /// `GET` a JSON document (`None` unless 200).
    pub fn get(&self, path: &str) -> Option<Value> {
        let (s, b) = http("GET", self.port, path, None).ok()?;
        (s == 200).then(|| serde_json::from_str(&b).ok()).flatten()
    }

    /// Any request: (status, JSON body or Null).
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let (s, b) = http(method, self.port, path, body).unwrap_or((0, String::new()));
        (s, serde_json::from_str(&b).unwrap_or(Value::Null))
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The log.
    pub fn logs(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(60).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// `(task id, state)` of every task, sorted.
    pub fn tasks(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .get("/v2/tasks")
            .and_then(|t| t["tasks"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|t| {
                (
                    t["id"].as_str().unwrap_or("").to_owned(),
                    t["state"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// Waits until `app` has `n` running tasks and no deployment.
    pub fn wait_running(&self, app: &str, n: usize, timeout: Duration) {
        let ok = wait_until(timeout, || {
            self.get(&format!("/v2/apps{app}")).is_some_and(|a| {
                a["app"]["tasksRunning"] == n
                    && a["app"]["deployments"]
                        .as_array()
                        .is_some_and(Vec::is_empty)
            })
        });
        assert!(
            ok,
            "{app} did not reach {n} running tasks: {:?}\n{}",
            self.get(&format!("/v2/apps{app}")),
            self.logs()
        );
    }
}

impl Drop for Marathon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::SIGTERM,
            );
            let _ = wait_until(Duration::from_secs(5), || {
                matches!(c.try_wait(), Ok(Some(_)))
            });
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// This test binary's ZooKeeper and a fresh `zk://` URL under it.
pub fn zk_url(prefix: &str) -> String {
    let zk = ZooKeeper::shared();
    zk.url(&ZooKeeper::unique_path(prefix))
}

/// Agent resources for the tests: host ports in a per-process slice of 30000-30999 (below
/// the kernel's ephemeral range and away from the agents' default 31000-32000 that other
/// tests on this machine use), so tasks that listen do not collide with theirs.
pub fn resources() -> String {
    let base = 30_000 + (std::process::id() % 10) * 100;
    format!("cpus:4;mem:2048;disk:1024;ports:[{base}-{}]", base + 99)
}
