//! Helpers for end-to-end tests that start the real binaries (`mesos-master`, `mesos-agent`,
//! `mesos-executor`, `mesos-containerizer`, `agentctl`) as a single-node cluster on loopback.
//!
//! The binaries are taken from the cargo target directory the tests run from
//! (`target/debug`); `scripts/test.sh` builds them with `cargo build --workspace --bins` first.

pub mod browser;
pub mod fuzz;
pub mod images;
pub mod registry;
// Authentication.
pub mod token_server;
pub mod zookeeper;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Whether the kernel-level parts can run; prints why not otherwise.
pub fn root_or_skip(test: &str) -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    eprintln!("SKIPPED {test}: needs root (the agent creates cgroups and namespaces)");
    false
}

/// The directory holding the workspace's binaries: `target/<profile>` for a test
/// (`target/<profile>/deps/<test>`) or a binary of the workspace (`target/<profile>/<bin>`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().expect("exe dir");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("target dir").to_owned()
    } else {
        dir.to_owned()
    }
}

/// Path of a workspace binary; panics with the command to build it when missing.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        p.display()
    );
    p
}

/// The python of a virtualenv holding pymesos 0.3.15 (installed once per run).
pub fn pymesos_python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/setup-pymesos.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .expect("setup-pymesos.sh");
        assert!(out.status.success(), "setup-pymesos.sh failed");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
    .clone()
}

