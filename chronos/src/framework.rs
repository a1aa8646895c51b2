//! The Mesos side, on the v1 scheduler driver (`meseta-scheduler`): subscribe (again with
//! the stored framework id after a restart, so Mesos keeps the tasks), reconcile the runs
//! that were in flight, place queued runs on offers, turn status updates into counters, and
//! send kills.
//!
//! Order that prevents duplicates: a run is stored (with its task id) before its LAUNCH goes
//! out ([`Core::persist`] is awaited between matching and accepting). A restarted leader asks
//! the master about each stored run: a run the master knows is followed to its end, one it
//! does not know was never launched and is launched now.

use std::sync::Arc;
use std::time::{Duration, Instant};

use meseta_api::{FrameworkId, FrameworkInfo, Offer, OfferId, TaskId, TaskInfo, TaskStatus};
use meseta_scheduler::{Config, Event, Scheduler};

use crate::core::Core;
use crate::engine::RunState;
use crate::mesos::{
    agent_id, constraints_met, outcome, task_info, wanted, Remaining, TaskDefaults,
};

/// What the framework needs beyond the core.
#[derive(Debug, Clone)]
pub struct FrameworkConfig {
    /// `--master`.
    pub master: String,
    /// The framework to subscribe (its `id` is filled from the store).
    pub info: FrameworkInfo,
    /// Task defaults.
    pub defaults: TaskDefaults,
    /// How long offers are refused when nothing waits.
    pub decline: Duration,
    /// Time between reconciliations.
    pub reconcile_every: Duration,
}

/// Shortest time between two REVIVE calls.
const MIN_REVIVE_GAP: Duration = Duration::from_millis(200);
/// An unused offer is kept (not declined) when a timer fires within this window, so the run
/// launches at its instant instead of after a REVIVE round trip.
const HOLD_WINDOW: Duration = Duration::from_secs(2);
/// Longest an offer is kept unused.
const HOLD_MAX: Duration = Duration::from_secs(10);
/// A queued run waiting this long since the last REVIVE sends another.
const STUCK_REVIVE: Duration = Duration::from_secs(1);
/// Most offers kept at once.
const MAX_HELD: usize = 2;

/// Runs the framework until the driver gives up; restarts the driver without a framework id
/// when the master refuses the stored one.
pub async fn run(core: Arc<Core>, mut cfg: FrameworkConfig) {
    loop {
        let mut config = Config::new(cfg.master.clone(), cfg.info.clone());
        // Acknowledged only once the outcome is stored: an update lost in a crash is sent
        // again by the agent instead of being forgotten.
        config.implicit_acknowledgements = false;
        let (sched, events) = match meseta_scheduler::start(config) {
            Ok(x) => x,
            Err(err) => {
                tracing::error!(%err, "cannot start the scheduler driver");
                std::process::exit(1);
            }
        };
        let refused = session(&core, &cfg, &sched, events).await;
        sched.stop();
        match refused {
            Some(message) => {
                tracing::error!(%message, "the master refused the framework; subscribing as a new one");
                cfg.info.id = None;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            None => return,
        }
    }
}

/// One driver's life; `Some(message)` when the master refused the framework.
async fn session(
    core: &Arc<Core>,
    cfg: &FrameworkConfig,
    sched: &Scheduler,
    mut events: meseta_scheduler::Events,
) -> Option<String> {
    // The first periodic reconciliation comes one period in: `subscribed` reconciles the
    // recovered runs itself.
    let mut reconcile = tokio::time::interval_at(
        tokio::time::Instant::now() + cfg.reconcile_every,
        cfg.reconcile_every,
    );
    reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_revive = Instant::now() - MIN_REVIVE_GAP;
    let mut held: Vec<(Offer, Instant)> = Vec::new();
    let mut housekeeping = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            ev = events.recv() => match ev? {
                Event::Subscribed { framework_id, .. } => subscribed(core, sched, &framework_id).await,
                Event::Offers(offers) => {
                    let unused = offered(core, cfg, sched, offers).await;
                    hold_or_decline(core, cfg, sched, &mut held, unused).await;
                }
                Event::Rescind(id) => held.retain(|(o, _)| o.id != id),
                Event::Update(status) => updated(core, sched, &status).await,
                Event::Error(message) => return Some(message),
                Event::Disconnected { reason } => tracing::warn!(%reason, "disconnected from the master"),
                _ => {}
            },
            () = core.work.notified() => {
                let kills = core.engine().take_kills();
                send_kills(sched, kills).await;
                if core.engine().queue_len() > 0 && !held.is_empty() {
                    let offers = held.drain(..).map(|(o, _)| o).collect();
                    let unused = offered(core, cfg, sched, offers).await;
                    hold_or_decline(core, cfg, sched, &mut held, unused).await;
                }
                if core.engine().queue_len() > 0 {
                    let since = last_revive.elapsed();
                    if since >= MIN_REVIVE_GAP {
                        last_revive = Instant::now();
                        let _ = sched.revive(Vec::new()).await;
                    } else {
                        // Throttled: come back when the gap has passed, so no run waits for
                        // an unrelated event.
                        let core = Arc::clone(core);
                        tokio::spawn(async move {
                            tokio::time::sleep(MIN_REVIVE_GAP - since).await;
                            core.work.notify_one();
                        });
                    }
                }
            }
            _ = housekeeping.tick() => {
                hold_or_decline(core, cfg, sched, &mut held, Vec::new()).await;
                // A run still queued a second after the last REVIVE (lost, refused, or
                // answered with offers that did not fit) asks again: no run stays queued
                // waiting for an unrelated event.
                if core.engine().queue_len() > 0 && last_revive.elapsed() >= STUCK_REVIVE {
                    last_revive = Instant::now();
                    let _ = sched.revive(Vec::new()).await;
                }
            }
            _ = reconcile.tick() => {
                // Only runs the master must know by now: a queued run was never sent, and the
                // ACCEPT of one launched a moment ago may still be on its way (the master
                // would answer TASK_LOST for it and the run would end while its task runs).
                let now_ms = core.clock.now().timestamp_millis();
                let runs: Vec<(TaskId, Option<meseta_api::AgentId>)> = core
                    .engine()
                    .runs()
                    .filter(|r| r.retry_at.is_none() && reconcilable(r.state, now_ms))
                    .map(|r| (TaskId::new(r.task_id.clone()), r.agent_id.as_deref().map(agent_id)))
                    .collect();
                let _ = sched.reconcile(runs).await;
            }
        }
    }
}

