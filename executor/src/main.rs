//! `mesos-executor`: the Mesos command executor. Started by the agent with its
//! configuration in the environment (MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID,
//! MESOS_EXECUTOR_ID, MESOS_DIRECTORY, ...); see the `meseta_executor` library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let flags = meseta_executor::Flags::parse();
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
    let code = runtime.block_on(
        meseta_executor::Executor::new(config)
            .with_task_environment(flags.task_environment)
            .with_image_task(flags.task_launch_info.map(|info| {
                let dir = flags.launcher_dir.unwrap_or_default();
                (dir.join("mesos-containerizer"), info)
            }))
            .run(),
    );
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
