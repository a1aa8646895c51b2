//! `mesos-executor`: the Mesos command executor. Started by the agent with its
//! configuration in the environment (MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID,
//! MESOS_EXECUTOR_ID, MESOS_DIRECTORY, ...); see the `meseta_executor` library.

use std::process::ExitCode;

const HELP: &str = "\
mesos-executor: the Mesos command executor (Meseta).

Started by the Mesos agent for tasks that carry a `command`; runs that one command in the
task's sandbox and reports its state to the agent over the v1 executor HTTP API.

Configuration comes from the environment the agent sets:
  MESOS_AGENT_ENDPOINT                 agent host:port (required)
  MESOS_FRAMEWORK_ID                   framework id (required)
  MESOS_EXECUTOR_ID                    executor id (required)
  MESOS_DIRECTORY                      sandbox path on the host (required)
  MESOS_SANDBOX                        sandbox as seen by the task, its cwd (default MESOS_DIRECTORY)
  MESOS_CHECKPOINT                     \"1\" if the framework checkpoints
  MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD e.g. 5secs: kill grace when the task has no kill_policy
                                       (minus 1 second)
  MESOS_SUBSCRIPTION_BACKOFF_MAX       e.g. 2secs: cap of the reconnect backoff
  MESOS_RECOVERY_TIMEOUT               e.g. 15mins: give up when the agent is gone this long

Flags the agent may pass (--launcher_dir=...) are accepted and ignored.
Logs go to stderr (RUST_LOG controls the level); the task's output goes to the sandbox.
";

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let config = match meseta_executor::Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("mesos-executor: {err}");
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("mesos-executor: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(meseta_executor::Executor::new(config).run());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
