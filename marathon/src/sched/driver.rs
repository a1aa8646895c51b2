//! The loop between the state machine and the v1 scheduler driver (`meseta-scheduler`):
//! events from Mesos go into [`Core`] through [`Shared::mutate`]; the calls the state
//! machine queues ([`Command`]) come back here after their state is stored and are sent in
//! order. On every (re-)subscription the framework id is stored and every known task is
//! reconciled explicitly, then implicitly (unknown running tasks get killed); implicit
//! reconciliation repeats every `--reconciliation_interval`.

use std::sync::Arc;
use std::time::Duration;

use meseta_api::{AgentId, DurationInfo, FrameworkInfo, KillPolicy, TaskId};
use meseta_scheduler::{Config, Event, Scheduler};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::state::{Command, Core, Shared};

/// How often the state machine's periodic pass runs.
const TICK: Duration = Duration::from_millis(250);

/// Why the driver loop ended.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The driver could not start.
    #[error("cannot start the scheduler driver: {0}")]
    Start(#[from] meseta_scheduler::Error),
    /// Mesos refused the framework for good (e.g. removed after its failover timeout).
    #[error("Mesos refused the framework: {0}")]
    Refused(String),
    /// The driver's event channel ended.
    #[error("the scheduler driver stopped")]
    Stopped,
}

/// What the loop needs besides the state.
#[derive(Debug, Clone)]
pub struct DriverSettings {
    /// `--master`.
    pub master: String,
    /// The framework to register (its `id` is filled from the store).
    pub framework: FrameworkInfo,
    /// `--reconciliation_interval`.
    pub reconciliation_interval: Duration,
}

fn reconcile_known(core: &mut Core) {
    let tasks: Vec<(TaskId, Option<AgentId>)> = core
        .instances
        .values()
        .map(|i| {
            (
                TaskId::new(i.task_id.clone()),
                Some(AgentId::new(i.agent_id.clone())),
            )
        })
        .collect();
    if !tasks.is_empty() {
        core.command(Command::Reconcile(tasks));
    }
    core.command(Command::ReconcileAll);
}

async fn execute(sched: &Scheduler, role: &str, c: Command) {
    match &c {
        Command::Launch { tasks, .. } => tracing::debug!(tasks = tasks.len(), "launching"),
        Command::Decline { refuse_seconds, .. } => {
            tracing::debug!(refuse_seconds, "declining an offer")
        }
        other => tracing::debug!(call = ?other, "calling Mesos"),
    }
    let result = match c {
        Command::Launch { offer_id, tasks } => sched.launch(&offer_id, tasks).await,
        Command::Decline {
            offer_ids,
            refuse_seconds,
        } => sched.decline(offer_ids, Some(refuse_seconds)).await,
        Command::Kill {
            task_id,
            agent_id,
            grace_seconds,
        } => {
            let policy = grace_seconds.map(|g| KillPolicy {
                grace_period: Some(DurationInfo {
                    nanoseconds: crate::model::sat_i64(g * 1e9),
                }),
            });
            sched.kill_with_policy(task_id, agent_id, policy).await
        }
        Command::Reconcile(tasks) => sched.reconcile(tasks).await,
        Command::ReconcileAll => sched.reconcile_all().await,
        Command::Revive => sched.revive(vec![role.to_owned()]).await,
        Command::Suppress => sched.suppress(vec![role.to_owned()]).await,
    };
    if let Err(err) = result {
        tracing::warn!(%err, "Mesos call failed");
    }
}

