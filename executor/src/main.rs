//! `mesos-executor`: the Mesos command executor. Started by the agent with its
//! configuration in the environment (MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID,
//! MESOS_EXECUTOR_ID, MESOS_DIRECTORY, ...); see the `meseta_executor` library.

use std::process::ExitCode;

fn main() -> ExitCode {
    meseta_executor::park::reserve_fds();
    let flags = meseta_executor::Flags::parse();
    meseta_executor::run_main("mesos-executor", |config| async move {
        let executor = if flags.resume_parked {
            match meseta_executor::Executor::resume(config) {
                Ok(executor) => executor,
                Err(err) => {
                    tracing::error!(%err, "cannot resume from the park");
                    return 1;
                }
            }
        } else {
            meseta_executor::Executor::new(config)
        };
        executor
            .with_task_environment(flags.task_environment)
            .with_image_task(flags.task_launch_info.map(|info| {
                let dir = flags.launcher_dir.unwrap_or_default();
                (dir.join("mesos-containerizer"), info)
            }))
            .run()
            .await
    })
}
