//! Framework lifecycle: SUBSCRIBE (new, re-subscribe, failover takeover),
//! disconnection, TEARDOWN and failover-timeout removal.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use meseta_api::internal;
use meseta_api::scheduler::{Call, Event};
use meseta_api::{FrameworkId, Reason, TaskState};

use super::{
    effective_roles, now_secs, push_completed, CallError, Framework, Master, Sink, Stream,
    MAX_COMPLETED_FRAMEWORKS,
};

impl Master {
    /// SUBSCRIBE: registers or re-registers the framework on `sink` and sends
    /// SUBSCRIBED. Returns the new stream id. A previous stream of the same
    /// framework gets ERROR "Framework failed over" and is closed.
    pub fn subscribe(&mut self, call: Call, sink: Sink) -> Result<String, CallError> {
        let sub = call
            .subscribe
            .ok_or_else(|| CallError::BadRequest("Expecting 'subscribe' to be present".into()))?;
        let mut info = sub.framework_info;
        let roles = effective_roles(&info);
        for r in roles.iter().chain(&sub.suppressed_roles) {
            crate::allocator::roles::validate(r).map_err(|e| {
                CallError::BadRequest(format!("Invalid FrameworkInfo: role '{r}': {e}"))
            })?;
        }
        let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
        let suppressed: Vec<&str> = sub.suppressed_roles.iter().map(String::as_str).collect();
        let stream_id = uuid::Uuid::new_v4().to_string();
        let requested = call.framework_id.map(|f| f.value);
        if let Some(id) = &requested {
            if self.completed_frameworks.iter().any(|f| &f.id == id) {
                // Mesos: a torn-down framework cannot come back; ERROR, then close.
                sink.send(&Event::error("Framework has been removed"));
                return Ok(stream_id);
            }
        }

        let existing = requested
            .as_ref()
            .is_some_and(|id| self.frameworks.contains_key(id));
        let id = match requested {
            Some(id) if self.frameworks.contains_key(&id) => {
                self.counters.message("messages_reregister_framework");
                self.remove_framework_offers(&id, false);
                info.id = Some(FrameworkId::new(id.clone()));
                if let Err(err) = self
                    .allocator
                    .update_framework(&id, &role_refs, &suppressed)
                    .and_then(|()| self.allocator.activate_framework(&id))
                {
                    return Err(CallError::BadRequest(format!(
                        "Invalid FrameworkInfo: {err}"
                    )));
                }
                let changed = self.registry.data.frameworks.get(&id) != Some(&info);
                if let Some(fw) = self.frameworks.get_mut(&id) {
                    if let Some(old) = fw.stream.take() {
                        old.sink.send(&Event::error("Framework failed over"));
                    }
                    fw.info = info.clone();
                    fw.roles = roles;
                    fw.disconnected_at = None;
                    fw.reregistered_time = Some(now_secs());
                    fw.recovered = false;
                    fw.stream = Some(Stream {
                        sink: sink.clone(),
                        id: stream_id.clone(),
                    });
                }
                if changed {
                    self.registry.data.frameworks.insert(id.clone(), info);
                    self.save_registry()?;
                }
                id
            }
            requested => {
                self.counters.message("messages_register_framework");
                let id = match requested {
                    Some(id) => id,
                    None => self.registry.new_framework_id(),
                };
                info.id = Some(FrameworkId::new(id.clone()));
                self.allocator
                    .add_framework(&id, &role_refs, &suppressed, true)
                    .map_err(|e| CallError::BadRequest(format!("Invalid FrameworkInfo: {e}")))?;
                self.registry
                    .data
                    .frameworks
                    .insert(id.clone(), info.clone());
                if let Err(err) = self.save_registry() {
                    let _ = self.allocator.remove_framework(&id);
                    self.registry.data.frameworks.remove(&id);
                    return Err(err.into());
                }
                self.frameworks.insert(
                    id.clone(),
                    Framework {
                        id: id.clone(),
                        info,
                        roles,
                        stream: Some(Stream {
                            sink: sink.clone(),
                            id: stream_id.clone(),
                        }),
                        registered_time: now_secs(),
                        reregistered_time: None,
                        disconnected_at: None,
                        tasks: HashMap::new(),
                        unreachable_tasks: HashMap::new(),
                        completed_tasks: VecDeque::new(),
                        offers: HashSet::new(),
                        executors: HashMap::new(),
                        recovered: false,
                    },
                );
                id
            }
        };
        tracing::info!(framework_id = %id, "framework subscribed");
        self.operator_framework(&id, existing);
        sink.send(&Event::subscribed(
            FrameworkId::new(id),
            self.config.heartbeat_interval.as_secs_f64(),
            Some(self.info.clone()),
        ));
        self.trigger_allocation();
        Ok(stream_id)
    }