/// How long after its launch a run is first included in a periodic reconciliation.
const RECONCILE_AFTER_LAUNCH_MS: i64 = 10_000;

/// Whether a periodic reconciliation asks the master about a run in this state.
fn reconcilable(state: RunState, now_ms: i64) -> bool {
    match state {
        RunState::Recovered => true,
        RunState::Launched(at) => now_ms - at >= RECONCILE_AFTER_LAUNCH_MS,
        RunState::Waiting | RunState::Queued => false,
    }
}

async fn subscribed(core: &Arc<Core>, sched: &Scheduler, id: &FrameworkId) {
    tracing::info!(framework_id = %id.value, "subscribed");
    if let Err(err) = core.put_meta("framework_id", id.value.clone()).await {
        tracing::error!(%err, "cannot store the framework id");
    }
    let (recovered, kills) = {
        let e = core.engine();
        (e.recovered(), e.all_kills())
    };
    if !recovered.is_empty() {
        tracing::info!(runs = recovered.len(), "reconciling runs in flight");
        let tasks = recovered
            .into_iter()
            .map(|(t, a)| (TaskId::new(t), a.as_deref().map(agent_id)));
        if let Err(err) = sched.reconcile(tasks).await {
            tracing::warn!(%err, "reconcile failed");
        }
    }
    send_kills(sched, kills).await;
    let _ = sched.revive(Vec::new()).await;
}

async fn send_kills(sched: &Scheduler, kills: Vec<(String, Option<String>)>) {
    for (task, agent) in kills {
        if let Err(err) = sched
            .kill(TaskId::new(task.clone()), agent.as_deref().map(agent_id))
            .await
        {
            tracing::warn!(task_id = %task, %err, "kill failed");
        }
    }
}

/// Keeps unused offers while a timer is about to fire and nothing waits (at most
/// [`MAX_HELD`], each for at most [`HOLD_MAX`]); declines the rest.
async fn hold_or_decline(
    core: &Arc<Core>,
    cfg: &FrameworkConfig,
    sched: &Scheduler,
    held: &mut Vec<(Offer, Instant)>,
    unused: Vec<Offer>,
) {
    let (queued, soon) = {
        let e = core.engine();
        let now = core.clock.now();
        let soon = e
            .next_wake()
            .is_some_and(|w| (w - now).to_std().unwrap_or(Duration::ZERO) < HOLD_WINDOW);
        (e.queue_len(), soon)
    };
    let mut declines: Vec<OfferId> = Vec::new();
    held.retain(|(o, since)| {
        let keep = since.elapsed() < HOLD_MAX && (soon || queued > 0);
        if !keep {
            declines.push(o.id.clone());
        }
        keep
    });
    for o in unused {
        if queued == 0 && soon && held.len() < MAX_HELD {
            held.push((o, Instant::now()));
        } else {
            declines.push(o.id);
        }
    }
    if !declines.is_empty() {
        let refuse = if queued == 0 {
            cfg.decline.as_secs_f64()
        } else {
            1.0
        };
        let _ = sched.decline(declines, Some(refuse)).await;
    }
}

