//! `mesos-docker-executor`: runs one task in a Docker container through the Docker Engine
//! API. Started by the agent for tasks with `ContainerInfo.type = DOCKER`, with its
//! configuration in the environment and the flags of Mesos' docker executor; see
//! `meseta_executor::docker`.

use std::process::ExitCode;

use clap::Parser;
use meseta_executor::docker::{DockerExecutor, DockerFlags};

fn main() -> ExitCode {
    let flags = DockerFlags::parse();
    meseta_executor::run_main("mesos-docker-executor", |config| {
        DockerExecutor::new(config, flags).run()
    })
}