/// Runs until the driver stops or Mesos refuses the framework.
pub async fn run(
    shared: Arc<Shared>,
    mut settings: DriverSettings,
    mut commands: UnboundedReceiver<Command>,
) -> Result<(), DriverError> {
    if let Some(id) = shared.read(|c| c.framework_id.clone()) {
        settings.framework.id = Some(meseta_api::FrameworkId::new(id));
    }
    let role = settings
        .framework
        .roles
        .first()
        .cloned()
        .or_else(|| settings.framework.role.clone())
        .unwrap_or_else(|| "*".into());
    // `zk://` masters are followed by the driver's own ZooKeeper detector.
    let config = Config::new(settings.master.clone(), settings.framework.clone());
    let (sched, mut events) = meseta_scheduler::start(config)?;
    let s = sched.clone();
    tokio::spawn(async move {
        while let Some(c) = commands.recv().await {
            execute(&s, &role, c).await;
        }
    });
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reconcile =
        tokio::time::interval(settings.reconciliation_interval.max(Duration::from_secs(1)));
    reconcile.tick().await;
    loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { return Err(DriverError::Stopped) };
                let mut batch = vec![ev];
                while batch.len() < MAX_BATCH {
                    match events.try_recv() {
                        Some(ev) => batch.push(ev),
                        None => break,
                    }
                }
                handle_batch(&shared, batch).await?;
            }
            () = shared.kicked() => {
                tracing::trace!("kicked");
                tick.reset();
                if let Err(err) = shared.mutate(Core::tick).await {
                    tracing::warn!(%err, "cannot store state");
                }
            }
            _ = tick.tick() => {
                tracing::trace!("tick");
                // The pass, then whatever status updates left queued (see `change_lazily`).
                let stored = match shared.mutate(Core::tick).await {
                    Ok(()) => shared.flush().await,
                    Err(err) => Err(err),
                };
                if let Err(err) = stored {
                    tracing::warn!(%err, "cannot store state");
                }
            }
            _ = reconcile.tick() => {
                let _ = shared.mutate(|c| if c.subscribed { c.command(Command::ReconcileAll) }).await;
            }
        }
    }
}

/// Most queued events handled together.
const MAX_BATCH: usize = 256;

/// Handles queued events in order; consecutive status updates share one state change, whose
/// writes wait for the next commit (a 500-instance deployment brings ~1,500 updates; see
/// [`Shared::change_lazily`]).
async fn handle_batch(shared: &Shared, batch: Vec<Event>) -> Result<(), DriverError> {
    let mut updates = Vec::new();
    for ev in batch {
        match ev {
            Event::Update(status) => updates.push(status),
            other => {
                apply_updates(shared, std::mem::take(&mut updates)).await;
                handle(shared, other).await?;
            }
        }
    }
    apply_updates(shared, updates).await;
    Ok(())
}

async fn apply_updates(shared: &Shared, updates: Vec<meseta_api::TaskStatus>) {
    if updates.is_empty() {
        return;
    }
    let result = shared
        .change_lazily(|c| {
            for status in &updates {
                c.handle_status(status);
            }
        })
        .await;
    if let Err(err) = result {
        tracing::warn!(%err, "cannot store state");
    }
}

async fn handle(shared: &Shared, ev: Event) -> Result<(), DriverError> {
    tracing::trace!(event = ?std::mem::discriminant(&ev), "event");
    let result = match ev {
        Event::Subscribed { framework_id, .. } => {
            tracing::info!(framework_id = %framework_id.value, "subscribed");
            shared
                .mutate(|c| {
                    c.set_framework_id(&framework_id.value);
                    c.subscribed = true;
                    c.suppressed = false;
                    reconcile_known(c);
                })
                .await
        }
        Event::Offers(offers) => {
            tracing::debug!(offers = offers.len(), "offers");
            shared.mutate(|c| c.handle_offers(offers)).await
        }
        Event::Update(status) => shared.mutate(|c| c.handle_status(&status)).await,
        Event::Disconnected { reason } => {
            tracing::warn!(%reason, "disconnected from Mesos");
            shared.mutate(|c| c.subscribed = false).await
        }
        Event::Error(message) => return Err(DriverError::Refused(message)),
        _ => Ok(()),
    };
    if let Err(err) = result {
        tracing::warn!(%err, "cannot store state");
    }
    Ok(())
}
