//! `mesos-executor`: the Mesos command executor. It runs one task's `CommandInfo` in the
//! container the agent created, speaking the v1 executor HTTP API (`POST /api/v1/executor`)
//! to the agent named by `MESOS_AGENT_ENDPOINT`.
//!
//! * [`config`]: the environment the agent sets; [`flags`]: the command line.
//! * [`client`]: the executor API client and the RecordIO event stream, over [`http1`].
//! * [`process`]: starting, signalling and describing the task's process.
//! * [`updates`]: status updates and the unacknowledged-update store.
//! * [`executor`]: the event loop tying them together; [`park`]: what it becomes while idle.
//! * [`health`]: Mesos-native health checks (`TaskInfo.health_check`) for both executors.
//! * [`link`] and [`docker`]: `mesos-docker-executor`, the same protocol driving a Docker
//!   container through the Engine API.

pub mod backoff;
pub mod client;
pub mod config;
pub mod docker;
pub mod executor;
pub mod flags;
pub mod health;
pub mod http1;
pub mod link;
mod log;
pub mod park;
pub mod process;
pub mod updates;

pub use config::{Config, ConfigError};
pub use executor::Executor;
pub use flags::Flags;

/// The executor's allocator in its static musl build (the one the agent embeds and deploys):
/// musl's own maps each size class's slots separately, ~28 `mmap`s and 13 `munmap`s before a
/// command executor has subscribed; dlmalloc takes 64 KiB at a time (7 `mmap`s), and the
/// executor's CPU time per task drops ~10 % (`meseta-bench e2e`, per-process runtime).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

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
    init_logging();
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
    // On the heap: `block_on` would otherwise copy the future (a few KiB; 31 KiB before the
    // executor boxed its events) down its own frames, faulting in fresh stack pages per task.
    let code = runtime.block_on(Box::pin(run(config)));
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Logs to stderr at the levels `RUST_LOG` names (`info` when unset or unreadable).
///
/// `RUST_LOG` is read as `tracing_subscriber`'s `Targets` (`info,meseta::timing=debug`:
/// a default level and per-target levels), not as a full `EnvFilter`: the executor runs once
/// per task, and the regex engine behind `EnvFilter`'s span and field filters is ~300 KiB of
/// resident text in each of them.
fn init_logging() {
    use tracing_subscriber::filter::Targets;

    let targets = std::env::var("RUST_LOG")
        .ok()
        .filter(|text| !text.trim().is_empty())
        .and_then(|text| text.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let _ = tracing::subscriber::set_global_default(log::EventLines::new(targets, log::to_stderr));
}
