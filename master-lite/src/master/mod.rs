//! The master's in-memory state machine: frameworks, agents, tasks, offers and
//! the DRF allocator, behind one mutex ([`Shared`]).
//!
//! Every method runs synchronously under the lock and never awaits: events for
//! schedulers and agents are pre-encoded RecordIO records pushed into
//! unbounded channels ([`Sink`]) that the HTTP layer streams out. The registry
//! is written (fsync) only when agents or frameworks are added or removed;
//! new agents are batched by group commit (`commit.rs`).
//!
//! Split by concern: `frameworks.rs` (SUBSCRIBE, TEARDOWN, failover),
//! `agents.rs` (agent channel, status updates, removal), `offers.rs`
//! (allocation, ACCEPT/DECLINE, rescinds), `tasks.rs` (validation, KILL,
//! RECONCILE, ACKNOWLEDGE, MESSAGE), `housekeeping.rs` (timers), `render.rs`
//! (`/state` and `/metrics/snapshot`), `operator.rs` (reservations, agent
//! deactivation, MARK_AGENT_GONE), `roles.rs` (weights, quota, the role
//! view), `drain.rs` (DRAIN_AGENT), `unreachable.rs` (agent health: PING/PONG,
//! marking agents unreachable, re-admitting them).

mod agents;
pub mod commit;
mod drain;
mod events;
mod frameworks;
pub mod guard;
mod housekeeping;
mod offers;
mod operator;
mod recovery;
pub mod render;
mod roles;
mod sink;
mod tasks;
mod unreachable;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub use agents::AgentSubscribed;
use meseta_api::{
    Address, AgentInfo, Bytes, ExecutorInfo, FrameworkCapabilityType, FrameworkInfo, MasterInfo,
    Offer, Task, TaskState,
};
pub use roles::RoleInfo;
pub use sink::{Sink, SinkReceiver};
use tokio::sync::Notify;

use crate::allocator::{Allocator, AllocatorConfig, Resources};
use crate::flags::MasterConfig;
use crate::registry::{Registry, RegistryError};

/// The Mesos version this master reports (pymesos checks it).
pub const MESOS_VERSION: &str = "1.11.0";

/// Completed tasks kept per framework (`--max_completed_tasks_per_framework`).
const MAX_COMPLETED_TASKS: usize = 1000;
/// Completed frameworks kept (`--max_completed_frameworks`).
const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// Why a call was refused; the HTTP layer maps each kind to a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Malformed or invalid call (400).
    #[error("{0}")]
    BadRequest(String),
    /// Caller not subscribed, or the wrong stream (403).
    #[error("{0}")]
    Forbidden(String),
    /// The registry could not be written (500).
    #[error("{0}")]
    Internal(String),
}

impl From<RegistryError> for CallError {
    fn from(e: RegistryError) -> Self {
        CallError::Internal(e.to_string())
    }
}

/// The master state shared by all connections.
pub type Shared = Arc<Mutex<Master>>;

/// Locks the master. A handler that panics while holding the lock ends the process (see
/// [`guard`]): a half-updated master must not go on serving.
pub fn lock(shared: &Shared) -> guard::LockedOrAbort<'_, Master> {
    guard::lock_or_abort(shared, "master state")
}

/// A task the master knows about.
#[derive(Debug, Clone)]
pub struct TaskRec {
    /// The `mesos.v1.Task` record (state, statuses, resources).
    pub task: Task,
    /// Resources charged to the allocator (tagged with the allocation role).
    pub alloc: Resources,
    /// UUID of the latest status update applied.
    pub last_uuid: Option<Bytes>,
}

/// An executor the master launched (custom executors only).
#[derive(Debug, Clone)]
pub struct ExecutorRec {
    /// The executor.
    pub info: ExecutorInfo,
    /// Its resources as charged to the allocator.
    pub alloc: Resources,
}

