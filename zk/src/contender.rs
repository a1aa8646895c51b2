//! Leader contender, as Mesos's `ZooKeeperMasterContender` (src/master/contender/zookeeper.cpp):
//! an ephemeral-sequential `<path>/<label>_` znode holding this process's data; the lowest
//! sequence under `<path>` leads.
//!
//! States (published on a `watch` channel):
//! ```text
//!  Connecting ──session──► Candidate ◄──────────► Leader
//!      ▲                      │   lower member gone /  │
//!      └──── session lost ────┴── lease expired ───────┘
//! ```
//! Leadership is also bound to a *lease*: every successful round trip to ZooKeeper proves the
//! session alive until at least `send time + session timeout`, so the contender counts itself
//! leader only until `send time + 2/3 × timeout`. A process paused past its session
//! (SIGSTOP/SIGCONT) or cut off from ZooKeeper therefore stops being leader on its own clock,
//! before ZooKeeper can expire its node and let another process lead. [`Contender::is_leader`]
//! checks the lease on each call, so a request served right after SIGCONT is already refused.
//!
//! Dropping the [`Contender`] (or [`Contender::withdraw`]) deletes the node and closes the
//! session, so the next member leads at once (a clean stop) instead of after the timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};
use zookeeper_client::{Client, CreateMode};

use crate::error::ZkError;
use crate::fenced::Fence;
use crate::members::lowest_member;
use crate::session::{Session, SessionEvent};
use crate::url::ZkUrl;

/// Where a contender stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// No session yet (ZooKeeper unreachable, or the last session was lost).
    Connecting,
    /// A member, not the lowest; or the lowest but without a fresh lease.
    Candidate {
        /// This member's znode name, e.g. `json.info_0000000004`.
        node: String,
    },
    /// The lowest member with a fresh lease.
    Leader {
        /// This member's znode name.
        node: String,
        /// Counts elections won by this contender; a new term means state must be recovered.
        term: u64,
    },
}

/// Lease bookkeeping shared by the session task and [`Contender::is_leader`].
#[derive(Debug)]
struct Lease {
    base: Instant,
    /// Milliseconds after `base` until which the session is known alive (0 = never).
    valid_until_ms: AtomicU64,
    /// Whether the lowest-member check last said "ours".
    elected: std::sync::atomic::AtomicBool,
}

impl Lease {
    fn fresh(&self) -> bool {
        let now = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        now < self.valid_until_ms.load(Ordering::SeqCst)
    }

    fn extend(&self, sent: Instant, timeout: Duration) {
        let until = sent.duration_since(self.base) + timeout * 2 / 3;
        let until = u64::try_from(until.as_millis()).unwrap_or(u64::MAX);
        self.valid_until_ms.fetch_max(until, Ordering::SeqCst);
    }

    fn revoke(&self) {
        self.valid_until_ms.store(0, Ordering::SeqCst);
        self.elected.store(false, Ordering::SeqCst);
    }
}

/// The holder of a session and node, for fenced writes.
#[derive(Debug, Clone)]
struct Holder {
    client: Client,
    node_path: String,
}

/// A running contender. See the module docs.
#[derive(Debug)]
pub struct Contender {
    role: watch::Receiver<Role>,
    lease: Arc<Lease>,
    holder: Arc<std::sync::Mutex<Option<Holder>>>,
    withdraw: Option<oneshot::Sender<oneshot::Sender<()>>>,
    task: JoinHandle<()>,
}

impl Contender {
    /// Starts contending under `url.path` as `<label>_<seq>` with `data`, on sessions of
    /// `timeout`. Must be called inside a tokio runtime.
    pub fn spawn(url: ZkUrl, timeout: Duration, label: &str, data: Vec<u8>) -> Contender {
        let (role_tx, role) = watch::channel(Role::Connecting);
        let lease = Arc::new(Lease {
            base: Instant::now(),
            valid_until_ms: AtomicU64::new(0),
            elected: false.into(),
        });
        let holder = Arc::new(std::sync::Mutex::new(None));
        let (withdraw, withdraw_rx) = oneshot::channel();
        let runner = Runner {
            url,
            timeout,
            prefix: label.to_string() + "_",
            data,
            role: role_tx,
            lease: lease.clone(),
            holder: holder.clone(),
            term: 0,
        };
        let task = tokio::spawn(runner.run(withdraw_rx));
        Contender {
            role,
            lease,
            holder,
            withdraw: Some(withdraw),
            task,
        }
    }

