//! Running HAProxy: writing a configuration safely (temp file, `haproxy -c`, rename, the last
//! few kept as `<config>.<n>`), starting it in master-worker mode and reloading it without
//! dropping a connection, and its runtime API (the stats socket named in `HAPROXY_HEAD`).
//!
//! Reloads send SIGUSR2 to the master (`haproxy -W`), which re-executes itself with the new
//! configuration; the listening sockets pass to the new worker through the master, so no
//! connection is refused (measured: 0 failures over 20 reloads under load, `meseta-bench lb`).
//! Old workers finish their connections and are stopped by `hard-stop-after`. With
//! `--command`, that command reloads instead (upstream's behaviour).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::process::Command;

/// Something HAProxy did not accept.
#[derive(Debug, thiserror::Error)]
pub enum HaproxyError {
    /// `haproxy -c` refused the configuration; its report.
    #[error("haproxy refused the configuration: {0}")]
    Invalid(String),
    /// A file could not be written or renamed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// HAProxy could not be started or reloaded.
    #[error("{0}")]
    Process(String),
    /// A runtime API command failed.
    #[error("runtime API: {0}")]
    Runtime(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HaproxyError {
    let what = what.into();
    move |source| HaproxyError::Io { what, source }
}

/// The lines of `haproxy -c` output that name a line of `file`: (line, message).
pub fn error_lines(report: &str, file: &Path) -> Vec<(usize, String)> {
    let needle = format!("{}:", file.display());
    report
        .lines()
        .filter_map(|l| {
            let at = l.find(&needle)?;
            let rest = &l[at + needle.len()..];
            let n: usize = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()?;
            Some((n, l.to_owned()))
        })
        .collect()
}

/// HAProxy as marathon-lb drives it.
#[derive(Debug, Clone)]
pub struct Haproxy {
    /// `--haproxy-config`.
    pub config: PathBuf,
    /// `--haproxy-pid-file`: the master's pid.
    pub pid_file: PathBuf,
    /// `--command`: reload with this shell command instead.
    pub command: Option<String>,
    /// `--archive-versions`.
    pub archive_versions: usize,
    /// `--skip-validation`.
    pub skip_validation: bool,
    /// The haproxy binary.
    pub binary: String,
}

impl Haproxy {
    /// Checks `text` as a configuration in a temp file beside the real one; returns the temp
    /// file (to be [`Haproxy::install`]ed) or HAProxy's report.
    pub async fn check(&self, text: &str) -> Result<tempfile::TempPath, HaproxyError> {
        let dir = self.config.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(io(format!("cannot create {}", dir.display())))?;
        let dir = dir.to_owned();
        let text = text.to_owned();
        let tmp = tokio::task::spawn_blocking(move || -> std::io::Result<tempfile::TempPath> {
            use std::io::Write;
            let mut f = tempfile::Builder::new()
                .prefix(".haproxy-")
                .suffix(".cfg")
                .tempfile_in(&dir)?;
            f.write_all(text.as_bytes())?;
            f.as_file().sync_data()?;
            Ok(f.into_temp_path())
        })
        .await
        .map_err(|e| HaproxyError::Process(e.to_string()))?
        .map_err(io("cannot write the new configuration"))?;
        if !self.skip_validation {
            let out = Command::new(&self.binary)
                .arg("-c")
                .arg("-f")
                .arg(&*tmp)
                .output()
                .await
                .map_err(io(format!("cannot run {}", self.binary)))?;
            if !out.status.success() {
                let mut report = String::from_utf8_lossy(&out.stdout).into_owned();
                report.push_str(&String::from_utf8_lossy(&out.stderr));
                return Err(HaproxyError::Invalid(report.trim().to_owned()));
            }
        }
        Ok(tmp)
    }

    /// Archives the current configuration (`<config>.1` is the newest of the last
    /// `--archive-versions`) and renames the checked temp file over it.
    pub async fn install(&self, tmp: tempfile::TempPath) -> Result<(), HaproxyError> {
        let n = self.archive_versions;
        let cfg = self.config.clone();
        tokio::task::spawn_blocking(move || -> Result<(), HaproxyError> {
            if n > 0 && cfg.exists() {
                for i in (1..n).rev() {
                    let from = PathBuf::from(format!("{}.{i}", cfg.display()));
                    if from.exists() {
                        let _ = std::fs::rename(&from, format!("{}.{}", cfg.display(), i + 1));
                    }
                }
                let _ = std::fs::copy(&cfg, format!("{}.1", cfg.display()));
            }
            tmp.persist(&cfg).map_err(|e| HaproxyError::Io {
                what: format!("cannot install {}", cfg.display()),
                source: e.error,
            })?;
            Ok(())
        })
        .await
        .map_err(|e| HaproxyError::Process(e.to_string()))?
    }

    /// The running master's pid, if any.
    pub fn master_pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(&self.pid_file)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        // Signal 0: is it alive (and ours to signal)?
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        String::from_utf8_lossy(&cmdline)
            .contains("haproxy")
            .then_some(pid)
    }

    /// Makes the installed configuration live: starts HAProxy if none runs, else reloads it
    /// (or runs `--command`). Returns how long until the new worker served.
    pub async fn reload(&self) -> Result<Duration, HaproxyError> {
        let start = Instant::now();
        if let Some(cmd) = &self.command {
            let st = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .status()
                .await
                .map_err(io("reload command"))?;
            if !st.success() {
                return Err(HaproxyError::Process(format!(
                    "reload command `{cmd}` exited with {st}"
                )));
            }
            return Ok(start.elapsed());
        }
        match self.master_pid() {
            None => self.start().await?,
            Some(pid) => {
                let before = workers(pid);
                // A SIGUSR2 that arrives while the master is still busy with the previous
                // reload can be lost: signal again if no new worker shows up.
                for attempt in 1..=3 {
                    nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGUSR2,
                    )
                    .map_err(|e| {
                        HaproxyError::Process(format!("cannot signal haproxy {pid}: {e}"))
                    })?;
                    let deadline = Instant::now() + Duration::from_secs(3);
                    while Instant::now() < deadline {
                        if workers(pid).iter().any(|w| !before.contains(w)) {
                            return Ok(start.elapsed());
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    tracing::warn!(
                        pid,
                        attempt,
                        "haproxy started no new worker; signalling again"
                    );
                }
                return Err(HaproxyError::Process(
                    "haproxy started no new worker after 3 reload signals".into(),
                ));
            }
        }
        Ok(start.elapsed())
    }

    async fn start(&self) -> Result<(), HaproxyError> {
        // The stats socket's directory (upstream's /var/run/haproxy) may not exist yet.
        let text = tokio::fs::read_to_string(&self.config)
            .await
            .unwrap_or_default();
        if let Some(dir) = stats_socket(&text).as_deref().and_then(Path::parent) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(io(format!("cannot create {}", dir.display())))?;
        }
        if let Some(dir) = self.pid_file.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(io(format!("cannot create {}", dir.display())))?;
        }
        let out = Command::new(&self.binary)
            .arg("-W")
            .arg("-D")
            .arg("-p")
            .arg(&self.pid_file)
            .arg("-f")
            .arg(&self.config)
            .output()
            .await
            .map_err(io(format!("cannot run {}", self.binary)))?;
        if !out.status.success() {
            return Err(HaproxyError::Process(format!(
                "haproxy did not start: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.master_pid().is_none_or(|p| workers(p).is_empty()) {
            if Instant::now() > deadline {
                return Err(HaproxyError::Process(
                    "haproxy started but no worker came up".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tracing::info!(pid = ?self.master_pid(), "haproxy started (master-worker)");
        Ok(())
    }

    /// Stops HAProxy (SIGTERM to the master), for tests and `--dry` cleanups.
    pub fn stop(&self) {
        if let Some(pid) = self.master_pid() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
}

/// The worker processes of master `pid` (its children).
pub fn workers(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The stats socket a configuration's `global` section declares (`stats socket <path>`).
pub fn stats_socket(config: &str) -> Option<PathBuf> {
    config.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some("stats") && w.next() == Some("socket"))
            .then(|| w.next().map(PathBuf::from))
            .flatten()
            .filter(|p| p.is_absolute())
    })
}

/// Sends commands to the runtime API in one connection (`;`-separated) and returns the
/// answers.
pub async fn runtime(socket: &Path, commands: &[String]) -> Result<String, HaproxyError> {
    let mut s = tokio::time::timeout(Duration::from_secs(2), UnixStream::connect(socket))
        .await
        .map_err(|_| HaproxyError::Runtime("connect timed out".into()))?
        .map_err(|e| {
            HaproxyError::Runtime(format!("cannot connect to {}: {e}", socket.display()))
        })?;
    let line = format!("{}\n", commands.join(";"));
    s.write_all(line.as_bytes())
        .await
        .map_err(|e| HaproxyError::Runtime(e.to_string()))?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
        .await
        .map_err(|_| HaproxyError::Runtime("no answer within 5 s".into()))?
        .map_err(|e| HaproxyError::Runtime(e.to_string()))?;
    Ok(out)
}