/// Places queued runs on offers (in queue order, high priority first), stores them, launches;
/// returns the offers left unused.
async fn offered(
    core: &Arc<Core>,
    cfg: &FrameworkConfig,
    sched: &Scheduler,
    offers: Vec<Offer>,
) -> Vec<Offer> {
    let now = core.clock.now();
    let mut launches: Vec<(OfferId, Vec<TaskInfo>)> = Vec::new();
    let mut unused = Vec::new();
    {
        let mut e = core.engine();
        for offer in &offers {
            let mut left = Remaining::of(offer);
            let has_disk = offer.resources.iter().any(|r| r.name == "disk");
            let candidates: Vec<String> = e.queued().map(|r| r.task_id.clone()).collect();
            let mut tasks = Vec::new();
            for id in candidates {
                let (Some(run), Some(job)) = (e.run(&id), e.run(&id).and_then(|r| e.job(&r.job)))
                else {
                    continue;
                };
                if !constraints_met(job, offer) || !left.take(wanted(job, &cfg.defaults), has_disk)
                {
                    continue;
                }
                tasks.push(task_info(job, run, offer, &cfg.defaults));
                e.mark_launched(&id, &offer.agent_id.value, now);
            }
            if tasks.is_empty() {
                unused.push(offer.clone());
            } else {
                launches.push((offer.id.clone(), tasks));
            }
        }
    }
    if let Err(err) = core.persist().await {
        // Not durable: launching now could repeat after a failover. Put them back.
        tracing::error!(%err, "runs not stored; offers declined");
        let mut ids = Vec::new();
        {
            let mut e = core.engine();
            for (offer, tasks) in launches.drain(..) {
                for t in tasks {
                    e.requeue(&t.task_id.value);
                }
                ids.push(offer);
            }
        }
        let _ = sched.decline(ids, Some(1.0)).await;
    }
    for (offer, tasks) in launches {
        let ids: Vec<String> = tasks.iter().map(|t| t.task_id.value.clone()).collect();
        if let Err(err) = sched.launch(&offer, tasks).await {
            tracing::warn!(%err, "launch failed; runs go back to the queue");
            let mut e = core.engine();
            for id in &ids {
                e.requeue(id);
            }
        } else {
            tracing::debug!(tasks = ?ids, "launched");
        }
    }
    unused
}

/// A status update: counters, retries, dependents; a task we do not know is killed.
async fn updated(core: &Arc<Core>, sched: &Scheduler, status: &TaskStatus) {
    let now = core.clock.now();
    let id = status.task_id.value.clone();
    let out = outcome(status.state);
    tracing::debug!(task_id = %id, state = ?status.state, "status update");
    let known = core.engine().on_status(&id, out, now);
    if !known && !status.state.is_terminal() {
        tracing::info!(task_id = %id, "killing a task of no known run");
        let _ = sched
            .kill(status.task_id.clone(), status.agent_id.clone())
            .await;
    }
    match core.persist().await {
        Ok(()) => {
            if status.uuid.is_some() {
                if let Err(err) = sched.acknowledge(status).await {
                    tracing::debug!(task_id = %id, %err, "acknowledgement not sent");
                }
            }
        }
        Err(err) => {
            tracing::error!(%err, "state not stored after a status update; not acknowledged")
        }
    }
    core.timers_changed.notify_one();
    core.work.notify_one();
}

#[cfg(test)]
mod tests {
    use super::{reconcilable, RunState, RECONCILE_AFTER_LAUNCH_MS};

    #[test]
    fn periodic_reconciliation_skips_runs_the_master_may_not_know_yet() {
        let now = 1_000_000;
        assert!(!reconcilable(RunState::Queued, now));
        assert!(!reconcilable(RunState::Waiting, now));
        assert!(!reconcilable(RunState::Launched(now - 5), now));
        assert!(reconcilable(
            RunState::Launched(now - RECONCILE_AFTER_LAUNCH_MS),
            now
        ));
        assert!(reconcilable(RunState::Recovered, now));
    }
}
