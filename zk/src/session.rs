//! ZooKeeper sessions: connecting with retries (one clear log line while ZooKeeper is
//! unreachable), digest authentication and the ACL Mesos uses (src/zookeeper/group.cpp), and a
//! session-state stream in which "expired" and "closed" are events.
//!
//! The session timeout is negotiated: ZooKeeper clamps it to 2–20 × its `tickTime` (4–40 s with
//! the default 2 s tick), so the timeout actually in force is [`Session::timeout`], not the one
//! asked for.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::time::sleep;
use tracing::{info, warn};
use zookeeper_client::{Acl, Acls, Client, CreateMode, CreateOptions, Permission, SessionState};

use crate::error::ZkError;
use crate::url::ZkUrl;

/// Mesos's `--zk_session_timeout` default.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// `ZOO_READ_ACL_UNSAFE` for everyone plus `ZOO_CREATOR_ALL_ACL`: Mesos's
/// `EVERYONE_READ_CREATOR_ALL`, used when the URL carries credentials.
static EVERYONE_READ_CREATOR_ALL: [Acl; 2] = [
    Acl::new_const(Permission::READ, "world", "anyone"),
    Acl::new_const(Permission::ALL, "auth", ""),
];

/// The ACL for nodes created on sessions of `url`: Mesos's `EVERYONE_READ_CREATOR_ALL` with
/// credentials, else open.
pub fn acls_for(url: &ZkUrl) -> Acls<'static> {
    if url.credentials.is_some() {
        Acls::new(&EVERYONE_READ_CREATOR_ALL)
    } else {
        Acls::anyone_all()
    }
}

/// Ensembles this process has reported unreachable (and not yet reachable again).
fn unreachable_set() -> &'static Mutex<HashSet<String>> {
    static SET: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    SET.get_or_init(Default::default)
}

/// When each ensemble was last reported reachable again: a server that has just come back
/// may refuse a second session for a moment, which is the same outage, not a new one.
fn recovered_at() -> &'static Mutex<HashMap<String, std::time::Instant>> {
    static MAP: OnceLock<Mutex<HashMap<String, std::time::Instant>>> = OnceLock::new();
    MAP.get_or_init(Default::default)
}

/// How long after a recovery a failure is still counted as the same outage.
const SAME_OUTAGE: Duration = Duration::from_secs(30);

/// What happened to a session, as seen by its users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// Connected (again) to a server; the session and its ephemeral nodes are intact.
    Connected,
    /// The connection dropped; the session may still be alive on the servers.
    Disconnected,
    /// The session is gone for good (expired, closed, or authentication failed): its
    /// ephemeral nodes are deleted and a new session is needed.
    Lost,
}

/// A connected ZooKeeper session for one `zk://` URL.
#[derive(Debug, Clone)]
pub struct Session {
    client: Client,
    url: ZkUrl,
}

impl Session {
    /// Connects once, waiting at most about `timeout` for a server to answer.
    pub async fn connect(url: &ZkUrl, timeout: Duration) -> Result<Session, ZkError> {
        let mut connector = Client::connector().with_session_timeout(timeout);
        if let Some(credentials) = &url.credentials {
            let auth = format!("{}:{}", credentials.user, credentials.password);
            connector = connector.with_auth("digest", auth.as_bytes());
        }
        let servers = url.connect_string();
        let client = connector
            .connect(&servers)
            .await
            .map_err(|source| ZkError::Connect {
                servers: url.to_string(),
                source,
            })?;
        Ok(Session {
            client,
            url: url.clone(),
        })
    }

    /// Connects, retrying forever with a capped backoff. Says once per process and ZooKeeper ensemble (a
    /// contender and a detector of one process share the line) that ZooKeeper is
    /// unreachable, and once that it answers again.
    pub async fn connect_retrying(url: &ZkUrl, timeout: Duration) -> Session {
        // The servers, not the path: a master's election and registry sessions share the line.
        let key = url.connect_string();
        let mut backoff = Duration::from_millis(200);
        loop {
            match Session::connect(url, timeout).await {
                Ok(session) => {
                    if unreachable_set()
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&key)
                    {
                        info!(zk = %url, "ZooKeeper reachable again");
                        recovered_at()
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(key.clone(), std::time::Instant::now());
                    }
                    return session;
                }
                Err(err) => {
                    let just_recovered = recovered_at()
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&key)
                        .is_some_and(|at| at.elapsed() < SAME_OUTAGE);
                    let new_outage = unreachable_set()
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key.clone());
                    if new_outage && !just_recovered {
                        warn!(zk = %url, "ZooKeeper unreachable ({err}); retrying until it answers");
                    } else if new_outage {
                        tracing::debug!(zk = %url, %err, "ZooKeeper refused a session just after it came back; retrying");
                    }
                    sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// The underlying client (for reads and writes this crate does not wrap).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The URL this session was made for.
    pub fn url(&self) -> &ZkUrl {
        &self.url
    }

    /// The session timeout the servers granted.
    pub fn timeout(&self) -> Duration {
        self.client.session_timeout()
    }

    /// The session id, as ZooKeeper's logs show it.
    pub fn id(&self) -> String {
        format!("{:#x}", self.client.session_id().0)
    }

    /// The ACL for nodes this session creates: Mesos's `EVERYONE_READ_CREATOR_ALL` with
    /// credentials, else open.
    pub fn acls(&self) -> Acls<'static> {
        acls_for(&self.url)
    }

    /// Options for a node of `mode` with [`Session::acls`].
    pub fn options(&self, mode: CreateMode) -> CreateOptions<'static> {
        mode.with_acls(self.acls())
    }

    /// Creates `path` and its missing ancestors as persistent nodes (`mkdir -p`).
    pub async fn ensure_path(&self, path: &str) -> Result<(), ZkError> {
        if path == "/" {
            return Ok(());
        }
        self.client
            .mkdir(path, &self.options(CreateMode::Persistent))
            .await
            .map_err(ZkError::op("create", path))
    }

    /// A stream of what happens to this session.
    pub fn events(&self) -> SessionEvents {
        SessionEvents {
            watcher: self.client.state_watcher(),
            ended: false,
        }
    }

    /// Whether the session has ended for good.
    pub fn is_lost(&self) -> bool {
        matches!(
            self.client.state(),
            SessionState::Expired | SessionState::Closed | SessionState::AuthFailed
        )
    }
}

/// Session state changes of one [`Session`], as [`SessionEvent`]s.
#[derive(Debug)]
pub struct SessionEvents {
    watcher: zookeeper_client::StateWatcher,
    ended: bool,
}

impl SessionEvents {
    /// Waits for the next change. After [`SessionEvent::Lost`] it never returns again.
    pub async fn next(&mut self) -> SessionEvent {
        if self.ended {
            return std::future::pending().await;
        }
        let event = match self.watcher.changed().await {
            SessionState::SyncConnected | SessionState::ConnectedReadOnly => {
                SessionEvent::Connected
            }
            SessionState::Disconnected => SessionEvent::Disconnected,
            SessionState::Expired | SessionState::Closed | SessionState::AuthFailed => {
                SessionEvent::Lost
            }
        };
        self.ended = event == SessionEvent::Lost;
        event
    }
}
