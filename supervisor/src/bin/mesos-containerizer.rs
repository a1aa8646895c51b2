//! `mesos-containerizer`: the per-container supervisor the agent starts (Mesos has a helper of
//! the same name). `mesos-containerizer launch --runtime_dir=D --container_id=C`.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt as _;
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

/// The two forms our own programs use, read without clap: `launch --runtime_dir=D
/// --container_id=C` (the agent, for every container) and `run-task --task_launch_info=F` (the
/// executor, for every task in an image). Building clap's parser costs each of them ~18 KiB
/// of stack and its allocations, a sixth of a supervisor's page faults. Anything else
/// (another order, an empty value, `--help`, a mistake) is left to clap.
fn internal_command(args: &[OsString]) -> Option<Cmd> {
    fn value<'a>(arg: &'a OsString, flag: &str) -> Option<&'a [u8]> {
        let value = arg.as_bytes().strip_prefix(flag.as_bytes())?;
        (!value.is_empty()).then_some(value)
    }
    match args {
        [_, command, runtime_dir, container_id] if command == "launch" => Some(Cmd::Launch {
            runtime_dir: std::ffi::OsStr::from_bytes(value(runtime_dir, "--runtime_dir=")?).into(),
            container_id: std::str::from_utf8(value(container_id, "--container_id=")?)
                .ok()?
                .to_owned(),
        }),
        [_, command, info] if command == "run-task" => Some(Cmd::RunTask {
            task_launch_info: std::ffi::OsStr::from_bytes(value(info, "--task_launch_info=")?)
                .into(),
        }),
        _ => None,
    }
}

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    let command = internal_command(&args).unwrap_or_else(|| Cli::parse_from(args).command);
    match command {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn clap(args: &[&str]) -> Option<String> {
        Cli::try_parse_from(args)
            .ok()
            .map(|cli| format!("{:?}", cli.command))
    }

    fn fast(args: &[&str]) -> Option<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        internal_command(&args).map(|command| format!("{command:?}"))
    }

    #[test]
    fn our_own_forms_read_as_clap_reads_them_and_nothing_else_bypasses_clap() {
        let ours = [
            &[
                "mesos-containerizer",
                "launch",
                "--runtime_dir=/var/run/mesos",
                "--container_id=4f1c-ab",
            ][..],
            &[
                "mesos-containerizer",
                "run-task",
                "--task_launch_info=/var/run/mesos/containers/c/task_launch_info",
            ],
        ];
        for args in ours {
            assert!(fast(args).is_some(), "{args:?}");
            assert_eq!(fast(args), clap(args), "{args:?}");
        }
        for other in [
            &[
                "mesos-containerizer",
                "launch",
                "--container_id=c",
                "--runtime_dir=/r",
            ][..],
            &["mesos-containerizer", "launch", "--runtime_dir", "/r"],
            &[
                "mesos-containerizer",
                "launch",
                "--runtime_dir=",
                "--container_id=c",
            ],
            &[
                "mesos-containerizer",
                "launch",
                "--runtime_dir=/r",
                "--container_id=",
            ],
            &[
                "mesos-containerizer",
                "launch",
                "--runtime-dir=/r",
                "--container_id=c",
            ],
            &[
                "mesos-containerizer",
                "resume",
                "--runtime_dir=/r",
                "--container_id=c",
            ],
            &[
                "mesos-containerizer",
                "launch",
                "--help",
                "--container_id=c",
            ],
            &["mesos-containerizer", "run-task", "--task_launch_info="],
            &[
                "mesos-containerizer",
                "run-task",
                "--task_launch_info",
                "/f",
            ],
            &["mesos-containerizer", "run-task", "--help"],
            &["mesos-containerizer", "--help"],
        ] {
            assert_eq!(fast(other), None, "{other:?}");
        }
    }
}