/// A scheduler's open event stream.
#[derive(Debug, Clone)]
pub struct Stream {
    /// Where events go.
    pub sink: Sink,
    /// The `Mesos-Stream-Id` given on SUBSCRIBE.
    pub id: String,
}

/// A framework.
#[derive(Debug)]
pub struct Framework {
    /// Framework id.
    pub id: String,
    /// Its info, `id` filled in.
    pub info: FrameworkInfo,
    /// Subscribed roles.
    pub roles: Vec<String>,
    /// The event stream, while subscribed.
    pub stream: Option<Stream>,
    /// Seconds since the epoch.
    pub registered_time: f64,
    /// Last re-subscription.
    pub reregistered_time: Option<f64>,
    /// When the stream broke (failover timer start).
    pub disconnected_at: Option<Instant>,
    /// Non-terminal tasks by id.
    pub tasks: HashMap<String, TaskRec>,
    /// Tasks on agents marked unreachable, by id (`TASK_UNREACHABLE`, or `TASK_LOST` for
    /// frameworks that are not PARTITION_AWARE); re-added if their agent comes back.
    pub unreachable_tasks: HashMap<String, TaskRec>,
    /// Terminal tasks, oldest first.
    pub completed_tasks: VecDeque<TaskRec>,
    /// Outstanding offers.
    pub offers: HashSet<String>,
    /// Running executors by (agent id, executor id).
    pub executors: HashMap<(String, String), ExecutorRec>,
    /// Known (from the registry or an agent) but not subscribed since.
    pub recovered: bool,
}

impl Framework {
    /// Whether the framework opted into partition awareness.
    pub fn partition_aware(&self) -> bool {
        self.info
            .has_capability(FrameworkCapabilityType::PartitionAware)
    }
}

/// A registered agent.
#[derive(Debug)]
pub struct Agent {
    /// Agent id.
    pub id: String,
    /// Its info, `id` filled in.
    pub info: AgentInfo,
    /// Agent software version.
    pub version: String,
    /// The event stream, while connected.
    pub sink: Option<Sink>,
    /// Seconds since the epoch.
    pub registered_time: f64,
    /// Last re-registration.
    pub reregistered_time: Option<f64>,
    /// When the stream broke.
    pub disconnected_at: Option<Instant>,
    /// Deactivated by the operator (DEACTIVATE_AGENT): no offers until
    /// REACTIVATE_AGENT.
    pub deactivated: bool,
    /// Operator RESERVE/UNRESERVE operations applied to the agent, replayed
    /// over the resources it reports when it re-registers.
    pub operations: Vec<crate::allocator::Operation>,
    /// DRAIN_AGENT progress, if the agent is being (or was) drained.
    pub drain: Option<meseta_api::DrainInfo>,
    /// A PING was sent and no PONG has come since.
    pub pinged: bool,
    /// PINGs in a row that went unanswered (`--max_agent_ping_timeouts` → unreachable).
    pub ping_timeouts: u32,
}

impl Agent {
    /// `slave(1)@ip:port` style pid.
    pub fn pid(&self) -> String {
        format!(
            "slave(1)@{}:{}",
            self.info.hostname,
            self.info.port.unwrap_or(5051)
        )
    }
}

/// An outstanding offer.
#[derive(Debug, Clone)]
pub struct OfferRec {
    /// The offer as sent.
    pub offer: Offer,
    /// Its resources (tagged with the allocation role).
    pub alloc: Resources,
    /// When it was made (for `--offer_timeout`).
    pub created: Instant,
}

/// Counters behind `/metrics/snapshot`.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Terminal transitions by state name (`finished`, `failed`, ...).
    pub terminal: HashMap<&'static str, u64>,
    /// Messages received by kind (`messages_launch_tasks`, ...).
    pub messages: HashMap<&'static str, u64>,
    /// Valid status updates from agents.
    pub valid_status_updates: u64,
    /// Status updates for unknown tasks/frameworks.
    pub invalid_status_updates: u64,
    /// Allocation cycles.
    pub allocation_runs: u64,
    /// Duration of the latest allocation cycle, ms.
    pub last_allocation_ms: f64,
    /// Agents removed after ping timeouts.
    pub agents_removed: u64,
}

