//! Shared by the docker containerizer tests: the real dockerd (skip when its socket is
//! missing), a busybox test image built here and loaded through the Engine API, pymesos
//! scenarios with extra environment, agent restarts, and cleanup of the test's containers.

#![allow(dead_code)] // each test file uses a different subset

use std::path::Path;
use std::process::{Child, Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use meseta_docker::Docker;
use meseta_tests::images::{tar_of, Digest};
use meseta_tests::{bin, bin_dir, get_json, root_or_skip, Cluster, ClusterOptions};
use serde_json::json;

/// The test image's tag.
pub const IMAGE: &str = "meseta-docker-test:busybox";
/// The Docker socket the tests use.
pub const SOCKET: &str = "/var/run/docker.sock";
/// Agent resources (ports come per test).
pub const RESOURCES: &str = "cpus:2;mem:2048;disk:10240;ports:[31000-31100]";

/// A current-thread runtime for the Engine API calls.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Holds the other docker tests off while this one runs: they share one dockerd and two cores,
/// and an agent started with the docker containerizer removes every `mesos-*` container it
/// does not own (as Mesos does with `--docker_kill_orphans`), another test's included.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|p| p.into_inner())
}

/// The client, or `None` (test skipped, with the reason) without root, without dockerd or
/// without the workspace binaries.
pub fn docker_or_skip(test: &str) -> Option<Docker> {
    if !root_or_skip(test) {
        return None;
    }
    if !Path::new(SOCKET).exists() {
        eprintln!("SKIPPED {test}: no Docker daemon socket at {SOCKET} (start dockerd)");
        return None;
    }
    if !bin_dir().join("mesos-docker-executor").is_file() || !bin("mesos-master").is_file() {
        eprintln!("SKIPPED {test}: binaries missing (cargo build --workspace --bins)");
        return None;
    }
    let docker = Docker::new(SOCKET);
    if let Err(err) = rt().block_on(docker.ping()) {
        panic!("dockerd does not answer on {SOCKET}: {err}");
    }
    load_image(&docker);
    Some(docker)
}

/// A `docker save` tarball of one layer: static busybox with the applets the tests use.
fn image_tarball() -> Vec<u8> {
    let busybox = std::fs::read("/bin/busybox")
        .or_else(|_| std::fs::read("/usr/bin/busybox"))
        .expect("busybox-static");
    let applets = [
        "sh", "sleep", "echo", "cat", "httpd", "env", "test", "ls", "id", "true", "pwd", "grep",
    ];
    let links: Vec<(String, &str)> = applets
        .iter()
        .map(|a| (format!("bin/{a}"), "busybox"))
        .collect();
    let link_refs: Vec<(&str, &str)> = links.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let layer = tar_of(
        &[("bin/busybox", &busybox, 0o755), ("tmp/.keep", b"", 0o644)],
        &link_refs,
    );
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [Digest::of(&layer).to_string()]}
    }))
    .expect("config");
    let config_name = format!("{}.json", Digest::of(&config).hex());
    let manifest = serde_json::to_vec(&json!([
        {"Config": config_name, "RepoTags": [IMAGE], "Layers": ["l0/layer.tar"]}
    ]))
    .expect("manifest");
    tar_of(
        &[
            (config_name.as_str(), &config, 0o644),
            ("l0/layer.tar", &layer, 0o644),
            ("manifest.json", &manifest, 0o644),
        ],
        &[],
    )
}

/// Loads the test image once per process (POST /images/load through our client).
fn load_image(docker: &Docker) {
    static LOADED: OnceLock<()> = OnceLock::new();
    LOADED.get_or_init(|| {
        let tar = bytes::Bytes::from(image_tarball());
        rt().block_on(docker.load(tar))
            .expect("docker load of the test image");
        let found = rt().block_on(docker.image_inspect(IMAGE)).expect("inspect");
        assert!(found.is_some(), "{IMAGE} not present after load");
    });
}

/// Cluster options with the docker containerizer first.
pub fn options(resources: &str, extra: &[&str]) -> ClusterOptions {
    let mut opts = ClusterOptions::new(resources);
    opts.agent_args = vec!["--containerizers=docker,mesos".into()];
    opts.agent_args
        .extend(extra.iter().map(|s| (*s).to_owned()));
    opts
}

