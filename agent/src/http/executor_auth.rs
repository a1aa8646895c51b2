//! The executor API's authentication and peer check (see `crate::executor_auth`), in Mesos's
//! order: the bearer token is checked before the call is read (401), then, once the
//! framework and executor are known, its claims against the call (403), then the caller's
//! socket against the executor's container (403).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper::header::AUTHORIZATION;
use hyper::http::request::Parts;
use meseta_api::executor::Call;
use tracing::warn;

use super::HttpError;
use crate::containerizer::paths::{read_pid, ContainerPaths};
use crate::daemon::Agent;
use crate::executor_auth::{
    self, Connection, ContainerProcesses, CLAIM_CONTAINER, CLAIM_EXECUTOR, CLAIM_FRAMEWORK, REALM,
};

/// The verified claims of the bearer token, when `--authenticate_http_executors` is on; 401
/// (with Mesos's `WWW-Authenticate: Bearer realm="mesos-agent-executor"`) without a valid one.
pub fn authenticate(
    agent: &Agent,
    parts: &Parts,
) -> Result<Option<BTreeMap<String, String>>, HttpError> {
    let auth = &agent.config.executor_auth;
    let (true, Some(key)) = (auth.authenticate, auth.key.as_ref()) else {
        return Ok(None);
    };
    let unauthorized = |detail: Option<String>| {
        let challenge = match &detail {
            None => format!("Bearer realm=\"{REALM}\""),
            Some(d) => format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{d}\""
            ),
        };
        let message = detail.unwrap_or_else(|| "Missing 'Authorization' header".into());
        HttpError::BearerUnauthorized { challenge, message }
    };
    let Some(header) = parts.headers.get(AUTHORIZATION) else {
        return Err(unauthorized(None));
    };
    let header = header.to_str().unwrap_or_default();
    let (scheme, token) = match header.split(' ').collect::<Vec<_>>()[..] {
        [scheme, token] => (scheme, token),
        _ => {
            return Err(unauthorized(Some(
                "Malformed 'Authorization' header".into(),
            )))
        }
    };
    if scheme != "Bearer" {
        let scheme: String = scheme.chars().filter(char::is_ascii_alphanumeric).collect();
        return Err(unauthorized(Some(format!("Scheme '{scheme}' unsupported"))));
    }
    executor_auth::jwt::verify(token, &key.0, crate::daemon::now_secs())
        .map(Some)
        .map_err(|e| unauthorized(Some(format!("Invalid JWT: {e}"))))
}

/// Mesos's `verifyExecutorClaims`: the token must name the call's framework and executor
/// and the executor's current container (403 otherwise).
pub fn verify_claims(
    claims: &BTreeMap<String, String>,
    call: &Call,
    container_id: &str,
) -> Result<(), HttpError> {
    let has = |name: &str, value: &str| claims.get(name).is_some_and(|v| v == value);
    if !has(CLAIM_FRAMEWORK, &call.framework_id.value) {
        return Err(HttpError::Forbidden(format!(
            "Authenticated principal does not contain an 'fid' claim with the framework ID {}, \
             which is set in the call",
            call.framework_id
        )));
    }
    if !has(CLAIM_EXECUTOR, &call.executor_id.value) {
        return Err(HttpError::Forbidden(format!(
            "Authenticated principal does not contain an 'eid' claim with the executor ID {}, \
             which is set in the call",
            call.executor_id
        )));
    }
    if !has(CLAIM_CONTAINER, container_id) {
        return Err(HttpError::Forbidden(
            "Authenticated principal does not contain a 'cid' claim with the correct active \
             ContainerID"
                .into(),
        ));
    }
    Ok(())
}

/// Refuses (403) a call whose peer is not a process of the executor's container (unless
/// `--executor_peer_check=false`): the TCP peer's socket, or the process that connected to
/// the agent's Unix socket.
pub async fn check_peer(
    agent: &Arc<Agent>,
    parts: &Parts,
    call: &Call,
    container_id: &str,
) -> Result<(), HttpError> {
    if !agent.config.executor_auth.peer_check {
        return Ok(());
    }
    let refused = |why: String| {
        HttpError::Forbidden(format!(
            "Executor API call for executor {} of framework {} refused: {why}",
            call.executor_id, call.framework_id
        ))
    };
    // A connection is checked once: its later calls (the executor keeps one alive for its
    // updates) come from the same client socket, which was found in this container.
    let tag = parts.extensions.get::<meseta_httpd::ConnTag>();
    if tag.and_then(meseta_httpd::ConnTag::get) == Some(container_id) {
        return Ok(());
    }
    let caller = match (
        parts.extensions.get::<meseta_httpd::UnixPeer>(),
        parts.extensions.get::<Connection>(),
    ) {
        (Some(peer), _) => Caller::Unix(peer.clone()),
        (None, Some(conn)) => Caller::Tcp(*conn),
        (None, None) => return Err(refused("the caller's address is unknown".into())),
    };
    let (supervisor_pid, pid_file) = supervisor(agent, call, container_id);
    let cgroups = agent.containerizer.cgroups().cloned();
    let owned_id = container_id.to_owned();
    let shared = Arc::clone(agent);
    let who = caller.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let tree_root = supervisor_pid.unwrap_or_else(|| read_pid(&pid_file).unwrap_or(0));
        let container = ContainerProcesses {
            container_id: owned_id,
            cgroups,
            tree_root,
        };
        let proc_root = Path::new("/proc");
        match &who {
            Caller::Tcp(conn) => {
                executor_auth::peer_in_container(proc_root, *conn, &container, &shared.peers)
                    .map_err(|e| e.to_string())
            }
            Caller::Unix(peer) => {
                executor_auth::unix_peer_in_container(proc_root, peer, &container)
                    .map_err(|e| e.to_string())
            }
        }
    })
    .await
    .map_err(|e| refused(format!("the check failed: {e}")))?;
    if let (Ok(_), Some(tag)) = (&checked, tag) {
        tag.set(container_id.to_owned());
    }
    checked.map(|_| ()).map_err(|err| {
        warn!(executor_id = %call.executor_id, framework_id = %call.framework_id,
              peer = %caller, %err, "executor API call from outside the executor's container");
        refused(err)
    })
}

/// Who made an executor API call, as its connection tells.
#[derive(Debug, Clone)]
enum Caller {
    /// Both ends of a TCP connection.
    Tcp(Connection),
    /// The process that connected to the agent's Unix socket.
    Unix(meseta_httpd::UnixPeer),
}

impl std::fmt::Display for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(conn) => conn.peer.fmt(f),
            Self::Unix(peer) => peer.fmt(f),
        }
    }
}

/// The root of the executor's process tree: its supervisor as launched or recovered, else
/// the file where the supervisor records itself in the runtime dir (written before it starts
/// the executor, so an executor that calls before the agent has read the launch report is
/// still found; read on the blocking thread).
fn supervisor(agent: &Agent, call: &Call, container_id: &str) -> (Option<i32>, PathBuf) {
    let launched = agent
        .state()
        .executor_mut(&call.framework_id.value, &call.executor_id.value)
        .and_then(|e| e.launched)
        .or_else(|| agent.containerizer.launched(container_id).ok());
    let pid = launched.map(|l| l.supervisor_pid).filter(|p| *p > 0);
    let paths = ContainerPaths::new(&agent.config.runtime_dir, container_id);
    (pid, paths.supervisor_pid())
}