impl Counters {
    /// Counts one received message of `kind`.
    pub fn message(&mut self, kind: &'static str) {
        *self.messages.entry(kind).or_insert(0) += 1;
    }

    /// Counts a task leaving the active set in `state`.
    pub fn count_terminal(&mut self, state: TaskState) {
        let key = match state {
            TaskState::Finished => "finished",
            TaskState::Failed => "failed",
            TaskState::Killed => "killed",
            TaskState::Lost => "lost",
            TaskState::Error => "error",
            TaskState::Dropped => "dropped",
            TaskState::Gone | TaskState::GoneByOperator => "gone",
            TaskState::Unreachable => "unreachable",
            _ => return,
        };
        *self.terminal.entry(key).or_insert(0) += 1;
    }
}

/// The master.
#[derive(Debug)]
pub struct Master {
    /// Configuration.
    pub config: MasterConfig,
    /// What SUBSCRIBED / REGISTERED carry.
    pub info: MasterInfo,
    /// Process start, seconds since the epoch.
    pub start_time: f64,
    epoch: Instant,
    registry: Registry,
    commit: commit::GroupCommit,
    allocator: Allocator,
    /// Frameworks by id.
    pub frameworks: HashMap<String, Framework>,
    /// Torn-down frameworks, oldest first.
    pub completed_frameworks: VecDeque<Framework>,
    /// Agents by id.
    pub agents: HashMap<String, Agent>,
    /// Agents removed while this master ran; they must not re-register.
    removed_agents: HashSet<String>,
    /// Offers by id.
    pub offers: HashMap<String, OfferRec>,
    next_offer: u64,
    /// Metrics.
    pub counters: Counters,
    alloc_notify: Arc<Notify>,
    last_heartbeat: Instant,
    last_agent_heartbeat: Instant,
    /// Operator event streams (SUBSCRIBE on `/api/v1`).
    operator_streams: Vec<events::OperatorStream>,
}