/// The scenario command with the image and `env` in its environment.
pub fn scenario(cluster: &Cluster, name: &str, timeout: u32, env: &[(&str, String)]) -> Command {
    let mut c = cluster.scenario_command(name, timeout);
    c.env("MESETA_DOCKER_IMAGE", IMAGE);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs a scenario to its end; panics with its output and the logs when it fails.
pub fn run_scenario(cluster: &Cluster, name: &str, env: &[(&str, String)]) -> Output {
    let mut all = vec![("MESETA_DOCKER_IMAGE", IMAGE)];
    all.extend(env.iter().map(|(k, v)| (*k, v.as_str())));
    cluster.run_scenario(name, 120, &all)
}

/// Every executor (live and completed) in the agent's `/state`.
pub fn executors(agent_port: u16) -> Vec<serde_json::Value> {
    let state = get_json(agent_port, "/state");
    let mut out = Vec::new();
    for key in ["frameworks", "completed_frameworks"] {
        for fw in state[key].as_array().into_iter().flatten() {
            for ek in ["executors", "completed_executors"] {
                out.extend(fw[ek].as_array().into_iter().flatten().cloned());
            }
        }
    }
    out
}

/// `(container id, sandbox)` of executor `id`.
pub fn executor(agent_port: u16, id: &str) -> (String, String) {
    let all = executors(agent_port);
    let e = all
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no executor {id} in /state: {all:?}"));
    (
        e["container"].as_str().unwrap_or_default().to_owned(),
        e["directory"].as_str().unwrap_or_default().to_owned(),
    )
}

/// `docker inspect` JSON of a container (the CLI, for checking only).
pub fn inspect_json(name: &str) -> Option<serde_json::Value> {
    let out = Command::new("docker")
        .args(["inspect", name])
        .output()
        .ok()?;
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    list.as_array()?.first().cloned()
}

/// Whether the container exists and runs.
pub fn running(docker: &Docker, name: &str) -> bool {
    matches!(rt().block_on(docker.inspect(name)), Ok(Some(c)) if c.state.running)
}

/// A process of the test, killed (SIGKILL) and reaped on drop, also when the test fails.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts another agent on the cluster's work dir, runtime dir and port (after a kill -9).
pub fn restart_agent(cluster: &Cluster, opts: &ClusterOptions, generation: u32) -> KillOnDrop {
    let d = cluster.dir.path();
    let log = |name: String| std::fs::File::create(d.join(name)).expect("log file");
    Command::new(bin("mesos-agent"))
        .arg(format!("--master=127.0.0.1:{}", cluster.master_port))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={}", cluster.agent_port))
        .arg(format!("--work_dir={}", d.join("agent").display()))
        .arg(format!("--runtime_dir={}", d.join("run").display()))
        .arg(format!("--isolation={}", opts.isolation))
        .arg(format!("--cgroups_root={}", cluster.cgroups_root))
        .arg(format!("--resources={}", opts.agent_resources))
        .args(&opts.agent_args)
        .env("MESETA_AGENT_CONF_DIR", d.join("no-etc"))
        .stdout(log(format!("agent{generation}.log")))
        .stderr(log(format!("agent{generation}.err")))
        .spawn()
        .map(KillOnDrop)
        .expect("restart mesos-agent")
}

/// Removes, on drop, every container whose mounts come from `dir` (the test's sandboxes),
/// so a failing test leaves nothing running in dockerd.
#[derive(Debug)]
pub struct RemoveContainersUnder(pub std::path::PathBuf);

impl Drop for RemoveContainersUnder {
    fn drop(&mut self) {
        let Ok(out) = Command::new("docker").args(["ps", "-aq"]).output() else {
            return;
        };
        let ids = String::from_utf8_lossy(&out.stdout).into_owned();
        let dir = self.0.display().to_string();
        for id in ids.split_whitespace() {
            let Some(c) = inspect_json(id) else { continue };
            let ours = c["Mounts"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["Source"].as_str().is_some_and(|s| s.starts_with(&dir)));
            if ours {
                let _ = Command::new("docker").args(["rm", "-f", id]).output();
            }
        }
    }
}

/// Polls `cond` every 100 ms for up to `secs` seconds.
pub fn eventually(secs: u64, cond: impl FnMut() -> bool) -> bool {
    meseta_tests::wait_until(Duration::from_secs(secs), cond)
}

/// Debian's `docker-registry` on a loopback port with its own storage; killed on drop.
#[derive(Debug)]
pub struct Registry {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry and waits until it answers `/v2/`; `None` when `docker-registry`
    /// is not installed.
    pub fn start() -> Option<Self> {
        if Command::new("docker-registry")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("no docker-registry installed (apt-get install docker-registry)");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let port = meseta_tests::free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        let yaml = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        std::fs::write(&config, yaml).expect("registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("docker-registry");
        let registry = Self {
            addr,
            child,
            _dir: dir,
        };
        let up = eventually(20, || {
            meseta_tests::http("GET", port, "/v2/", None).is_ok_and(|(s, _)| s == 200)
        });
        assert!(up, "docker-registry did not come up on {}", registry.addr);
        Some(registry)
    }

    /// Pushes the test image as `<addr>/<repo>` (docker CLI, test preparation only) and
    /// removes the local tag, so that using it needs a pull.
    pub fn push_test_image(&self, repo: &str) -> String {
        let reference = format!("{}/{repo}", self.addr);
        for args in [
            vec!["tag", IMAGE, reference.as_str()],
            vec!["push", reference.as_str()],
            vec!["rmi", reference.as_str()],
        ] {
            let out = Command::new("docker")
                .args(&args)
                .output()
                .expect("docker CLI");
            assert!(
                out.status.success(),
                "docker {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        reference
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A user-defined Docker network (docker CLI, test preparation only), removed on drop.
#[derive(Debug)]
pub struct DockerNetwork(pub String);

impl DockerNetwork {
    /// Creates the bridge network `name`.
    pub fn create(name: &str) -> Self {
        let out = Command::new("docker")
            .args(["network", "create", name])
            .output()
            .expect("docker network create");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(name.to_owned())
    }
}

impl Drop for DockerNetwork {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["network", "rm", &self.0])
            .output();
    }
}
