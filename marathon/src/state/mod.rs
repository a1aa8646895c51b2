//! Marathon's state machine: apps and their versions, instances, deployments, the launch
//! queue with its backoff, and health. [`Core`] is synchronous and does no I/O: each change
//! queues its store writes ([`StoreOp`]) and its Mesos calls ([`Command`]); [`Shared::mutate`]
//! runs a change, writes the store, and only then hands the calls to the driver, so nothing
//! launched or promised is missing from ZooKeeper after a `kill -9`.

mod apps;
mod deploy;
mod groups;
mod persist;
mod shared;
mod tasks;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_groups;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use meseta_api::{AgentId, OfferId, TaskId, TaskInfo};
use serde_json::Value;

use crate::events::EventBus;
use crate::health::HealthState;
use crate::model::{App, Deployment, Instance, PathId};
use crate::store::StoreOp;
pub use apps::DeploymentResult;
pub use shared::Shared;

/// A call to Mesos that the state machine wants made.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// ACCEPT with LAUNCH.
    Launch {
        /// The offer.
        offer_id: OfferId,
        /// The tasks.
        tasks: Vec<TaskInfo>,
    },
    /// DECLINE.
    Decline {
        /// The offers.
        offer_ids: Vec<OfferId>,
        /// Filter length.
        refuse_seconds: f64,
    },
    /// KILL with an optional grace period (seconds).
    Kill {
        /// The task.
        task_id: TaskId,
        /// Its agent.
        agent_id: Option<AgentId>,
        /// SIGTERM to SIGKILL.
        grace_seconds: Option<f64>,
    },
    /// Explicit reconciliation of these tasks.
    Reconcile(Vec<(TaskId, Option<AgentId>)>),
    /// Implicit reconciliation.
    ReconcileAll,
    /// REVIVE (offers are wanted again).
    Revive,
    /// SUPPRESS (nothing to launch).
    Suppress,
}

/// What the state machine needs of the flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--task_launch_timeout`.
    pub task_launch_timeout: Duration,
    /// `--launch_tokens`.
    pub launch_tokens: u32,
    /// `--launch_token_refresh_interval`.
    pub launch_token_refresh: Duration,
    /// `--max_instances_per_offer`.
    pub max_instances_per_offer: u32,
    /// `--decline_offer_duration` in seconds.
    pub decline_seconds: f64,
    /// `--mesos_role`.
    pub role: String,
    /// `--mesos_user` (default user of tasks).
    pub default_user: Option<String>,
    /// Service port range.
    pub service_ports: (u16, u16),
    /// `--zk_max_versions`.
    pub max_versions: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            task_launch_timeout: Duration::from_secs(300),
            launch_tokens: 100,
            launch_token_refresh: Duration::from_secs(30),
            max_instances_per_offer: 5,
            decline_seconds: 120.0,
            role: "*".into(),
            default_user: None,
            service_ports: (10_000, 20_000),
            max_versions: 50,
        }
    }
}

/// Relaunch delay of an app after failures.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// Current delay.
    pub delay: Duration,
    /// No launch before this.
    pub until: Instant,
}

/// The whole state.
#[derive(Debug)]
pub struct Core {
    /// Settings from the flags.
    pub settings: Settings,
    /// Current app definitions.
    pub apps: BTreeMap<PathId, App>,
    /// Every kept version of each app, oldest first.
    pub versions: BTreeMap<PathId, BTreeMap<String, App>>,
    /// Instances by task id.
    pub instances: BTreeMap<String, Instance>,
    /// Running deployments, by id.
    pub deployments: BTreeMap<String, Deployment>,
    /// The framework id, once subscribed.
    pub framework_id: Option<String>,
    /// Relaunch delays.
    pub backoff: HashMap<PathId, Backoff>,
    /// Last task failure per app (`lastTaskFailure`).
    pub last_failure: HashMap<PathId, Value>,
    /// Marathon-side health per task.
    pub health: HashMap<String, HealthState>,
    /// Launch tokens left.
    pub launch_tokens: u32,
    /// When the tokens were last refilled.
    pub tokens_refilled: Instant,
    /// Whether offers are suppressed.
    pub suppressed: bool,
    /// Offers were declined with the long filter since the last REVIVE.
    pub declined_long: bool,
    /// An offer was declined for want of launch tokens: the next token returned revives.
    pub token_starved: bool,
    /// Something the periodic pass acts on changed (demand, readiness, deployments): run
    /// it now rather than at the next [`TICK`](crate::sched::driver) (see
    /// [`Shared::kicked`]).
    pub kick: bool,
    /// Whether the driver is subscribed.
    pub subscribed: bool,
    /// Kills sent and when, for retries.
    pub kills_sent: HashMap<String, Instant>,
    /// The last version handed out (versions are strictly increasing).
    last_version: String,
    pending: Vec<StoreOp>,
    outbox: Vec<Command>,
    /// Events for the bus.
    pub events: EventBus,
}

impl Core {
    /// An empty state.
    pub fn new(settings: Settings, events: EventBus) -> Self {
        Self {
            launch_tokens: settings.launch_tokens,
            settings,
            apps: BTreeMap::new(),
            versions: BTreeMap::new(),
            instances: BTreeMap::new(),
            deployments: BTreeMap::new(),
            framework_id: None,
            backoff: HashMap::new(),
            last_failure: HashMap::new(),
            health: HashMap::new(),
            tokens_refilled: Instant::now(),
            suppressed: false,
            declined_long: false,
            token_starved: false,
            kick: false,
            subscribed: false,
            kills_sent: HashMap::new(),
            last_version: String::new(),
            pending: Vec::new(),
            outbox: Vec::new(),
            events,
        }
    }

    /// A new version timestamp, later than every one before.
    pub fn next_version(&mut self) -> String {
        let mut v = crate::model::timestamp();
        if v <= self.last_version {
            let last = chrono::DateTime::parse_from_rfc3339(&self.last_version)
                .map(|t| t + chrono::Duration::milliseconds(1))
                .unwrap_or_else(|_| chrono::Utc::now().into());
            v = last
                .with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
        }
        self.last_version.clone_from(&v);
        v
    }

    /// Queues a Mesos call.
    pub fn command(&mut self, c: Command) {
        self.outbox.push(c);
    }

    /// Instances of `app`.
    pub fn instances_of<'a>(&'a self, app: &'a str) -> impl Iterator<Item = &'a Instance> + 'a {
        self.instances.values().filter(move |i| i.app_id == app)
    }

    /// The deployment acting on `app`, if any.
    pub fn deployment_of(&self, app: &str) -> Option<&Deployment> {
        self.deployments.values().find(|d| d.affects(app))
    }
}