/// Seconds since the epoch.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Master {
    /// Opens the registry in `config.work_dir` and builds the master; `port`
    /// is the bound port (when `config.port` is 0).
    pub fn new(config: MasterConfig, port: u16) -> Result<Self, RegistryError> {
        let registry = Registry::open(&config.work_dir)?;
        Ok(Master::with_registry(config, port, registry))
    }

    /// Builds the master over `registry` (recovering its frameworks, weights and quotas).
    pub fn with_registry(config: MasterConfig, port: u16, registry: Registry) -> Self {
        let ip = config.advertise_ip;
        let info = MasterInfo {
            id: registry.data.master_id.clone(),
            ip: MasterInfo::encode_ip(ip),
            port: u32::from(port),
            pid: Some(format!("master@{ip}:{port}")),
            hostname: Some(config.hostname.clone()),
            version: Some(MESOS_VERSION.into()),
            address: Some(Address {
                hostname: Some(config.hostname.clone()),
                ip: Some(ip.to_string()),
                port: i32::from(port),
            }),
            ..MasterInfo::default()
        };
        let allocator = Allocator::new(AllocatorConfig {
            allocation_interval: config.allocation_interval,
            role_sorter: config.role_sorter,
            framework_sorter: config.framework_sorter,
            // Validated with the flags.
            min_allocatable_resources: crate::allocator::parse_min_allocatable(
                &config.min_allocatable_resources,
            )
            .unwrap_or_default(),
            fair_sharing_excluded_resource_names: config
                .fair_sharing_excluded_resource_names
                .clone(),
            seed: u64::from(port) ^ 0x5eed,
            ..AllocatorConfig::default()
        });
        let now = Instant::now();
        let mut m = Master {
            config,
            info,
            start_time: now_secs(),
            epoch: now,
            registry,
            commit: commit::GroupCommit::default(),
            allocator,
            frameworks: HashMap::new(),
            completed_frameworks: VecDeque::new(),
            agents: HashMap::new(),
            removed_agents: HashSet::new(),
            offers: HashMap::new(),
            next_offer: 0,
            counters: Counters::default(),
            alloc_notify: Arc::new(Notify::new()),
            last_heartbeat: now,
            last_agent_heartbeat: now,
            operator_streams: Vec::new(),
        };
        m.recover_frameworks();
        m.recover_roles();
        m
    }

    /// Replaces all state with a master built over `registry` (a newly elected leader's
    /// recovery, or an empty follower after losing leadership), keeping this process's
    /// `MasterInfo`, start time and the notifiers the server's tasks wait on. Dropping the
    /// old state closes every framework and agent stream, so they reconnect.
    pub fn reset(&mut self, registry: Registry) {
        let port = u16::try_from(self.info.port).unwrap_or_default();
        let mut fresh = Master::with_registry(self.config.clone(), port, registry);
        fresh.info = self.info.clone();
        fresh.start_time = self.start_time;
        fresh.alloc_notify = Arc::clone(&self.alloc_notify);
        fresh.commit.keep_notify(&self.commit);
        *self = fresh;
    }

    /// The registry contents.
    pub fn registry_data(&self) -> &crate::registry::RegistryData {
        &self.registry.data
    }

    /// Wakes the allocation loop (coalesced).
    pub fn alloc_notify(&self) -> Arc<Notify> {
        Arc::clone(&self.alloc_notify)
    }

    fn trigger_allocation(&self) {
        self.alloc_notify.notify_one();
    }

    /// Allocator clock: nanoseconds since the master started.
    fn now_nanos(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The master id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// `master@ip:port`.
    pub fn pid(&self) -> String {
        self.info.pid.clone().unwrap_or_default()
    }

    fn save_registry(&mut self) -> Result<(), RegistryError> {
        if self.registry.is_replicated() {
            // Written by the committer, fenced, outside the lock (`crate::ha`).
            self.request_commit();
            return Ok(());
        }
        self.registry.save()?;
        self.registry_saved();
        Ok(())
    }

    /// Frameworks from the registry, as disconnected "recovered" frameworks:
    /// they get their tasks back when agents re-register and can re-subscribe.
    fn recover_frameworks(&mut self) {
        let infos: Vec<(String, FrameworkInfo)> = self
            .registry
            .data
            .frameworks
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (id, info) in infos {
            self.insert_recovered_framework(&id, info);
        }
    }

    fn insert_recovered_framework(&mut self, id: &str, info: FrameworkInfo) {
        let roles = effective_roles(&info);
        let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
        if let Err(err) = self.allocator.add_framework(id, &role_refs, &[], false) {
            tracing::warn!(framework_id = %id, %err, "cannot add recovered framework");
        }
        self.frameworks.insert(
            id.to_string(),
            Framework {
                id: id.to_string(),
                info,
                roles,
                stream: None,
                registered_time: now_secs(),
                reregistered_time: None,
                disconnected_at: Some(Instant::now()),
                tasks: HashMap::new(),
                unreachable_tasks: HashMap::new(),
                completed_tasks: VecDeque::new(),
                offers: HashSet::new(),
                executors: HashMap::new(),
                recovered: true,
            },
        );
    }
}

/// Roles as the master sees them (`*` if none).
pub fn effective_roles(info: &FrameworkInfo) -> Vec<String> {
    let r = info.effective_roles();
    if r.is_empty() {
        vec!["*".into()]
    } else {
        r
    }
}

fn push_completed<T>(q: &mut VecDeque<T>, item: T, max: usize) {
    q.push_back(item);
    while q.len() > max {
        q.pop_front();
    }
}
