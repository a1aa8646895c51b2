//! Who may make an executor API call.
//!
//! Two independent checks (the HTTP side, `http::executor_auth`, applies them):
//! - **Mesos's executor authentication** (`--authenticate_http_executors`,
//!   `--jwt_secret_key`): every executor gets an HS256 JWT ([`jwt`]) in
//!   `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` with the claims `fid`, `eid` and `cid` (Mesos
//!   `Slave::generateSecret`), and must send it as `Authorization: Bearer`.
//! - **The peer check** (Meseta, on by default, needs nothing from executors): the peer of
//!   the call must be a process of that executor's container. Over TCP, [`sock_diag`] finds
//!   the inode of the caller's socket from the connection's 4-tuple and [`procs`] looks for
//!   `socket:[inode]` among the file descriptors of the container's processes. Over the
//!   agent's Unix socket the kernel names the process that connected (`SO_PEERCRED`, and a
//!   pidfd of it on Linux 6.5+): [`unix_peer_in_container`] checks that process's cgroup (or
//!   ancestry).

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

/// Checks that the process that connected to the agent's Unix socket (`peer`) is a process of
/// `container`: in its cgroup (or below it), or, for a container without cgroups, in the
/// process tree under its supervisor. With a pidfd of the peer the answer is about that very
/// process: a peer that has exited (whose pid may since name another process) is refused.
/// Blocking (`/proc`): run it on a blocking thread.
pub fn unix_peer_in_container(
    proc_root: &Path,
    peer: &meseta_httpd::UnixPeer,
    container: &ContainerProcesses,
) -> Result<i32, UnixPeerError> {
    let outside = || UnixPeerError::Outside {
        pid: peer.pid,
        container_id: container.container_id.clone(),
    };
    if peer.pid <= 0 {
        return Err(outside());
    }
    let cgroup = container
        .cgroups
        .as_ref()
        .and_then(|cg| Some((cg.version(), cg.cgroup(&container.container_id).ok()?)));
    let inside = match cgroup {
        Some((version, cgroup)) => {
            let text = std::fs::read_to_string(proc_root.join(peer.pid.to_string()).join("cgroup"))
                .unwrap_or_default();
            in_cgroup(&text, version, &cgroup.to_string_lossy())
        }
        None => {
            procs::process_tree_fast(proc_root, container.tree_root).contains(&peer.pid)
                || procs::process_tree(proc_root, container.tree_root).contains(&peer.pid)
        }
    };
    if !inside {
        return Err(outside());
    }
    if peer.pidfd.as_deref().is_some_and(exited) {
        return Err(UnixPeerError::Exited(peer.pid));
    }
    Ok(peer.pid)
}

/// Why a Unix socket peer was not recognised as a process of the container.
#[derive(Debug, thiserror::Error)]
pub enum UnixPeerError {
    /// The peer is not in the container.
    #[error("the caller (pid {pid}) is not a process of container {container_id}")]
    Outside {
        /// The peer's pid.
        pid: i32,
        /// The container.
        container_id: String,
    },
    /// The process that connected is gone.
    #[error("the caller (pid {0}) has exited")]
    Exited(i32),
}

/// Whether a `/proc/<pid>/cgroup` text puts the process in `cgroup` (e.g. `/mesos/<id>`) or
/// below it: on v1 in the hierarchy that holds the container's processes (`freezer`), on v2
/// in the unified one.
fn in_cgroup(text: &str, version: isolators::cgroups::CgroupVersion, cgroup: &str) -> bool {
    text.lines().any(|line| {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return false;
        };
        let hierarchy = match version {
            isolators::cgroups::CgroupVersion::V1 => controllers.split(',').any(|c| c == "freezer"),
            isolators::cgroups::CgroupVersion::V2 => controllers.is_empty(),
        };
        hierarchy
            && path
                .strip_prefix(cgroup)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Whether the process behind `pidfd` has exited (its pidfd polls readable).
fn exited(pidfd: &std::os::fd::OwnedFd) -> bool {
    use std::os::fd::AsFd;
    let mut fds = [nix::poll::PollFd::new(
        pidfd.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).map_or(true, |n| n > 0)
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
    fn a_unix_peer_must_be_in_the_containers_own_cgroup_or_below() {
        use isolators::cgroups::CgroupVersion::{V1, V2};
        let v1 = "12:memory:/mesos/c1\n5:freezer:/mesos/c1\n4:devices:/meseta-image-tasks\n0::/\n";
        assert!(in_cgroup(v1, V1, "/mesos/c1"));
        assert!(
            !in_cgroup(v1, V1, "/mesos/c"),
            "a prefix of another container's id"
        );
        assert!(
            !in_cgroup(v1, V2, "/mesos/c1"),
            "v2 looks at the unified line only"
        );
        let elsewhere = "12:memory:/mesos/c1\n5:freezer:/mesos/c2\n";
        assert!(
            !in_cgroup(elsewhere, V1, "/mesos/c1"),
            "only the freezer line counts"
        );
        let v2 = "0::/mesos/c1/nested\n";
        assert!(in_cgroup(v2, V2, "/mesos/c1"));
        assert!(!in_cgroup("0::/mesos/c10\n", V2, "/mesos/c1"));
        assert!(!in_cgroup("", V2, "/mesos/c1"));
    }

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
