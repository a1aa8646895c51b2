//! `mesos-executor`: the Mesos command executor. It runs one task's `CommandInfo` in the
//! container the agent created, speaking the v1 executor HTTP API (`POST /api/v1/executor`)
//! to the agent named by `MESOS_AGENT_ENDPOINT`.
//!
//! * [`config`]: the environment the agent sets; [`flags`]: the command line.
//! * [`client`]: the HTTP client and the RecordIO event stream.
//! * [`process`]: starting, signalling and describing the task's process.
//! * [`updates`]: status updates and the unacknowledged-update store.
//! * [`executor`]: the event loop tying them together.
//! * [`health`]: Mesos-native health checks (`TaskInfo.health_check`) for both executors.
//! * [`link`] and [`docker`]: `mesos-docker-executor`, the same protocol driving a Docker
//!   container through the Engine API.

pub mod client;
pub mod config;
pub mod docker;
pub mod executor;
pub mod flags;
pub mod health;
pub mod link;
pub mod process;
pub mod updates;

pub use config::{Config, ConfigError};
pub use executor::Executor;
pub use flags::Flags;

/// The whole `main` of an executor binary after flag parsing: configuration from the
/// environment, logging to stderr, a current-thread runtime, and the exit code of `run`.
/// Errors print one line prefixed with `name` and exit 1.
pub fn run_main<F>(name: &str, run: impl FnOnce(Config) -> F) -> std::process::ExitCode
where
    F: std::future::Future<Output = i32>,
{
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{name}: {err}");
            return std::process::ExitCode::FAILURE;
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
            eprintln!("{name}: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(config));
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
