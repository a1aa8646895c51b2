//! `mesos-docker-executor`: runs one task whose `ContainerInfo.type` is `DOCKER` in a Docker
//! container, through the Docker Engine API (as Mesos' `src/docker/executor.cpp` does
//! through the docker CLI), speaking the v1 executor API to the agent like
//! `mesos-executor`.
//!
//! * [`flags`]: the command line the agent passes (Mesos' docker executor flags).
//! * [`runner`]: pull, create, start, follow logs, wait: one container's life.
//! * [`executor`]: the event loop: LAUNCH → STARTING → RUNNING → FINISHED/FAILED, and KILL /
//!   SHUTDOWN → `docker stop` with the grace period → KILLED.

pub mod executor;
pub mod flags;
pub mod runner;

pub use executor::DockerExecutor;
pub use flags::DockerFlags;
