//! The operator event stream (`SUBSCRIBE` on `/api/v1`): SUBSCRIBED with the
//! full state, then TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED,
//! FRAMEWORK_ADDED/UPDATED/REMOVED and HEARTBEAT (every `--heartbeat_interval`). Streams
//! whose connection is gone are dropped on the next event.
//!
//! With `--acls`, each stream gets only the task and framework events its subscriber's
//! principal may see (`view_tasks`, `view_frameworks`), as Mesos filters per subscriber.

use meseta_api::master::{
    Agent as AgentView, AgentAdded, AgentRemoved, Event, EventType, Framework as FrameworkView,
    FrameworkEvent, FrameworkRemoved, GetState, Subscribed, TaskAdded, TaskUpdated,
};
use meseta_api::{AgentId, FrameworkId, FrameworkInfo, Task, TaskStatus, TimeInfo};
use meseta_auth::{Action, HttpAuth, Principal};

use super::{Master, Sink};

/// An operator event stream and who reads it.
#[derive(Debug)]
pub(crate) struct OperatorStream {
    sink: Sink,
    auth: HttpAuth,
    principal: Option<Principal>,
}

impl Master {
    /// Opens an operator stream for `principal`: SUBSCRIBED (with `state`, already filtered
    /// for it) then a HEARTBEAT; later events are filtered by `auth`'s ACLs.
    pub fn operator_subscribe(
        &mut self,
        sink: Sink,
        state: GetState,
        auth: HttpAuth,
        principal: Option<Principal>,
    ) {
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
        self.operator_streams.push(OperatorStream {
            sink,
            auth,
            principal,
        });
    }

    /// The user a task or framework event is about, for the view ACLs.
    fn event_object(&self, event: &Event) -> Option<(Action, String)> {
        let fw_user = |id: &str| self.frameworks.get(id).map(|f| f.info.user.clone());
        if let Some(t) = &event.task_added {
            let user = t
                .task
                .user
                .clone()
                .or_else(|| fw_user(&t.task.framework_id.value));
            return Some((Action::ViewTask, user.unwrap_or_default()));
        }
        if let Some(t) = &event.task_updated {
            let fw = &t.framework_id.value;
            let task_user = self
                .frameworks
                .get(fw)
                .and_then(|f| f.tasks.get(&t.status.task_id.value))
                .and_then(|r| r.task.user.clone());
            let user = task_user.or_else(|| fw_user(fw)).unwrap_or_default();
            return Some((Action::ViewTask, user));
        }
        let info = event
            .framework_added
            .as_ref()
            .or(event.framework_updated.as_ref())
            .map(|f| &f.framework.framework_info)
            .or(event.framework_removed.as_ref().map(|f| &f.framework_info))?;
        Some((Action::ViewFramework, info.user.clone()))
    }

    /// Sends `event` to every operator stream allowed to see it, dropping closed ones.
    pub(crate) fn operator_event(&mut self, event: &Event) {
        if self.operator_streams.is_empty() {
            return;
        }
        let object = self.event_object(event);
        self.operator_streams.retain(|s| match &object {
            Some((action, user)) if !s.auth.approved(s.principal.as_ref(), *action, Some(user)) => {
                !s.sink.is_closed()
            }
            _ => s.sink.send(event),
        });
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
