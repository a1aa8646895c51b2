//! `mesos-containerizer`: the per-container supervisor the agent starts (Mesos has a helper of
//! the same name). `mesos-containerizer launch --runtime_dir=D --container_id=C`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mesos-containerizer",
    version,
    about = "Meseta's per-container supervisor (started by mesos-agent)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create the container described by `<runtime_dir>/containers/<id>/launch_info`, supervise
    /// it until it ends and record how it ended in .../termination.
    Launch {
        /// The agent's --runtime_dir.
        #[arg(long = "runtime_dir")]
        runtime_dir: PathBuf,
        /// The container to launch.
        #[arg(long = "container_id")]
        container_id: String,
    },
    /// Continue supervising a container after the supervisor parked (internal: the parked
    /// supervisor runs this itself when its container needs attention).
    #[command(hide = true)]
    Resume {
        /// The agent's --runtime_dir.
        #[arg(long = "runtime_dir")]
        runtime_dir: PathBuf,
        /// The container being supervised.
        #[arg(long = "container_id")]
        container_id: String,
        /// The container's first process (our child).
        #[arg(long = "pid")]
        pid: i32,
        /// Whether an OOM notification fd was handed over.
        #[arg(long = "oom_fd")]
        oom_fd: bool,
    },
    /// Run one task inside its image's root filesystem (an OCI spec applied in a fork), as
    /// <task_launch_info> describes; started by the command executor in place of the task.
    RunTask {
        /// The JSON file the agent wrote (`<runtime_dir>/containers/<id>/task_launch_info`).
        #[arg(long = "task_launch_info")]
        task_launch_info: PathBuf,
    },
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Launch {
            runtime_dir,
            container_id,
        } => {
            let mut report = std::io::stdout();
            let code = meseta_supervisor::run(&runtime_dir, &container_id, &mut report);
            std::process::exit(code);
        }
        Cmd::Resume {
            runtime_dir,
            container_id,
            pid,
            oom_fd,
        } => {
            let pid = nix::unistd::Pid::from_raw(pid);
            let code = meseta_supervisor::resume(&runtime_dir, &container_id, pid, oom_fd);
            std::process::exit(code);
        }
        Cmd::RunTask { task_launch_info } => {
            let code = meseta_supervisor::run_task::run(&task_launch_info);
            std::process::exit(code);
        }
    }
}