/// Builds a busybox root filesystem under `dir`: the static busybox, links for `applets`, and
/// the mount points a container needs (`/proc`, `/dev`, `/sys`, `/mnt/mesos/sandbox`).
pub fn busybox_rootfs(dir: &Path, applets: &[&str]) -> std::io::Result<PathBuf> {
    let root = dir.join("rootfs");
    for d in [
        "bin",
        "proc",
        "dev",
        "sys",
        "tmp",
        "etc",
        "mnt/mesos/sandbox",
    ] {
        std::fs::create_dir_all(root.join(d))?;
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "busybox not found: apt-get install busybox-static",
            )
        })?;
    std::fs::copy(busybox, root.join("bin/busybox"))?;
    for applet in applets {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))?;
    }
    Ok(root)
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    // Below the kernel's ephemeral range (32768+ by default) and below the agents' default
    // `ports:[31000-32000]`, so no `bind(0)` of another test (a fake master, a registry, a
    // client socket) can be handed the port between this check and the daemon's own bind; a
    // per-process counter keeps parallel tests of one binary apart.
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 10_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    for _ in 0..SPAN {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        let port = u16::try_from(FIRST + offset).expect("below 65536");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A minimal HTTP/1.1 request over loopback; returns (status, body). Handles chunked bodies.
pub fn http(
    method: &str,
    port: u16,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    Ok((
        status,
        if chunked {
            dechunk(rest)
        } else {
            rest.to_owned()
        },
    ))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// GET a JSON document.
pub fn get_json(port: u16, path: &str) -> serde_json::Value {
    let (status, body) = http("GET", port, path, None).unwrap_or((0, String::new()));
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// Polls `cond` every 50 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// A single-node cluster: one master and one agent, killed and cleaned up on drop.
#[derive(Debug)]
pub struct Cluster {
    /// The master's port on 127.0.0.1.
    pub master_port: u16,
    /// The agent's port on 127.0.0.1.
    pub agent_port: u16,
    /// Work dirs and logs.
    pub dir: tempfile::TempDir,
    /// The agent's `--cgroups_root`.
    pub cgroups_root: String,
    /// The agent's pid.
    pub agent_pid: u32,
    /// The agent's `--runtime_dir`.
    pub runtime_dir: PathBuf,
    /// Holds the runtime dir when it is not below `dir` (see [`ClusterOptions::runtime_dir_on_tmpfs`]).
    _runtime_tmp: Option<tempfile::TempDir>,
    children: Vec<Child>,
}

/// How to start a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The agent's `--resources`.
    pub agent_resources: String,
    /// The agent's `--isolation`.
    pub isolation: String,
    /// `--allocation_interval` of the master.
    pub allocation_interval: String,
    /// Extra agent flags.
    pub agent_args: Vec<String>,
    /// Extra master flags.
    pub master_args: Vec<String>,
    /// Put the agent's `--runtime_dir` on the tmpfs `/dev/shm`, as Mesos expects it
    /// (`/var/run/mesos`; `/run` is a tmpfs on systemd hosts), instead of below `dir`.
    pub runtime_dir_on_tmpfs: bool,
}

impl ClusterOptions {
    /// Full isolation, a 100 ms allocation interval.
    pub fn new(agent_resources: &str) -> Self {
        Self {
            agent_resources: agent_resources.to_owned(),
            isolation: "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid,namespaces/ipc,filesystem/linux".into(),
            allocation_interval: "100ms".into(),
            agent_args: Vec::new(),
            master_args: Vec::new(),
            runtime_dir_on_tmpfs: false,
        }
    }
}

impl Cluster {
    /// Starts master and agent with full isolation and waits until the agent is registered.
    pub fn start(agent_resources: &str) -> Self {
        Self::start_with(&ClusterOptions::new(agent_resources))
    }

    /// Starts master and agent as `opts` says and waits until the agent is registered.
    pub fn start_with(opts: &ClusterOptions) -> Self {
        let agent_resources = &opts.agent_resources;
        let dir = tempfile::tempdir().expect("tempdir");
        let master_port = free_port();
        let agent_port = free_port();
        let cgroups_root = format!(
            "meseta-e2e-{}",
            dir.path().file_name().unwrap_or_default().to_string_lossy()
        );
        let runtime_tmp = opts.runtime_dir_on_tmpfs.then(|| {
            tempfile::Builder::new()
                .prefix("meseta-run-")
                .tempdir_in("/dev/shm")
                .expect("a runtime dir on /dev/shm")
        });
        let runtime_dir = runtime_tmp
            .as_ref()
            .map_or_else(|| dir.path().join("run"), |t| t.path().to_owned());
        let logs = dir.path().to_owned();
        let log = move |name: &str| std::fs::File::create(logs.join(name)).expect("log file");
        let master = Command::new(bin("mesos-master"))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={master_port}"))
            .arg(format!(
                "--work_dir={}",
                dir.path().join("master").display()
            ))
            .arg(format!(
                "--allocation_interval={}",
                opts.allocation_interval
            ))
            .args(&opts.master_args)
            .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
            .stdout(log("master.log"))
            .stderr(log("master.err"))
            .spawn()
            .expect("start mesos-master");
        let mut cluster = Self {
            master_port,
            agent_port,
            dir,
            cgroups_root,
            agent_pid: 0,
            runtime_dir,
            _runtime_tmp: runtime_tmp,
            children: vec![master],
        };
        assert!(
            wait_until(Duration::from_secs(20), || http(
                "GET",
                master_port,
                "/health",
                None
            )
            .is_ok_and(|(s, _)| s == 200)),
            "master did not come up: {}",
            cluster.logs()
        );
        let agent = Command::new(bin("mesos-agent"))
            .arg(format!("--master=127.0.0.1:{master_port}"))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={agent_port}"))
            .arg(format!(
                "--work_dir={}",
                cluster.dir.path().join("agent").display()
            ))
            .arg(format!("--runtime_dir={}", cluster.runtime_dir.display()))
            .arg(format!("--isolation={}", opts.isolation))
            .arg(format!("--cgroups_root={}", cluster.cgroups_root))
            .arg(format!("--resources={agent_resources}"))
            // No --launcher_dir: the agent starts its built-in per-task programs, as an
            // installed agent does (`meseta_agent::per_task`).
            .args(&opts.agent_args)
            .env("MESETA_AGENT_CONF_DIR", cluster.dir.path().join("no-etc"))
            .stdout(log("agent.log"))
            .stderr(log("agent.err"))
            .spawn()
            .expect("start mesos-agent");
        cluster.agent_pid = agent.id();
        cluster.children.push(agent);
        let registered = wait_until(Duration::from_secs(20), || {
            http("GET", master_port, "/state", None)
                .ok()
                .and_then(|(_, b)| serde_json::from_str::<serde_json::Value>(&b).ok())
                .and_then(|v| v["slaves"].as_array().map(|a| !a.is_empty()))
                .unwrap_or(false)
        });
        assert!(registered, "agent did not register: {}", cluster.logs());
        cluster
    }

    /// The logs of both daemons, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for f in ["master.log", "master.err", "agent.log", "agent.err"] {
            let text = std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            out.push_str(&format!("\n--- {f} (last 40 lines) ---\n"));
            for l in tail.iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// Runs a pymesos scenario (tests/python/scenario.py) to completion; returns (exit ok, stdout).
    pub fn scenario(&self, name: &str, timeout_secs: u32) -> (bool, String) {
        let out = self
            .scenario_command(name, timeout_secs)
            .stdin(Stdio::null())
            .output()
            .expect("scenario.py");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            eprintln!("scenario {name} stderr:\n{stderr}");
        }
        (out.status.success(), stdout)
    }

    /// Runs a scenario with `env` added to its environment; panics with its output and both
    /// daemons' logs unless it succeeds.
    pub fn run_scenario(&self, name: &str, timeout_secs: u32, env: &[(&str, &str)]) -> Output {
        let mut command = self.scenario_command(name, timeout_secs);
        command.stdin(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().expect("scenario.py");
        assert!(
            out.status.success(),
            "scenario {name} failed:\n{}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
        out
    }

    /// Everything the agent's containers left is gone (waiting up to 15 s for the last ones to
    /// be destroyed): no provisioned rootfs, no mount under the cluster's dir, no container
    /// cgroup under the agent's `--cgroups_root`.
    pub fn assert_no_container_left(&self) {
        let provisioner = self.dir.path().join("agent/provisioner/containers");
        let entries = |dir: &Path| -> Vec<PathBuf> {
            std::fs::read_dir(dir)
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default()
        };
        let gone = wait_until(Duration::from_secs(15), || entries(&provisioner).is_empty());
        assert!(gone, "rootfses left: {:?}", entries(&provisioner));
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let tmp = self.dir.path().display().to_string();
        assert!(
            !mounts.lines().any(|l| l.contains(&tmp)),
            "mounts left under {tmp}"
        );
        for hierarchy in ["memory", "cpu", "pids", "devices", "freezer"] {
            let root = Path::new("/sys/fs/cgroup")
                .join(hierarchy)
                .join(&self.cgroups_root);
            let left: Vec<PathBuf> = entries(&root).into_iter().filter(|p| p.is_dir()).collect();
            assert!(left.is_empty(), "cgroups left: {left:?}");
        }
    }

    /// The command that runs a scenario, for tests that interact with it while it runs.
    pub fn scenario_command(&self, name: &str, timeout_secs: u32) -> Command {
        let mut c = Command::new(pymesos_python());
        c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("python/scenario.py"))
            .arg(name)
            .arg(format!("--master=127.0.0.1:{}", self.master_port))
            .arg(format!("--timeout={timeout_secs}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.children.iter_mut().rev() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::SIGTERM,
            );
        }
        for c in self.children.iter_mut().rev() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        // Containers of a killed agent are not ours to keep: kill what is left in our cgroups,
        // and (posix isolation puts them in no cgroup) the supervisors of our runtime dir with
        // every process under them.
        kill_and_remove_cgroups(&self.cgroups_root, Duration::from_millis(100));
        kill_supervised(&self.runtime_dir);
    }
}

/// Runs [`kill_supervised`] on its runtime dir when dropped, passed or failed: for tests that
/// run their own agent (without a [`Cluster`], whose drop does this).
#[derive(Debug)]
pub struct KillSupervisedOnDrop(pub PathBuf);

impl Drop for KillSupervisedOnDrop {
    fn drop(&mut self) {
        kill_supervised(&self.0);
    }
}

/// SIGKILLs every `mesos-containerizer` whose command line names `runtime_dir`, and every
/// process descended from one (executors, tasks): what outlives an agent whose containers
/// are in no cgroup. Read from `/proc`; a process that ends meanwhile is skipped.
pub fn kill_supervised(runtime_dir: &Path) {
    let marker = format!("--runtime_dir={}", runtime_dir.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let mut parent_of = Vec::new();
    let mut victims = Vec::new();
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == marker.as_bytes())
        {
            victims.push(pid);
        }
        // `stat`: "pid (comm) state ppid ..."; comm may hold spaces, so parse after the ')'.
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        if let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<i32>().ok())
        {
            parent_of.push((pid, ppid));
        }
    }
    let mut i = 0;
    while i < victims.len() {
        let parent = victims[i];
        for (pid, _) in parent_of.iter().filter(|(_, ppid)| *ppid == parent) {
            if !victims.contains(pid) {
                victims.push(*pid);
            }
        }
        i += 1;
    }
    for pid in victims {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
    }
}

/// SIGKILLs every process in the container cgroups under `cgroups_root` (on every hierarchy),
/// waits `settle` for them to leave (only if there were any), and removes those cgroups and
/// the root: what an agent killed by a test, or a test that failed half-way, leaves behind.
pub fn kill_and_remove_cgroups(cgroups_root: &str, settle: Duration) {
    let roots: Vec<PathBuf> = std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|h| h.path().join(cgroups_root))
        .collect();
    let mut killed = false;
    for root in &roots {
        for c in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let procs = std::fs::read_to_string(c.path().join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                killed |= nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::SIGKILL,
                )
                .is_ok();
            }
        }
    }
    if killed {
        std::thread::sleep(settle);
    }
    for root in &roots {
        for c in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let _ = std::fs::remove_dir(c.path());
        }
        let _ = std::fs::remove_dir(root);
    }
}
