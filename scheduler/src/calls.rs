//! One method per scheduler call on [`Scheduler`]: ACCEPT (and its LAUNCH / LAUNCH_GROUP
//! shortcuts), DECLINE, KILL, SHUTDOWN, ACKNOWLEDGE, RECONCILE, REVIVE, SUPPRESS, MESSAGE,
//! TEARDOWN, UPDATE_FRAMEWORK.

use meseta_api::scheduler::{
    Accept, Acknowledge, Call, CallType, Decline, Kill, Message, Reconcile, ReconcileTask, Roles,
    Shutdown, Subscribe,
};
use meseta_api::{
    AgentId, Bytes, ExecutorId, ExecutorInfo, Filters, FrameworkInfo, KillPolicy, LaunchGroup,
    OfferId, OfferOperation, OfferOperationType, TaskGroupInfo, TaskId, TaskInfo, TaskStatus,
};

use crate::error::Error;
use crate::handle::Scheduler;

impl Scheduler {
    /// ACCEPT: applies `operations` (LAUNCH, LAUNCH_GROUP, RESERVE, CREATE, ...) to offers of
    /// one agent; what is left is refused for `filters.refuse_seconds` (default 5 s).
    pub async fn accept(
        &self,
        offer_ids: Vec<OfferId>,
        operations: Vec<OfferOperation>,
        filters: Option<Filters>,
    ) -> Result<(), Error> {
        self.call(Call {
            r#type: CallType::Accept,
            accept: Some(Accept {
                offer_ids,
                operations,
                filters,
            }),
            ..Call::default()
        })
        .await
    }

    /// ACCEPT with one LAUNCH of `tasks`; the rest of the offer is not refused
    /// (`refuse_seconds: 0`), so it comes back at the next allocation.
    pub async fn launch(&self, offer_id: &OfferId, tasks: Vec<TaskInfo>) -> Result<(), Error> {
        let filters = Filters {
            refuse_seconds: Some(0.0),
        };
        self.accept(
            vec![offer_id.clone()],
            vec![OfferOperation::launch(tasks)],
            Some(filters),
        )
        .await
    }

    /// ACCEPT with one LAUNCH_GROUP of `task_group` under `executor` (a default executor).
    pub async fn launch_group(
        &self,
        offer_id: &OfferId,
        executor: ExecutorInfo,
        task_group: TaskGroupInfo,
    ) -> Result<(), Error> {
        let op = OfferOperation {
            r#type: Some(OfferOperationType::LaunchGroup),
            launch_group: Some(LaunchGroup {
                executor,
                task_group,
            }),
            ..OfferOperation::default()
        };
        let filters = Filters {
            refuse_seconds: Some(0.0),
        };
        self.accept(vec![offer_id.clone()], vec![op], Some(filters))
            .await
    }

    /// DECLINE of `offer_ids`, refused for `refuse_seconds` (Mesos default 5 s when `None`).
    pub async fn decline(
        &self,
        offer_ids: Vec<OfferId>,
        refuse_seconds: Option<f64>,
    ) -> Result<(), Error> {
        self.call(Call {
            r#type: CallType::Decline,
            decline: Some(Decline {
                offer_ids,
                filters: refuse_seconds.map(|s| Filters {
                    refuse_seconds: Some(s),
                }),
            }),
            ..Call::default()
        })
        .await
    }

    /// KILL of a task (the agent, if known, spares the master a lookup).
    pub async fn kill(&self, task_id: TaskId, agent_id: Option<AgentId>) -> Result<(), Error> {
        self.kill_with_policy(task_id, agent_id, None).await
    }

    /// KILL with a kill policy overriding the task's grace period.
    pub async fn kill_with_policy(
        &self,
        task_id: TaskId,
        agent_id: Option<AgentId>,
        kill_policy: Option<KillPolicy>,
    ) -> Result<(), Error> {
        self.call(Call {
            r#type: CallType::Kill,
            kill: Some(Kill {
                task_id,
                agent_id,
                kill_policy,
            }),
            ..Call::default()
        })
        .await
    }

    /// SHUTDOWN of an executor.
    pub async fn shutdown(&self, executor_id: ExecutorId, agent_id: AgentId) -> Result<(), Error> {
        self.call(Call {
            r#type: CallType::Shutdown,
            shutdown: Some(Shutdown {
                executor_id,
                agent_id,
            }),
            ..Call::default()
        })
        .await
    }

