//! Command-line flags. The agent configures the executor mostly through the environment
//! (see [`crate::config`]); these are the flags Mesos' `mesos-executor` accepts, so an agent
//! passing them does not make the executor fail.

use std::path::PathBuf;

use meseta_api::Environment;

const ENVIRONMENT_HELP: &str = "\
Configuration comes from the environment the agent sets:
  MESOS_AGENT_ENDPOINT                 agent host:port (required)
  MESOS_FRAMEWORK_ID                   framework id (required)
  MESOS_EXECUTOR_ID                    executor id (required)
  MESOS_DIRECTORY                      sandbox path on the host (required)
  MESOS_SANDBOX                        sandbox as seen by the task, its cwd (default MESOS_DIRECTORY)
  MESOS_CHECKPOINT                     \"1\" if the framework checkpoints
  MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD e.g. 5secs; SHUTDOWN kills the task with this minus 2 s
  MESOS_SUBSCRIPTION_BACKOFF_MAX       e.g. 2secs: cap of the reconnect backoff
  MESOS_RECOVERY_TIMEOUT               e.g. 15mins: give up (kill the task, exit 1) when the
                                       agent is unreachable this long

A KILL uses the grace period of the KILL's kill_policy, else the task's kill_policy, else 3 s,
between SIGTERM and SIGKILL to the task's process group.
Logs go to stderr (RUST_LOG sets the level); the task's stdout/stderr are the executor's.
Exit status: 0 when done, 1 on bad configuration or when the agent stayed unreachable.";

/// What `--help` prints before [`ENVIRONMENT_HELP`].
const USAGE: &str = "\
The Mesos command executor: runs one task's command in its sandbox and reports its states to
the agent over the v1 executor HTTP API

Usage: mesos-executor [--flag=VALUE]...

Flags (each also as `--flag VALUE`; the last one given wins):
      --launcher_dir=DIR        Directory of the Mesos binaries (mesos-containerizer for
                                --task_launch_info)
      --task_environment=JSON   JSON Environment ({\"variables\":[{\"name\":..,\"value\":..}]})
                                added to the task's environment; CommandInfo.environment wins
                                on conflicts
      --sandbox_directory=DIR   Sandbox path inside a container image (accepted for
                                compatibility; MESOS_SANDBOX is used)
      --working_directory=DIR   Working directory inside a container image (accepted for
                                compatibility; unused)
      --user=USER               User to run the task as (accepted for compatibility; the
                                containerizer switches user)
      --rootfs=DIR              Image root filesystem (accepted for compatibility; the
                                containerizer sets up the rootfs)
      --task_launch_info=FILE   A task that runs inside a container image: the agent's
                                task_launch_info file. The task is then started as
                                `<launcher_dir>/mesos-containerizer run-task
                                --task_launch_info=FILE`, which runs it in the image's root
                                filesystem
      --resume_parked           Internal: the executor coming back from parking itself
                                while its task runs
  -h, --help                    Print help
  -V, --version                 Print version
";

/// `mesos-executor` flags.
///
/// Parsed by hand rather than with clap: the executor runs once per task, and clap's parser
/// is ~280 KiB of resident text in each of them for seven `--name=value` flags.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--launcher_dir`: directory of the Mesos binaries.
    pub launcher_dir: Option<PathBuf>,
    /// `--task_environment`: JSON `Environment` added to the task's environment;
    /// `CommandInfo.environment` wins on conflicts.
    pub task_environment: Option<Environment>,
    /// `--sandbox_directory` (accepted for compatibility; MESOS_SANDBOX is used).
    pub sandbox_directory: Option<PathBuf>,
    /// `--working_directory` (accepted for compatibility; unused).
    pub working_directory: Option<PathBuf>,
    /// `--user` (accepted for compatibility; the containerizer switches user).
    pub user: Option<String>,
    /// `--rootfs` (accepted for compatibility; the containerizer sets up the rootfs).
    pub rootfs: Option<PathBuf>,
    /// `--task_launch_info`: a task that runs inside a container image, started as
    /// `<launcher_dir>/mesos-containerizer run-task --task_launch_info=FILE`.
    pub task_launch_info: Option<PathBuf>,
    /// `--resume_parked` (internal, first argument): take the state and descriptors the
    /// park handed over (see [`crate::park`]).
    pub resume_parked: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// Run with these flags.
    Run(Box<Flags>),
    /// Print this text to stdout and exit 0 (`--help`, `--version`).
    Print(String),
}

/// A command line that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagsError {
    /// A flag this executor does not know.
    #[error("unknown flag '{0}'; see --help")]
    Unknown(String),
    /// A flag given without its value.
    #[error("flag '--{0}' needs a value")]
    MissingValue(String),
    /// An argument that is not a flag.
    #[error("unexpected argument '{0}'; mesos-executor takes only --flag=VALUE flags")]
    Positional(String),
    /// `--task_environment` is not a JSON `Environment`.
    #[error("invalid value for '--task_environment': not a JSON Environment: {0}")]
    Environment(String),
}

