//! The agent's side: (re-)subscribing, and the events of the SUBSCRIBE stream.

use meseta_api::executor::{Event, EventType};
use tokio::time::Instant;

use super::Executor;

impl Executor {
    pub(super) async fn connect(&mut self) {
        let unacknowledged_tasks = self
            .task
            .iter()
            .filter(|t| !t.acknowledged)
            .map(|t| meseta_api::TaskInfo::clone(&t.info))
            .collect();
        // The terminal update's acknowledgement timeout restarts with the new stream.
        if self.link.connect(unacknowledged_tasks).await && self.terminal_sent_at.is_some() {
            self.terminal_sent_at = Some(Instant::now());
        }
    }

    pub(super) async fn handle_event(&mut self, event: Box<Event>) {
        match event.r#type {
            EventType::Subscribed => {
                tracing::info!("SUBSCRIBED");
                if let Some(subscribed) = event.subscribed {
                    self.link.subscribed(&subscribed.framework_info);
                }
            }
            EventType::Launch => match event.launch {
                Some(launch) => self.launch(Box::new(launch.task)).await,
                None => tracing::warn!("LAUNCH event without `launch`"),
            },
            EventType::LaunchGroup => {
                tracing::warn!(
                    "the command executor does not run task groups; ignoring LAUNCH_GROUP"
                );
            }
            EventType::Kill => match event.kill {
                Some(kill) => {
                    let grace = self.kill_grace_period(kill.kill_policy);
                    self.kill(&kill.task_id, grace).await;
                }
                None => tracing::warn!("KILL event without `kill`"),
            },
            EventType::Acknowledged => {
                if let Some(ack) = event.acknowledged {
                    if self.link.acknowledge(&ack.uuid).is_some() {
                        if let Some(task) =
                            self.task.as_mut().filter(|t| t.info.task_id == ack.task_id)
                        {
                            task.acknowledged = true;
                        }
                    }
                }
            }
            EventType::Shutdown => self.shutdown().await,
            EventType::Error => tracing::error!(
                message = event.error.map(|e| e.message).unwrap_or_default(),
                "agent sent ERROR"
            ),
            EventType::Message | EventType::Heartbeat | EventType::Unknown => {}
        }
    }
}
