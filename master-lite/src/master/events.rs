//! The operator event stream (`SUBSCRIBE` on `/api/v1`): SUBSCRIBED with the
//! full state, then TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED,
//! FRAMEWORK_ADDED/UPDATED/REMOVED and HEARTBEAT (every `--heartbeat_interval`). Streams
//! whose connection is gone are dropped on the next event.

use meseta_api::master::{
    Agent as AgentView, AgentAdded, AgentRemoved, Event, EventType, Framework as FrameworkView,
    FrameworkEvent, FrameworkRemoved, GetState, Subscribed, TaskAdded, TaskUpdated,
};
use meseta_api::{AgentId, FrameworkId, FrameworkInfo, Task, TaskStatus, TimeInfo};

use super::{Master, Sink};

impl Master {
    /// Opens an operator stream: SUBSCRIBED (with `state`) then a HEARTBEAT.
    pub fn operator_subscribe(&mut self, sink: Sink, state: GetState) {
        sink.send(&Event {
            r#type: EventType::Subscribed,
            subscribed: Some(Subscribed {
                get_state: Some(state),
                heartbeat_interval_seconds: Some(self.config.heartbeat_interval.as_secs_f64()),
            }),
            ..Event::default()
        });
        sink.send(&Event {
            r#type: EventType::Heartbeat,
            ..Event::default()
        });
        self.operator_streams.push(sink);
    }

    /// Sends `event` to every operator stream, dropping closed ones.
    pub(crate) fn operator_event(&mut self, event: &Event) {
        if self.operator_streams.is_empty() {
            return;
        }
        self.operator_streams.retain(|s| s.send(event));
    }

    pub(crate) fn operator_heartbeat(&mut self) {
        self.operator_event(&Event {
            r#type: EventType::Heartbeat,
            ..Event::default()
        });
    }

    pub(crate) fn operator_task_added(&mut self, task: &Task) {
        if self.operator_streams.is_empty() {
            return;
        }
        self.operator_event(&Event {
            r#type: EventType::TaskAdded,
            task_added: Some(TaskAdded { task: task.clone() }),
            ..Event::default()
        });
    }

    pub(crate) fn operator_task_updated(&mut self, framework_id: &str, status: &TaskStatus) {
        if self.operator_streams.is_empty() {
            return;
        }
        self.operator_event(&Event {
            r#type: EventType::TaskUpdated,
            task_updated: Some(TaskUpdated {
                framework_id: FrameworkId::new(framework_id),
                status: status.clone(),
                state: status.state,
            }),
            ..Event::default()
        });
    }

    pub(crate) fn operator_agent_added(&mut self, agent_id: &str) {
        let Some(a) = self.agents.get(agent_id) else {
            return;
        };
        let view = AgentView {
            agent_info: a.info.clone(),
            active: a.sink.is_some() && !a.deactivated,
            deactivated: Some(a.deactivated),
            version: a.version.clone(),
            pid: Some(a.pid()),
            total_resources: a.info.resources.clone(),
            ..AgentView::default()
        };
        self.operator_event(&Event {
            r#type: EventType::AgentAdded,
            agent_added: Some(AgentAdded { agent: view }),
            ..Event::default()
        });
    }

    pub(crate) fn operator_agent_removed(&mut self, agent_id: &str) {
        self.operator_event(&Event {
            r#type: EventType::AgentRemoved,
            agent_removed: Some(AgentRemoved {
                agent_id: AgentId::new(agent_id),
            }),
            ..Event::default()
        });
    }

    /// FRAMEWORK_ADDED (or FRAMEWORK_UPDATED when it re-subscribed).
    pub(crate) fn operator_framework(&mut self, id: &str, updated: bool) {
        if self.operator_streams.is_empty() {
            return;
        }
        let Some(f) = self.frameworks.get(id) else {
            return;
        };
        #[allow(clippy::cast_possible_truncation)]
        let time = |secs: f64| TimeInfo {
            nanoseconds: (secs * 1e9) as i64,
        };
        let framework = FrameworkView {
            framework_info: f.info.clone(),
            active: f.stream.is_some(),
            connected: f.stream.is_some(),
            recovered: f.recovered,
            registered_time: Some(time(f.registered_time)),
            reregistered_time: f.reregistered_time.map(time),
            ..FrameworkView::default()
        };
        let (kind, added, changed) = if updated {
            (
                EventType::FrameworkUpdated,
                None,
                Some(FrameworkEvent { framework }),
            )
        } else {
            (
                EventType::FrameworkAdded,
                Some(FrameworkEvent { framework }),
                None,
            )
        };
        self.operator_event(&Event {
            r#type: kind,
            framework_added: added,
            framework_updated: changed,
            ..Event::default()
        });
    }

    pub(crate) fn operator_framework_removed(&mut self, info: &FrameworkInfo) {
        self.operator_event(&Event {
            r#type: EventType::FrameworkRemoved,
            framework_removed: Some(FrameworkRemoved {
                framework_info: info.clone(),
            }),
            ..Event::default()
        });
    }
}