    /// ACKNOWLEDGE of a status update. Updates without a `uuid` (reconciliation answers,
    /// master-generated updates) need none: this returns `Ok` without a call for them.
    pub async fn acknowledge(&self, status: &TaskStatus) -> Result<(), Error> {
        let Some(call) = acknowledge_call(status) else {
            return Ok(());
        };
        self.call(call).await
    }

    /// Explicit reconciliation: the master answers with one UPDATE (source MASTER, no uuid)
    /// per task, TASK_LOST/TASK_UNKNOWN... for tasks it does not know.
    pub async fn reconcile(
        &self,
        tasks: impl IntoIterator<Item = (TaskId, Option<AgentId>)>,
    ) -> Result<(), Error> {
        let tasks: Vec<ReconcileTask> = tasks
            .into_iter()
            .map(|(task_id, agent_id)| ReconcileTask { task_id, agent_id })
            .collect();
        if tasks.is_empty() {
            // An empty list means "all tasks" to the master: never send it by accident.
            return Ok(());
        }
        self.call(reconcile_call(tasks)).await
    }

    /// Implicit reconciliation: the master sends the latest state of every task it knows
    /// for this framework.
    pub async fn reconcile_all(&self) -> Result<(), Error> {
        self.call(reconcile_call(Vec::new())).await
    }

    /// REVIVE: clears offer filters and un-suppresses `roles` (all roles when empty).
    pub async fn revive(&self, roles: Vec<String>) -> Result<(), Error> {
        self.call(Call {
            r#type: CallType::Revive,
            revive: Some(Roles { roles }),
            ..Call::default()
        })
        .await
    }

    /// SUPPRESS: no more offers for `roles` (all roles when empty) until REVIVE.
    pub async fn suppress(&self, roles: Vec<String>) -> Result<(), Error> {
        self.call(Call {
            r#type: CallType::Suppress,
            suppress: Some(Roles { roles }),
            ..Call::default()
        })
        .await
    }

    /// MESSAGE: framework data to an executor.
    pub async fn message(
        &self,
        agent_id: AgentId,
        executor_id: ExecutorId,
        data: Vec<u8>,
    ) -> Result<(), Error> {
        self.call(Call {
            r#type: CallType::Message,
            message: Some(Message {
                agent_id,
                executor_id,
                data: Bytes(data),
            }),
            ..Call::default()
        })
        .await
    }

    /// TEARDOWN: the master removes the framework and kills its tasks; the driver stops.
    pub async fn teardown(&self) -> Result<(), Error> {
        let result = self
            .call(Call {
                r#type: CallType::Teardown,
                ..Call::default()
            })
            .await;
        self.stop();
        result
    }

    /// UPDATE_FRAMEWORK: changes roles, capabilities, ... of the running framework
    /// (`framework_info.id` is set to this framework's). Re-subscriptions use the new info.
    pub async fn update_framework(
        &self,
        mut framework_info: FrameworkInfo,
        suppressed_roles: Vec<String>,
    ) -> Result<(), Error> {
        framework_info.id = self.framework_id();
        self.call(Call {
            r#type: CallType::UpdateFramework,
            update_framework: Some(Subscribe {
                framework_info: framework_info.clone(),
                suppressed_roles: suppressed_roles.clone(),
                offer_constraints: None,
            }),
            ..Call::default()
        })
        .await?;
        let mut st = self.shared.state();
        st.framework_info = framework_info;
        st.suppressed_roles = suppressed_roles;
        Ok(())
    }
}

/// The ACKNOWLEDGE for `status`, if it carries a uuid and an agent.
pub(crate) fn acknowledge_call(status: &TaskStatus) -> Option<Call> {
    let uuid = status.uuid.clone()?;
    let agent_id = status.agent_id.clone()?;
    Some(Call {
        r#type: CallType::Acknowledge,
        acknowledge: Some(Acknowledge {
            agent_id,
            task_id: status.task_id.clone(),
            uuid,
        }),
        ..Call::default()
    })
}

fn reconcile_call(tasks: Vec<ReconcileTask>) -> Call {
    Call {
        r#type: CallType::Reconcile,
        reconcile: Some(Reconcile { tasks }),
        ..Call::default()
    }
}
