//! Stopping the container: KILL and SHUTDOWN become a `docker stop` with the grace period
//! (the KILL's policy, else the task's, else `--stop_timeout`).

use std::time::Duration;

use meseta_api::{KillPolicy, TaskId, TaskState};

use super::DockerExecutor;

impl DockerExecutor {
    /// The KILL event's policy, else the task's, else `--stop_timeout`.
    pub(super) fn kill_grace_period(&self, override_policy: Option<KillPolicy>) -> Duration {
        let task_policy = self.task.as_ref().and_then(|t| t.info.kill_policy);
        crate::executor::kill_grace_period(override_policy, task_policy, self.flags.stop_timeout)
    }

    pub(super) async fn kill(&mut self, task_id: &TaskId, grace: Duration) {
        let Some(task) = self.task.as_mut().filter(|t| &t.info.task_id == task_id) else {
            tracing::warn!(task_id = %task_id, "KILL for an unknown task");
            return;
        };
        if task.killing || self.terminal_sent_at.is_some() {
            return;
        }
        task.killing = true;
        task.health = None;
        tracing::info!(task_id = %task_id, ?grace, "killing task");
        let capable = self.link.task_killing_capable;
        if capable {
            self.link
                .send(task_id, TaskState::Killing, None, None)
                .await;
        }
        let Some(task) = self.task.as_mut() else {
            return;
        };
        if !task.running {
            // Still pulling or creating: stop that, remove whatever was created.
            if let Some(runner) = task.runner.take() {
                runner.abort();
            }
            let _ = self.docker.remove(&self.flags.container).await;
            let message = "Killed before the container started".to_owned();
            self.send_terminal(task_id, TaskState::Killed, message, None)
                .await;
            return;
        }
        // `docker stop` waits for the container; the exit arrives through the runner.
        let docker = self.docker.clone();
        let name = self.flags.container.clone();
        tokio::spawn(async move {
            if let Err(err) = docker.stop(&name, round_up_secs(grace)).await {
                tracing::warn!(container = name, %err, "docker stop failed; killing");
                let _ = docker.kill(&name, "KILL").await;
            }
        });
    }
}

/// `docker stop` takes whole seconds; never shorten a grace period.
fn round_up_secs(d: Duration) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use meseta_api::{DurationInfo, TaskInfo};

    use super::super::Task;
    use super::*;
    use crate::config::Config;
    use crate::docker::flags::DockerFlags;

    fn executor(stop_timeout: &str) -> DockerExecutor {
        let env = |name: &str| {
            let value = match name {
                "MESOS_AGENT_ENDPOINT" => "127.0.0.1:5051",
                "MESOS_FRAMEWORK_ID" => "fw",
                "MESOS_EXECUTOR_ID" => "ex",
                "MESOS_DIRECTORY" => "/tmp",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let config = Config::from_lookup(env).unwrap();
        let flags = DockerFlags::try_parse_from([
            "mesos-docker-executor",
            "--container=mesos-c1",
            &format!("--stop_timeout={stop_timeout}"),
        ])
        .unwrap();
        DockerExecutor::new(config, flags)
    }

    fn policy(secs: i64) -> KillPolicy {
        KillPolicy {
            grace_period: Some(DurationInfo {
                nanoseconds: secs * 1_000_000_000,
            }),
        }
    }

    #[test]
    fn kill_grace_is_the_kills_then_the_tasks_policy_then_stop_timeout() {
        let mut ex = executor("7secs");
        assert_eq!(ex.kill_grace_period(None), Duration::from_secs(7));
        ex.task = Some(Task {
            info: TaskInfo {
                kill_policy: Some(policy(3)),
                ..TaskInfo::default()
            },
            runner: None,
            running: true,
            killing: false,
            acknowledged: false,
            health: None,
            running_status: None,
            unhealthy: false,
        });
        assert_eq!(ex.kill_grace_period(None), Duration::from_secs(3));
        assert_eq!(
            ex.kill_grace_period(Some(policy(9))),
            Duration::from_secs(9)
        );
    }

    #[test]
    fn docker_stop_never_shortens_a_grace_period() {
        assert_eq!(round_up_secs(Duration::ZERO), Duration::ZERO);
        assert_eq!(
            round_up_secs(Duration::from_millis(1500)),
            Duration::from_secs(2)
        );
        assert_eq!(
            round_up_secs(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
    }
}
