//! `meseta-bench recovery`: how long a `kill -9`'ed agent takes to get its executors back.
//! For each N, the release `mesos-master` and `mesos-agent` run N `sleep` tasks of a
//! checkpointing framework (one command executor and supervisor each); the agent is killed with
//! SIGKILL and started again at once on the same work and runtime dirs (as a process supervisor
//! would). Measured from the new agent's spawn to the agent logging the N-th
//! "executor subscribed" (it accepted the N-th recovered executor's SUBSCRIBE), by polling its
//! log every 2 ms; also to its HTTP port answering and to the first re-subscription.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use meseta_tests::{bin, bin_dir, free_port, http, wait_until};

use crate::sched::{launch_running, subscribe, Sleepers};

/// Options of `meseta-bench recovery`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Task counts, one run each.
    pub counts: Vec<usize>,
    /// The agent's `--isolation`.
    pub isolation: String,
}

/// Declared resources: room for 500 small tasks.
const RESOURCES: &str = "cpus:64;mem:131072;disk:100000";

/// One run's figures.
struct Figures {
    n: usize,
    http: Duration,
    first: Duration,
    all: Duration,
}

/// A master and a restartable agent on loopback; killed (with their containers) on drop.
struct Rig {
    dir: tempfile::TempDir,
    master_port: u16,
    agent_port: u16,
    cgroups_root: String,
    isolation: String,
    master: Option<Child>,
    agent: Option<Child>,
    runs: usize,
}

impl Rig {
    fn start(isolation: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let name = dir.path().file_name().unwrap_or_default().to_string_lossy();
        let mut rig = Self {
            cgroups_root: format!("meseta-bench-recovery-{name}"),
            dir,
            master_port: free_port(),
            agent_port: free_port(),
            isolation: isolation.to_owned(),
            master: None,
            agent: None,
            runs: 0,
        };
        let d = rig.dir.path().to_owned();
        rig.master = Some(
            Command::new(bin("mesos-master"))
                .arg("--ip=127.0.0.1")
                .arg(format!("--port={}", rig.master_port))
                .arg(format!("--work_dir={}", d.join("master").display()))
                .arg("--allocation_interval=10ms")
                .env("MESETA_MASTER_CONF_DIR", d.join("no-etc"))
                .stdout(std::fs::File::create(d.join("master.log"))?)
                .stderr(std::fs::File::create(d.join("master.err"))?)
                .spawn()?,
        );
        let port = rig.master_port;
        if !wait_until(Duration::from_secs(20), || {
            http("GET", port, "/health", None).is_ok_and(|(s, _)| s == 200)
        }) {
            bail!("mesos-master did not come up");
        }
        rig.spawn_agent()?;
        Ok(rig)
    }

    fn agent_log(&self, run: usize) -> std::path::PathBuf {
        self.dir.path().join(format!("agent-{run}.err"))
    }

