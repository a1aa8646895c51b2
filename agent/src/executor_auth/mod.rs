//! Who may make an executor API call.
//!
//! Two independent checks (the HTTP side, `http::executor_auth`, applies them):
//! - **Mesos's executor authentication** (`--authenticate_http_executors`,
//!   `--jwt_secret_key`): every executor gets an HS256 JWT ([`jwt`]) in
//!   `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` with the claims `fid`, `eid` and `cid` (Mesos
//!   `Slave::generateSecret`), and must send it as `Authorization: Bearer`.
//! - **The peer check** (Meseta, on by default, needs nothing from executors): the TCP peer
//!   of the call must be a process of that executor's container. [`sock_diag`] finds the
//!   inode of the caller's socket from the connection's 4-tuple; [`procs`] looks for
//!   `socket:[inode]` among the file descriptors of the container's processes.

pub mod jwt;
pub mod procs;
pub mod sock_diag;

use std::net::SocketAddr;
use std::path::Path;

use isolators::Cgroups;

use crate::flags::executor_auth::JwtKey;

/// Mesos's claim names (`src/slave/slave.cpp`, `src/slave/http.cpp`).
pub const CLAIM_FRAMEWORK: &str = "fid";
/// The executor id claim.
pub const CLAIM_EXECUTOR: &str = "eid";
/// The container id claim.
pub const CLAIM_CONTAINER: &str = "cid";
/// The executor's environment variable holding its token.
pub const TOKEN_ENV: &str = "MESOS_EXECUTOR_AUTHENTICATION_TOKEN";
/// Mesos's `EXECUTOR_HTTP_AUTHENTICATION_REALM`.
pub const REALM: &str = "mesos-agent-executor";

/// Both ends of an HTTP connection, attached to each request by the accept loop
/// (`meseta_httpd::serve` puts it in every request's extensions).
pub use meseta_httpd::ConnInfo as Connection;

/// The token of executor `executor_id` of `framework_id` running in `container_id`.
pub fn token(key: &JwtKey, framework_id: &str, executor_id: &str, container_id: &str) -> String {
    jwt::create(
        &[
            (CLAIM_FRAMEWORK, framework_id),
            (CLAIM_EXECUTOR, executor_id),
            (CLAIM_CONTAINER, container_id),
        ],
        &key.0,
    )
}

/// Where a container's processes are found.
#[derive(Debug, Clone)]
pub struct ContainerProcesses {
    /// The container id (its cgroup's name).
    pub container_id: String,
    /// The agent's cgroups, when a cgroup isolator is on.
    pub cgroups: Option<Cgroups>,
    /// The root of the container's process tree (its supervisor); 0 when unknown.
    pub tree_root: i32,
}

/// Why a caller was not recognised as a process of the container.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The caller's socket could not be found.
    #[error("cannot identify the caller's socket: {0}")]
    Socket(#[from] sock_diag::SockDiagError),
    /// No process of the container holds the socket.
    #[error("the caller {peer} is not a process of container {container_id}")]
    Outside {
        /// The caller's address.
        peer: SocketAddr,
        /// The container.
        container_id: String,
    },
}

/// Sockets already found in a container, by inode: an executor sends its calls on one
/// kept-alive connection, and only the first call on it pays for the walk over its
/// container's file descriptors.
///
/// Sound because the inode is looked up afresh (sock_diag, from the connection's addresses)
/// for every call: a live socket's inode names that one socket (the kernel numbers inodes
/// from one counter), and a socket that a container process held was the container's to
/// hand on. Bounded: emptied when it reaches [`PeerCache::CAPACITY`] entries.
#[derive(Debug, Default)]
pub struct PeerCache {
    found: std::sync::Mutex<std::collections::HashMap<u32, (String, i32)>>,
}

impl PeerCache {
    /// Most sockets remembered (a few per running executor).
    pub const CAPACITY: usize = 4096;

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<u32, (String, i32)>> {
        // A plain map of verified facts: a panic elsewhere cannot leave it half-updated.
        self.found.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The process of `container_id` that was found holding socket `inode`, if any.
    fn get(&self, inode: u32, container_id: &str) -> Option<i32> {
        self.lock()
            .get(&inode)
            .filter(|(c, _)| c == container_id)
            .map(|(_, pid)| *pid)
    }

    fn insert(&self, inode: u32, container_id: &str, pid: i32) {
        let mut found = self.lock();
        if found.len() >= Self::CAPACITY {
            found.clear();
        }
        found.insert(inode, (container_id.to_owned(), pid));
    }
}

/// Checks that the client end of `conn` is open in a process of `container` and returns
/// that process. Blocking (netlink and `/proc`): run it on a blocking thread.
pub fn peer_in_container(
    proc_root: &Path,
    conn: Connection,
    container: &ContainerProcesses,
    cache: &PeerCache,
) -> Result<i32, PeerError> {
    let inode = sock_diag::tcp_socket_inode(conn.peer, conn.local)?;
    if let Some(pid) = cache.get(inode, &container.container_id) {
        return Ok(pid);
    }
    let found = find_holder(proc_root, inode, conn, container)?;
    cache.insert(inode, &container.container_id, found);
    Ok(found)
}

/// The process of `container` holding socket `inode`.
fn find_holder(
    proc_root: &Path,
    inode: u32,
    conn: Connection,
    container: &ContainerProcesses,
) -> Result<i32, PeerError> {
    let outside = || PeerError::Outside {
        peer: conn.peer,
        container_id: container.container_id.clone(),
    };
    if let Some(cg) = &container.cgroups {
        let pids: Vec<i32> = cg
            .pids(&container.container_id)
            .unwrap_or_default()
            .into_iter()
            .map(nix::unistd::Pid::as_raw)
            .collect();
        // Every process of a cgroup-isolated container is in its cgroup (joined before
        // exec); the process tree is only consulted for a container without one (started
        // by an agent run with other isolators).
        if !pids.is_empty() {
            return procs::holds_socket(proc_root, &pids, inode).ok_or_else(outside);
        }
    }
    let fast = procs::process_tree_fast(proc_root, container.tree_root);
    if let Some(pid) = procs::holds_socket(proc_root, &fast, inode) {
        return Ok(pid);
    }
    let tree = procs::process_tree(proc_root, container.tree_root);
    procs::holds_socket(proc_root, &tree, inode).ok_or_else(outside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_cache_answers_only_for_the_container_it_saw_and_stays_bounded() {
        let cache = PeerCache::default();
        cache.insert(7, "c1", 100);
        assert_eq!(cache.get(7, "c1"), Some(100));
        assert_eq!(cache.get(7, "c2"), None, "another container's socket");
        assert_eq!(cache.get(8, "c1"), None);
        let capacity = u32::try_from(PeerCache::CAPACITY).unwrap();
        for inode in 0..capacity + 10 {
            cache.insert(1000 + inode, "c1", 1);
        }
        assert!(cache.lock().len() <= PeerCache::CAPACITY);
    }
}