    /// Checks a non-SUBSCRIBE call's framework and `Mesos-Stream-Id`.
    pub fn check_stream(&self, framework_id: &str, stream_id: &str) -> Result<(), CallError> {
        let fw = self
            .frameworks
            .get(framework_id)
            .ok_or_else(|| CallError::Forbidden("Framework is not subscribed".into()))?;
        match &fw.stream {
            None => Err(CallError::Forbidden("Framework is not subscribed".into())),
            Some(s) if s.id != stream_id => Err(CallError::Forbidden(format!(
                "The stream ID '{stream_id}' included in this request didn't match the stream \
                 ID currently associated with framework ID {framework_id}"
            ))),
            Some(_) => Ok(()),
        }
    }

    /// The framework's stream broke: stop offers, start the failover timer.
    pub(crate) fn disconnect_framework(&mut self, id: &str) {
        let Some(fw) = self.frameworks.get_mut(id) else {
            return;
        };
        if fw.stream.take().is_none() {
            return;
        }
        fw.disconnected_at = Some(Instant::now());
        tracing::info!(framework_id = %id, "framework disconnected");
        let _ = self.allocator.deactivate_framework(id);
        self.remove_framework_offers(id, false);
    }

    /// TEARDOWN (or failover timeout): kills the framework's tasks on every
    /// agent, recovers its resources and forgets it.
    pub fn remove_framework(&mut self, id: &str) -> Result<(), CallError> {
        let Some(mut fw) = self.frameworks.remove(id) else {
            return Ok(());
        };
        tracing::info!(framework_id = %id, "removing framework");
        self.operator_framework_removed(&fw.info);
        let event = internal::Event {
            r#type: internal::EventType::ShutdownFramework,
            shutdown_framework: Some(internal::ShutdownFramework {
                framework_id: FrameworkId::new(id),
            }),
            ..internal::Event::default()
        };
        for agent in self.agents.values() {
            if let Some(sink) = &agent.sink {
                sink.send(&event);
            }
        }
        for offer_id in fw.offers.drain() {
            self.offers.remove(&offer_id);
        }
        for (_, mut t) in fw.tasks.drain() {
            t.task.state = TaskState::Killed;
            let mut st = meseta_api::TaskStatus::new(t.task.task_id.clone(), TaskState::Killed);
            st.reason = Some(Reason::FrameworkRemoved);
            st.source = Some(meseta_api::Source::Master);
            st.timestamp = Some(now_secs());
            t.task.statuses.push(st);
            self.counters.count_terminal(TaskState::Killed);
            push_completed(&mut fw.completed_tasks, t, super::MAX_COMPLETED_TASKS);
        }
        fw.executors.clear();
        if let Some(s) = fw.stream.take() {
            drop(s);
        }
        let _ = self.allocator.remove_framework(id);
        self.registry.data.frameworks.remove(id);
        push_completed(&mut self.completed_frameworks, fw, MAX_COMPLETED_FRAMEWORKS);
        self.save_registry()?;
        self.trigger_allocation();
        Ok(())
    }

    /// UPDATE_FRAMEWORK: new roles, suppressed roles and info; `user`,
    /// `principal` and `checkpoint` cannot change (Mesos).
    pub fn update_framework(
        &mut self,
        id: &str,
        update: meseta_api::scheduler::Subscribe,
    ) -> Result<(), CallError> {
        self.counters.message("messages_update_framework");
        let Some(fw) = self.frameworks.get(id) else {
            return Err(CallError::Forbidden("Framework is not subscribed".into()));
        };
        let mut info = update.framework_info;
        let old = &fw.info;
        if info.user != old.user
            || info.principal != old.principal
            || info.is_checkpointing() != old.is_checkpointing()
        {
            return Err(CallError::BadRequest(
                "Updating 'FrameworkInfo.user', 'principal' or 'checkpoint' is unsupported".into(),
            ));
        }
        let roles = effective_roles(&info);
        let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
        let suppressed: Vec<&str> = update.suppressed_roles.iter().map(String::as_str).collect();
        self.allocator
            .update_framework(id, &role_refs, &suppressed)
            .map_err(|e| CallError::BadRequest(format!("Invalid FrameworkInfo: {e}")))?;
        info.id = Some(FrameworkId::new(id));
        if let Some(fw) = self.frameworks.get_mut(id) {
            fw.info = info.clone();
            fw.roles = roles;
        }
        self.registry.data.frameworks.insert(id.to_string(), info);
        self.save_registry()?;
        self.trigger_allocation();
        Ok(())
    }

    /// REVIVE for `roles` (empty: all).
    pub fn revive(&mut self, id: &str, roles: &[String]) -> Result<(), CallError> {
        self.counters.message("messages_revive_offers");
        let r: Vec<&str> = roles.iter().map(String::as_str).collect();
        self.allocator
            .revive(id, &r)
            .map_err(|e| CallError::BadRequest(e.to_string()))?;
        self.trigger_allocation();
        Ok(())
    }

    /// SUPPRESS for `roles` (empty: all).
    pub fn suppress(&mut self, id: &str, roles: &[String]) -> Result<(), CallError> {
        self.counters.message("messages_suppress_offers");
        let r: Vec<&str> = roles.iter().map(String::as_str).collect();
        self.allocator
            .suppress(id, &r)
            .map_err(|e| CallError::BadRequest(e.to_string()))
    }
}