    fn spawn_agent(&mut self) -> Result<()> {
        self.runs += 1;
        let d = self.dir.path();
        let agent = Command::new(bin("mesos-agent"))
            .arg(format!("--master=127.0.0.1:{}", self.master_port))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={}", self.agent_port))
            .arg(format!("--work_dir={}", d.join("agent").display()))
            .arg(format!("--runtime_dir={}", d.join("run").display()))
            .arg(format!("--isolation={}", self.isolation))
            .arg(format!("--cgroups_root={}", self.cgroups_root))
            .arg(format!("--resources={RESOURCES}"))
            .arg(format!("--launcher_dir={}", bin_dir().display()))
            .arg("--executor_reregistration_timeout=30secs")
            .env("MESETA_AGENT_CONF_DIR", d.join("no-etc"))
            .env(
                "RUST_LOG",
                std::env::var("MESETA_BENCH_AGENT_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(self.agent_log(self.runs))?)
            .spawn()?;
        self.agent = Some(agent);
        Ok(())
    }

    fn kill9_agent(&mut self) -> Result<()> {
        if let Some(mut a) = self.agent.take() {
            a.kill()?;
            a.wait()?;
        }
        Ok(())
    }

    fn subscribed_count(&self) -> usize {
        std::fs::read_to_string(self.agent_log(self.runs))
            .map(|t| t.matches("executor subscribed").count())
            .unwrap_or(0)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for c in [self.agent.as_mut(), self.master.as_mut()]
            .into_iter()
            .flatten()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
        meseta_tests::kill_and_remove_cgroups(&self.cgroups_root, Duration::from_millis(300));
    }
}

/// One run with `n` tasks.
fn run_one(n: usize, isolation: &str) -> Result<Figures> {
    let mut rig = Rig::start(isolation)?;
    let mut sched = subscribe(rig.master_port, "meseta-bench-recovery", |f| {
        f.checkpoint = Some(true);
        f.failover_timeout = Some(3600.0);
    })?;
    launch_running(&mut sched, &Sleepers::new(n, "r-", "sleep 3600"))?;
    // Let the last updates' acknowledgements reach the agent.
    std::thread::sleep(Duration::from_secs(1));

    rig.kill9_agent()?;
    let t0 = Instant::now();
    rig.spawn_agent()?;
    let port = rig.agent_port;
    let mut http_at = None;
    let mut first_at = None;
    let all_at = loop {
        let now = Instant::now();
        if now.duration_since(t0) > Duration::from_secs(120) {
            bail!(
                "only {} of {n} executors re-subscribed in 120s",
                rig.subscribed_count()
            );
        }
        if http_at.is_none() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            http_at = Some(now);
        }
        let count = rig.subscribed_count();
        if count > 0 && first_at.is_none() {
            first_at = Some(now);
        }
        if count >= n {
            break now;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let figures = Figures {
        n,
        http: http_at.unwrap_or(all_at).duration_since(t0),
        first: first_at.unwrap_or(all_at).duration_since(t0),
        all: all_at.duration_since(t0),
    };
    // Every task still runs: none was reported lost or failed.
    let state = meseta_tests::get_json(port, "/state");
    let live: usize = state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["executors"].as_array().cloned().unwrap_or_default())
        .map(|e| e["tasks"].as_array().map_or(0, Vec::len))
        .sum();
    if live != n {
        bail!("{live} of {n} tasks live after recovery");
    }
    if let Some(keep) = std::env::var_os("MESETA_BENCH_KEEP_LOGS") {
        let to = std::path::Path::new(&keep).join(format!("recovery-n{n}"));
        std::fs::create_dir_all(&to)?;
        for run in 1..=rig.runs {
            std::fs::copy(rig.agent_log(run), to.join(format!("agent-{run}.err")))?;
        }
        let sandboxes = rig.dir.path().join("agent/slaves");
        let _ = Command::new("cp")
            .arg("-r")
            .arg(&sandboxes)
            .arg(&to)
            .status();
        eprintln!(
            "recovery: agent logs and sandboxes kept in {}",
            to.display()
        );
    }
    sched
        .block_on(sched.scheduler().teardown())
        .context("TEARDOWN")?;
    wait_until(Duration::from_secs(120), || {
        http("GET", port, "/containers", None).is_ok_and(|(_, b)| b.trim() == "[]")
    });
    Ok(figures)
}

/// Runs the benchmark; returns the table and the RESULT line.
pub fn run(opts: &Options) -> Result<String> {
    let mut rows = Vec::new();
    for &n in &opts.counts {
        eprintln!("recovery: {n} tasks ...");
        rows.push(run_one(n, &opts.isolation)?);
    }
    let mut out = format!(
        "Release `mesos-master` + `mesos-agent` on loopback, `--isolation={}`, N `sleep` tasks of a checkpointing framework (a command executor + supervisor each). The agent is `kill -9`'ed and spawned again at once; times are from that spawn. \"all re-subscribed\" = the agent has accepted the N-th recovered executor's SUBSCRIBE (N-th `executor subscribed` in its log, polled every 2 ms). Executors retry with their own backoff (100 ms doubling to MESOS_SUBSCRIPTION_BACKOFF_MAX = 2 s), which bounds how soon they come back.\n\n\
         | N | restart → HTTP port open | restart → first executor | restart → all N re-subscribed |\n|---|---|---|---|\n",
        opts.isolation
    );
    for f in &rows {
        out.push_str(&format!(
            "| {} | {:.3} s | {:.3} s | {:.3} s |\n",
            f.n,
            f.http.as_secs_f64(),
            f.first.as_secs_f64(),
            f.all.as_secs_f64()
        ));
    }
    let result: Vec<String> = rows
        .iter()
        .map(|f| format!("n{}_s={:.3}", f.n, f.all.as_secs_f64()))
        .collect();
    out.push_str(&format!("\nRESULT recovery {}\n", result.join(" ")));
    Ok(out)
}