impl Flags {
    /// Parses the process's arguments; prints help or an error and exits as needed.
    pub fn parse() -> Self {
        match Self::try_parse_from(std::env::args_os().skip(1)) {
            Ok(Parsed::Run(flags)) => *flags,
            Ok(Parsed::Print(text)) => {
                print!("{text}");
                std::process::exit(0);
            }
            Err(err) => {
                eprintln!("mesos-executor: {err}");
                std::process::exit(2);
            }
        }
    }

    /// Parses `args` (without the program name).
    pub fn try_parse_from<I, S>(args: I) -> Result<Parsed, FlagsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString>,
    {
        let mut flags = Flags::default();
        let mut args = args
            .into_iter()
            .map(|a| a.into().to_string_lossy().into_owned());
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "-h" | "--help" => {
                    return Ok(Parsed::Print(format!("{USAGE}\n{ENVIRONMENT_HELP}\n")));
                }
                "-V" | "--version" => {
                    let version = env!("CARGO_PKG_VERSION");
                    return Ok(Parsed::Print(format!("mesos-executor {version}\n")));
                }
                _ => {}
            }
            if arg == crate::park::RESUME_FLAG {
                flags.resume_parked = true;
                continue;
            }
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(FlagsError::Positional(arg));
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| FlagsError::MissingValue(flag.to_owned()))?;
                    (flag.to_owned(), value)
                }
            };
            flags.set(&name, value)?;
        }
        Ok(Parsed::Run(Box::new(flags)))
    }

    fn set(&mut self, name: &str, value: String) -> Result<(), FlagsError> {
        match name {
            "launcher_dir" => self.launcher_dir = Some(value.into()),
            "task_environment" => {
                let environment = serde_json::from_str(&value)
                    .map_err(|err| FlagsError::Environment(err.to_string()))?;
                self.task_environment = Some(environment);
            }
            "sandbox_directory" => self.sandbox_directory = Some(value.into()),
            "working_directory" => self.working_directory = Some(value.into()),
            "user" => self.user = Some(value),
            "rootfs" => self.rootfs = Some(value.into()),
            "task_launch_info" => self.task_launch_info = Some(value.into()),
            _ => return Err(FlagsError::Unknown(format!("--{name}"))),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_task_environment_json() {
        let Parsed::Run(flags) = Flags::try_parse_from([
            "--launcher_dir=/usr/libexec/mesos",
            r#"--task_environment={"variables":[{"name":"A","type":"VALUE","value":"1"}]}"#,
        ])
        .unwrap() else {
            panic!("not a run");
        };
        let environment = flags.task_environment.unwrap();
        assert_eq!(environment.get("A"), Some("1"));
        assert!(matches!(
            Flags::try_parse_from(["--task_environment=nope"]),
            Err(FlagsError::Environment(_))
        ));
    }

    #[test]
    fn takes_both_flag_forms_and_refuses_the_rest() {
        let Parsed::Run(flags) =
            Flags::try_parse_from(["--user", "nobody", "--user=root", "--rootfs=/r"]).unwrap()
        else {
            panic!("not a run");
        };
        assert_eq!(flags.user.as_deref(), Some("root"), "the last one wins");
        assert_eq!(flags.rootfs, Some(PathBuf::from("/r")));
        assert_eq!(
            Flags::try_parse_from(["--bogus=1"]).unwrap_err(),
            FlagsError::Unknown("--bogus".into())
        );
        assert_eq!(
            Flags::try_parse_from(["--user"]).unwrap_err(),
            FlagsError::MissingValue("user".into())
        );
        assert!(matches!(
            Flags::try_parse_from(["stray"]),
            Err(FlagsError::Positional(_))
        ));
        let Parsed::Print(help) = Flags::try_parse_from(["--help"]).unwrap() else {
            panic!("no help");
        };
        for flag in [
            "launcher_dir",
            "task_environment",
            "task_launch_info",
            "rootfs",
            "user",
        ] {
            assert!(
                help.contains(&format!("--{flag}=")),
                "{flag} missing from --help"
            );
        }
        assert!(help.contains("MESOS_RECOVERY_TIMEOUT"));
    }
}