    /// The current role (leadership additionally needs [`Contender::is_leader`]'s lease check).
    pub fn role(&self) -> Role {
        self.role.borrow().clone()
    }

    /// A receiver of role changes.
    pub fn subscribe(&self) -> watch::Receiver<Role> {
        self.role.clone()
    }

    /// Whether this process is the leader right now: elected, and the session proven alive
    /// recently enough that ZooKeeper cannot have let another process lead.
    pub fn is_leader(&self) -> bool {
        self.lease.elected.load(Ordering::SeqCst)
            && self.lease.fresh()
            && matches!(*self.role.borrow(), Role::Leader { .. })
    }

    /// A fence for writes that must fail once this process is no longer leader; `None`
    /// when not leader.
    pub fn fence(&self) -> Option<Fence> {
        if !self.is_leader() {
            return None;
        }
        let holder = self
            .holder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        Some(Fence::new(
            holder.client,
            holder.node_path,
            self.lease.clone_checker(),
        ))
    }

    /// The current session's identity (id and password), while a member; lets tests expire
    /// the session from another client, as a partition would.
    pub fn session_info(&self) -> Option<zookeeper_client::SessionInfo> {
        let holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        holder.as_ref().map(|h| h.client.session().clone())
    }

    /// Deletes this member's node and closes the session, waiting (bounded) for ZooKeeper
    /// to confirm, so the next member leads at once.
    pub async fn withdraw(mut self) {
        if let Some(withdraw) = self.withdraw.take() {
            let (done, wait) = oneshot::channel();
            if withdraw.send(done).is_ok() {
                let _ = tokio::time::timeout(Duration::from_secs(2), wait).await;
            }
        }
    }
}

impl Lease {
    fn clone_checker(self: &Arc<Self>) -> LeaseChecker {
        LeaseChecker(self.clone())
    }
}

/// Lets a [`Fence`] refuse to write once the contender's lease has run out.
#[derive(Debug, Clone)]
pub(crate) struct LeaseChecker(Arc<Lease>);

impl LeaseChecker {
    pub(crate) fn valid(&self) -> bool {
        self.0.elected.load(Ordering::SeqCst) && self.0.fresh()
    }
}

impl Drop for Contender {
    fn drop(&mut self) {
        self.lease.revoke();
        if let Some(withdraw) = self.withdraw.take() {
            // The task deletes the node and closes the session; nobody waits for it.
            let (done, _) = oneshot::channel();
            let _ = withdraw.send(done);
        } else {
            self.task.abort();
        }
    }
}

/// The background task behind a [`Contender`].
struct Runner {
    url: ZkUrl,
    timeout: Duration,
    prefix: String,
    data: Vec<u8>,
    role: watch::Sender<Role>,
    lease: Arc<Lease>,
    holder: Arc<std::sync::Mutex<Option<Holder>>>,
    term: u64,
}

/// Why one session's contention ended.
enum End {
    Lost,
    Withdrawn(oneshot::Sender<()>),
}

