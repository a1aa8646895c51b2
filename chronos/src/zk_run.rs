//! ZooKeeper mode: the state under `--zk_path` (see [`crate::zk_store`]) and leader election
//! among chronos processes under `<zk_path>/leader` (ephemeral-sequential members holding each
//! one's `host:port`; the lowest leads, as Mesos masters do).
//!
//! A standby proxies API calls to the leader (`http::proxy`, as Chronos's `RedirectFilter`),
//! and answers 503 naming the leader only while none is known or the leader does not answer
//! (chronos-python then tries its next server). On winning, it loads the state and starts the timers and the framework. A leader
//! that loses its election node (session expired) exits at once: it cannot know what the new
//! leader has done, and its fenced writes would fail anyway; a supervisor restarts it as a
//! standby.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use anyhow::Context;
use meseta_zk::{read_children, Contender, Session, ZkUrl};
use tokio::net::TcpListener;

use crate::flags::Flags;
use crate::http::{serve, Ctx};
use crate::zk_store::ZkStore;

/// How often a standby looks for the leader and checks its own election.
const POLL: Duration = Duration::from_millis(250);

/// Runs with the state in ZooKeeper.
pub async fn run(
    flags: Flags,
    listener: TcpListener,
    http: meseta_httpd::ServerConfig,
    me: String,
) -> anyhow::Result<()> {
    let text = format!("zk://{}{}", flags.zk_hosts, flags.zk_path);
    let url =
        ZkUrl::parse_or_read(&text).with_context(|| format!("bad --zk_hosts/--zk_path: {text}"))?;
    let timeout = Duration::from_millis(flags.zk_timeout.max(1000));
    let mut election = url.clone();
    election.path = format!("{}/leader", url.path);
    let session = Session::connect_retrying(&url, timeout).await;
    session
        .ensure_path(&election.path)
        .await
        .context("creating the election path")?;
    let contender = Contender::spawn(election.clone(), timeout, "member", me.clone().into_bytes());
    let ctx = Arc::new(Ctx {
        core: OnceLock::new(),
        leader: RwLock::new(Some(String::new())),
        me,
        auth: crate::http::auth::from_flags(flags.http_credentials.as_deref(), &flags.http_realm)?,
    });
    tokio::spawn(serve(listener, http, Arc::clone(&ctx)));
    tracing::info!(zk = %url, "chronos serving as a standby until elected");
    loop {
        tokio::time::sleep(POLL).await;
        let leading = ctx.core.get().is_some();
        if contender.is_leader() {
            if leading {
                continue;
            }
            let Some(fence) = contender.fence() else {
                continue;
            };
            tracing::info!("elected leader; loading the state from ZooKeeper");
            let store = ZkStore::open(session.clone(), fence, &url.path).await?;
            let core = crate::run::lead(&flags, Arc::new(store), &flags.advertised_host()).await?;
            let _ = ctx.core.set(core);
            if let Ok(mut l) = ctx.leader.write() {
                *l = None;
            }
            continue;
        }
        if leading {
            tracing::error!("lost leadership (ZooKeeper session or election node gone); exiting");
            std::process::exit(1);
        }
        let leader = lowest_member(&session, &election.path)
            .await
            .unwrap_or_default();
        if let Ok(mut l) = ctx.leader.write() {
            *l = Some(leader);
        }
    }
}

/// The `host:port` of the lowest election member.
async fn lowest_member(session: &Session, path: &str) -> Option<String> {
    let members = read_children(session.client(), path).await.ok()?;
    members
        .into_iter()
        .filter_map(|(name, data)| {
            let seq: u64 = name.rsplit('_').next()?.parse().ok()?;
            Some((seq, String::from_utf8_lossy(&data).into_owned()))
        })
        .min()
        .map(|(_, addr)| addr)
}
