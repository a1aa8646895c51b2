//! `meseta-run`: run one command in a Meseta container from the shell, through the same
//! `mesos` containerizer the agent uses, and report how it ended and what it used.
//!
//! ```text
//! meseta-run --isolation=cgroups/cpu,cgroups/mem,namespaces/pid --cpus=0.5 --mem=64 -- sh -c 'echo hi'
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use isolators::Isolation;
use meseta_agent::containerizer::mesos::ContainerSpec;
use meseta_agent::containerizer::{Command, ContainerConfig, MesosContainerizer};
use meseta_containerizer_api::launch_info::DEFAULT_PATH;

#[derive(Debug, Parser)]
#[command(
    name = "meseta-run",
    version,
    about = "Run one command in a Meseta container (cgroups + namespaces) and report its termination and usage",
    after_help = "Exit status: the command's exit code, 128+N when killed by signal N, 2 for bad input, 1 when the container could not be launched."
)]
struct Cli {
    /// Isolators, comma separated, Mesos names: cgroups/{cpu,mem,pids,all}, namespaces/{pid,ipc,uts,net},
    /// filesystem/{linux,posix}, posix/{cpu,mem}.
    #[arg(
        long,
        default_value = "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid,namespaces/ipc,namespaces/uts,filesystem/linux"
    )]
    isolation: String,
    /// Cpus for the container: cpu.shares = 1024 × cpus (and the CFS quota with --cgroups_enable_cfs).
    #[arg(long)]
    cpus: Option<f64>,
    /// Memory limit in MB.
    #[arg(long)]
    mem: Option<f64>,
    /// Maximum number of processes and threads.
    #[arg(long)]
    pids: Option<i64>,
    /// Make --cpus a hard limit (CFS quota), as the agent flag of the same name.
    #[arg(long = "cgroups_enable_cfs")]
    cgroups_enable_cfs: bool,
    /// Cgroup under which the container's cgroup is created.
    #[arg(long = "cgroups_root", default_value = "mesos")]
    cgroups_root: String,
    /// Root filesystem for the container (a directory); default: the host's, with the sandbox as working dir.
    #[arg(long)]
    rootfs: Option<PathBuf>,
    /// Hostname inside the container (with namespaces/uts); default: the container id.
    #[arg(long)]
    hostname: Option<String>,
    /// Container id; default: a random UUID.
    #[arg(long = "container_id")]
    container_id: Option<String>,
    /// Directory under which the sandbox (<work_dir>/<container_id>) is created.
    #[arg(long = "work_dir", default_value = "/tmp/meseta-run")]
    work_dir: PathBuf,
    /// Runtime state (supervisor pid, termination record); meant to be on tmpfs.
    #[arg(long = "runtime_dir", default_value = "/run/meseta-run")]
    runtime_dir: PathBuf,
    /// Directory holding mesos-containerizer; default: next to this binary.
    #[arg(long = "launcher_dir")]
    launcher_dir: Option<PathBuf>,
    /// The command and its arguments (run directly, not through a shell).
    #[arg(trailing_var_arg = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("meseta-run: {e}");
            std::process::exit(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("meseta-run: {e:#}");
            std::process::exit(2);
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let isolation = Isolation::parse(&cli.isolation).context("--isolation")?;
    let launcher_dir = match cli.launcher_dir {
        Some(d) => d,
        None => std::env::current_exe()?
            .parent()
            .context("no directory for this binary")?
            .to_owned(),
    };
    let mut config = ContainerConfig::new(cli.runtime_dir, launcher_dir, isolation);
    config.cgroups_root = cli.cgroups_root;
    config.cgroups_enable_cfs = cli.cgroups_enable_cfs;
    let containerizer = MesosContainerizer::new(config)?;
    let id = cli
        .container_id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let sandbox = cli.work_dir.join(&id);
    let command = Command {
        argv: cli.command,
        env: vec![("PATH".into(), DEFAULT_PATH.into())],
        user: None,
    };
    let mut spec = ContainerSpec::new(id.clone(), command, sandbox.clone());
    spec.cpus = cli.cpus;
    spec.mem_mb = cli.mem;
    spec.pids_limit = cli.pids;
    spec.rootfs = cli.rootfs;
    spec.hostname = cli.hostname;
    let launched = match containerizer.launch(spec).await {
        Ok(l) => l,
        Err(e @ meseta_agent::containerizer::ContainerizerError::Launch { .. }) => {
            eprintln!("meseta-run: {e}");
            return Ok(1);
        }
        Err(e) => bail!(e),
    };
    eprintln!(
        "container {id} running as pid {} (supervisor {}), sandbox {}",
        launched.pid,
        launched.supervisor_pid,
        sandbox.display()
    );

    let mut usage = containerizer.usage(&id).ok();
    let waiter = containerizer.wait(&id);
    tokio::pin!(waiter);
    let termination = loop {
        tokio::select! {
            t = &mut waiter => break t?,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                if let Ok(u) = containerizer.usage(&id) {
                    if u.processes.unwrap_or(0) > 0 { usage = Some(u); }
                }
            }
            _ = tokio::signal::ctrl_c() => {
                eprintln!("interrupted: killing the container (SIGTERM, SIGKILL after 3s)");
                containerizer.kill(&id, Duration::from_secs(3))?;
            }
        }
    };
    for name in ["stdout", "stderr"] {
        let text = std::fs::read_to_string(sandbox.join(name)).unwrap_or_default();
        if !text.is_empty() {
            eprintln!("--- {name} ---");
            eprint!("{text}");
        }
    }
    eprintln!(
        "--- termination ---\n{}",
        serde_json::to_string_pretty(&termination)?
    );
    if let Some(u) = usage {
        eprintln!(
            "--- last usage sample (ResourceStatistics) ---\n{}",
            serde_json::to_string_pretty(&u)?
        );
    }
    containerizer.destroy(&id).await?;
    Ok(termination
        .exit_code
        .or(termination.signal.map(|s| 128 + s))
        .unwrap_or(1))
}