impl Runner {
    async fn run(mut self, mut withdraw: oneshot::Receiver<oneshot::Sender<()>>) {
        loop {
            self.set_role(Role::Connecting);
            let session = tokio::select! {
                s = Session::connect_retrying(&self.url, self.timeout) => s,
                done = &mut withdraw => {
                    if let Ok(done) = done { let _ = done.send(()); }
                    return;
                }
            };
            info!(zk = %self.url, session = %session.id(), timeout = ?session.timeout(), "ZooKeeper session for leader election");
            let end = match self.contend(&session, &mut withdraw).await {
                Ok(end) => end,
                Err(err) => {
                    warn!(zk = %self.url, "leader contention failed: {err}; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    End::Lost
                }
            };
            self.lease.revoke();
            *self.holder.lock().unwrap_or_else(|e| e.into_inner()) = None;
            if let End::Withdrawn(done) = end {
                self.set_role(Role::Connecting);
                let _ = done.send(());
                return;
            }
        }
    }

    fn set_role(&mut self, role: Role) {
        if matches!(role, Role::Leader { .. })
            && !matches!(*self.role.borrow(), Role::Leader { .. })
        {
            self.term += 1;
        }
        let role = match role {
            Role::Leader { node, .. } => Role::Leader {
                node,
                term: self.term,
            },
            other => other,
        };
        self.role.send_if_modified(|current| {
            if *current == role {
                return false;
            }
            info!(zk = %self.url, from = ?current, to = ?role, "leader election role changed");
            *current = role;
            true
        });
    }

    async fn contend(
        &mut self,
        session: &Session,
        withdraw: &mut oneshot::Receiver<oneshot::Sender<()>>,
    ) -> Result<End, ZkError> {
        let client = session.client();
        let group = self.url.path.clone();
        session.ensure_path(&group).await?;
        let member_prefix = self.url.child(&self.prefix);
        let options = session.options(CreateMode::EphemeralSequential);
        let (_, sequence) = client
            .create(&member_prefix, &self.data, &options)
            .await
            .map_err(ZkError::op("create", &member_prefix))?;
        let node = format!("{}{sequence}", self.prefix);
        let node_path = self.url.child(&node);
        *self.holder.lock().unwrap_or_else(|e| e.into_inner()) = Some(Holder {
            client: client.clone(),
            node_path: node_path.clone(),
        });
        let mut events = session.events();
        let ping_every = session.timeout() / 6;
        let mut ping = tokio::time::interval(ping_every);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.lease.extend(Instant::now(), session.timeout());
        loop {
            let sent = Instant::now();
            let (children, watcher) = match client.list_and_watch_children(&group).await {
                Ok(listing) => listing,
                Err(zookeeper_client::Error::ConnectionLoss) => {
                    tokio::time::sleep(ping_every).await;
                    continue;
                }
                Err(err) => return Err(ZkError::op("list", &group)(err)),
            };
            self.lease.extend(sent, session.timeout());
            if !children.contains(&node) {
                warn!(zk = %self.url, node, "our election node disappeared; contending again");
                let _ = client.delete(&node_path, None).await;
                return Ok(End::Lost);
            }
            let lowest = lowest_member(&children).map(|m| m.name);
            let elected = lowest.as_deref() == Some(node.as_str());
            self.lease.elected.store(elected, Ordering::SeqCst);
            self.publish(&node);
            let changed = watcher.changed();
            tokio::pin!(changed);
            loop {
                tokio::select! {
                    _ = &mut changed => break,
                    event = events.next() => match event {
                        SessionEvent::Lost => {
                            warn!(zk = %self.url, node, "ZooKeeper session lost; leadership (if any) lost");
                            return Ok(End::Lost);
                        }
                        SessionEvent::Disconnected => {
                            warn!(zk = %self.url, "ZooKeeper connection lost; leadership lapses with the lease");
                        }
                        SessionEvent::Connected => break,
                    },
                    _ = ping.tick() => {
                        let sent = Instant::now();
                        tracing::debug!(node, elected = self.lease.elected.load(Ordering::SeqCst), fresh = self.lease.fresh(), "lease tick");
                        // Bounded so a silent server cannot stall withdrawals or publishing.
                        match tokio::time::timeout(ping_every, client.check_stat(&node_path)).await {
                            Ok(Ok(Some(_))) => self.lease.extend(sent, session.timeout()),
                            Ok(Ok(None)) => break,
                            _ => {}
                        }
                        self.publish(&node);
                    }
                    done = &mut *withdraw => {
                        self.lease.revoke();
                        let _ = tokio::time::timeout(Duration::from_secs(2), client.delete(&node_path, None)).await;
                        info!(zk = %self.url, node, "withdrew from leader election");
                        return Ok(match done {
                            Ok(done) => End::Withdrawn(done),
                            Err(_) => End::Withdrawn(oneshot::channel().0),
                        });
                    }
                }
            }
        }
    }

    /// Publishes Leader or Candidate from the elected flag and the lease.
    fn publish(&mut self, node: &str) {
        let leader = self.lease.elected.load(Ordering::SeqCst) && self.lease.fresh();
        if leader {
            self.set_role(Role::Leader {
                node: node.to_string(),
                term: 0,
            });
        } else {
            self.set_role(Role::Candidate {
                node: node.to_string(),
            });
        }
    }
}
