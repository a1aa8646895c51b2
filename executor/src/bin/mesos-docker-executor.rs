//! `mesos-docker-executor`: runs one task in a Docker container through the Docker Engine
//! API. Started by the agent for tasks with `ContainerInfo.type = DOCKER`, with its
//! configuration in the environment and the flags of Mesos' docker executor; see
//! `meseta_executor::docker`.

use std::process::ExitCode;

use clap::Parser;
use meseta_executor::docker::{DockerExecutor, DockerFlags};

fn main() -> ExitCode {
    let flags = DockerFlags::parse();
    let config = match meseta_executor::Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("mesos-docker-executor: {err}");
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
            eprintln!("mesos-docker-executor: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(DockerExecutor::new(config, flags).run());
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
