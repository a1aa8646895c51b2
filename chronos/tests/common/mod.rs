//! Shared helpers for the chronos end-to-end tests: start a `chronos` process, the
//! chronos-python virtualenv.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use meseta_tests::{bin, free_port, http, wait_until};

/// A running `chronos`, killed on drop.
#[derive(Debug)]
pub struct Chronos {
    /// Its API port on 127.0.0.1.
    pub port: u16,
    /// Its log file.
    pub log: PathBuf,
    child: Child,
}

impl Chronos {
    /// Starts `chronos` with `args` (plus `--http_port`, `--http_address`, `--hostname`) and
    /// waits until it answers `/ping`.
    pub fn start(dir: &Path, name: &str, args: &[String]) -> Self {
        Self::start_on(dir, name, free_port(), args)
    }

    /// As [`Chronos::start`] on a given port.
    pub fn start_on(dir: &Path, name: &str, port: u16, args: &[String]) -> Self {
        Self::start_with_env(dir, name, port, args, &[])
    }

    /// As [`Chronos::start_on`] with extra environment variables (e.g. `LD_PRELOAD`).
    pub fn start_with_env(
        dir: &Path,
        name: &str,
        port: u16,
        args: &[String],
        env: &[(&str, String)],
    ) -> Self {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log");
        let child = Command::new(bin("chronos"))
            .arg(format!("--http_port={port}"))
            .arg("--http_address=127.0.0.1")
            .arg("--hostname=127.0.0.1")
            .args(args)
            .env(
                "CHRONOS_LOG",
                "info,meseta_chronos=debug,meseta_scheduler=debug",
            )
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .spawn()
            .expect("start chronos");
        let c = Self { port, log, child };
        assert!(
            wait_until(Duration::from_secs(20), || http("GET", port, "/ping", None)
                .is_ok_and(|(s, _)| s == 200)),
            "chronos did not come up: {}",
            c.logs()
        );
        c
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// kill -9 and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last lines of its log.
    pub fn logs(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        // The skip notice repeats every period while a run hangs; it would hide the rest.
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("scheduled run skipped"))
            .collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// A job by name from `GET /v1/scheduler/jobs`.
    pub fn job(&self, name: &str) -> Option<serde_json::Value> {
        let (s, body) = http("GET", self.port, "/v1/scheduler/jobs", None).ok()?;
        if s != 200 {
            return None;
        }
        let jobs: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        jobs.into_iter().find(|j| j["name"] == name)
    }
}

impl Drop for Chronos {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            // The test's temp dir goes with it: keep the whole log for the post-mortem.
            let keep = std::env::temp_dir().join(format!("chronos-failed-{}.log", self.child.id()));
            if std::fs::copy(&self.log, &keep).is_ok() {
                eprintln!("chronos log kept at {}", keep.display());
            }
        }
    }
}

/// The python of a virtualenv holding chronos-python 1.2.1 (installed once per run).
pub fn chronos_python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/setup-chronos-python.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .expect("setup-chronos-python.sh");
        assert!(out.status.success(), "setup-chronos-python.sh failed");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
    .clone()
}

/// The scenario script next to the setup script.
pub fn scenario_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/chronos_scenario.py")
}

/// Lines of a file the jobs append to.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}
