//! Wiring: flags → settings, the store, the REST server (served by leaders and
//! non-leaders alike; non-leaders proxy to the leader), leadership, then — once leading — the state
//! loaded from the store, the Marathon-side health checks and the scheduler loop. A leader
//! that abdicates or loses its ZooKeeper leadership exits, as Marathon does, so that a
//! supervisor restarts it as a candidate.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use meseta_api::FrameworkInfo;
use serde_json::json;
use tokio::sync::mpsc;

use crate::events::EventBus;
use crate::flags::Flags;
use crate::http::{self, Ctx};
use crate::leader::Leadership;
use crate::sched::driver::{self, DriverSettings};
use crate::state::{Core, Settings, Shared};
use crate::store::zk::ZkStore;
use crate::store::Store;
use crate::zkha::{election_url, follow_leader, MEMBER_LABEL};
use meseta_zk::{Contender, Fence, Role, Session, ZkUrl};

fn settings(f: &Flags) -> Settings {
    Settings {
        task_launch_timeout: Duration::from_millis(f.task_launch_timeout),
        launch_tokens: f.launch_tokens.max(1),
        launch_token_refresh: Duration::from_millis(f.launch_token_refresh_interval.max(100)),
        max_instances_per_offer: f.max_instances_per_offer.max(1),
        decline_seconds: f.decline_offer_duration as f64 / 1000.0,
        role: f.mesos_role.clone().unwrap_or_else(|| "*".into()),
        default_user: f.mesos_user.clone(),
        service_ports: (
            f.local_port_min,
            f.local_port_max.max(f.local_port_min.saturating_add(1)),
        ),
        max_versions: f.zk_max_versions.max(1),
    }
}

fn framework_info(f: &Flags, hostname: &str) -> FrameworkInfo {
    let user = f
        .mesos_user
        .clone()
        .unwrap_or_else(|| std::env::var("USER").unwrap_or_else(|_| "root".into()));
    let mut fi: FrameworkInfo = serde_json::from_value(json!({
        "user": user,
        "name": f.framework_name,
        "failover_timeout": f.failover_timeout as f64,
        "checkpoint": f.checkpoint(),
        "hostname": hostname,
        "capabilities": [{"type": "PARTITION_AWARE"}, {"type": "TASK_KILLING_STATE"}],
    }))
    .unwrap_or_default();
    if let Some(role) = &f.mesos_role {
        fi.role = Some(role.clone());
    }
    if let Some(url) = &f.webui_url {
        fi.webui_url = Some(url.clone());
    }
    if let Some(p) = &f.mesos_authentication_principal {
        fi.principal = Some(p.clone());
    }
    fi
}

fn info_doc(f: &Flags, hostname: &str) -> serde_json::Value {
    json!({
        "name": "marathon",
        "version": "1.10.0",
        "buildref": "meseta",
        "elected": false,
        "leader": null,
        "frameworkId": null,
        "marathon_config": {
            "checkpoint": f.checkpoint(), "executor": "//cmd", "failover_timeout": f.failover_timeout,
            "framework_name": f.framework_name, "ha": !f.disable_ha, "hostname": hostname,
            "leader_proxy_connection_timeout_ms": f.leader_proxy_connection_timeout,
            "leader_proxy_read_timeout_ms": f.leader_proxy_read_timeout,
            "local_port_min": f.local_port_min, "local_port_max": f.local_port_max,
            "master": f.master, "mesos_leader_ui_url": f.mesos_leader_ui_url, "mesos_role": f.mesos_role,
            "mesos_user": f.mesos_user, "webui_url": f.webui_url,
            "reconciliation_initial_delay": f.reconciliation_initial_delay,
            "reconciliation_interval": f.reconciliation_interval,
            "task_launch_timeout": f.task_launch_timeout,
            "decline_offer_duration": f.decline_offer_duration,
            "features": [],
        },
        "zookeeper_config": {
            "zk": f.zk, "zk_timeout": f.zk_timeout, "zk_session_timeout": f.zk_session_timeout,
            "zk_max_versions": f.zk_max_versions,
        },
        "http_config": {"http_port": f.http_port, "https_port": null},
        "event_subscriber": null,
    })
}

/// Waits until the contender leads and returns its fence.
async fn win_election(contender: &Contender) -> Fence {
    let mut roles = contender.subscribe();
    loop {
        if let Some(fence) = contender.fence() {
            return fence;
        }
        tokio::select! {
            r = roles.changed() => if r.is_err() { std::future::pending::<()>().await },
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}

/// Resolves when the contender stops leading.
async fn lost_leadership(contender: &Contender) {
    let mut roles = contender.subscribe();
    loop {
        if !matches!(*roles.borrow_and_update(), Role::Leader { .. }) {
            return;
        }
        tokio::select! {
            r = roles.changed() => if r.is_err() { return },
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                if !contender.is_leader() {
                    return;
                }
            }
        }
    }
}

/// Runs marathon until it stops.
pub async fn run(f: Flags) -> Result<()> {
    let master =
        f.master.clone().filter(|m| !m.is_empty()).context(
            "--master is required (host:port, http://host:port or zk://host:port/mesos)",
        )?;
    let hostname = f.advertised_hostname();
    let me = format!("{hostname}:{}", f.http_port);
    let zk_timeout = Duration::from_millis(f.zk_session_timeout.max(1000));
    let use_zk = f.internal_store_backend != "mem";
    let zk_url = if use_zk {
        Some(ZkUrl::parse_or_read(&f.zk).with_context(|| format!("--zk={}", f.zk))?)
    } else {
        None
    };
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let shared = Shared::new(
        Core::new(settings(&f), EventBus::new()),
        Store::memory(),
        cmd_tx,
    );
    let mut leadership = Leadership::new(me.clone());
    leadership.connect_timeout = Duration::from_millis(f.leader_proxy_connection_timeout.max(1));
    leadership.read_timeout = Duration::from_millis(f.leader_proxy_read_timeout.max(1));
    let leadership = Arc::new(leadership);
    let ctx = Arc::new(Ctx {
        shared: Arc::clone(&shared),
        leader: Arc::clone(&leadership),
        max_body: f.http_max_body_bytes,
        info: info_doc(&f, &hostname),
        auth: crate::http::auth::from_flags(f.http_credentials.as_deref(), &f.http_realm)?,
    });
    let addr = SocketAddr::new(
        f.http_address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        f.http_port,
    );
    let server = http::serve(addr, f.http_max_concurrent_requests, ctx)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(addr = %server.addr, "REST API listening");

    let mut election = None;
    let store = match &zk_url {
        None => Store::memory(),
        Some(url) => {
            let eurl = election_url(url);
            let contender = Contender::spawn(
                eurl.clone(),
                zk_timeout,
                MEMBER_LABEL,
                me.clone().into_bytes(),
            );
            let follower = follow_leader(eurl, zk_timeout, Arc::clone(&leadership));
            tracing::info!(zk = %url, "waiting to be elected leader");
            let fence = win_election(&contender).await;
            let session = Session::connect_retrying(url, zk_timeout).await;
            let store = ZkStore::open(session, fence, &url.path)
                .await
                .context("cannot open the state in ZooKeeper")?;
            election = Some((contender, follower));
            Store::Zk(Arc::new(store))
        }
    };
    let mut core = Core::new(settings(&f), shared.read(|c| c.events.clone()));
    core.load(&store).await.context("cannot load the state")?;
    tracing::info!(
        apps = core.apps.len(),
        tasks = core.instances.len(),
        "elected leader; state loaded"
    );
    shared.replace(core, store);
    leadership.set_leading(true);

    tokio::spawn(crate::health::run(Arc::clone(&shared)));
    let drv = DriverSettings {
        master,
        framework: framework_info(&f, &hostname),
        reconciliation_interval: Duration::from_millis(f.reconciliation_interval),
    };
    let mut sched = tokio::spawn(driver::run(Arc::clone(&shared), drv, cmd_rx));
    let lost = async {
        match &election {
            Some((c, _)) => lost_leadership(c).await,
            None => std::future::pending().await,
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("signal handler")?;
    let result = tokio::select! {
        r = &mut sched => match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
            Err(e) => Err(anyhow::anyhow!("scheduler loop panicked: {e}")),
        },
        () = lost => Err(anyhow::anyhow!("lost leadership in ZooKeeper; exiting so a supervisor restarts this candidate")),
        () = leadership.abdicated.notified() => {
            tracing::info!("leadership abdicated; exiting");
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(())
        }
        r = tokio::signal::ctrl_c() => r.context("signal handler"),
        _ = term.recv() => Ok(()),
    };
    leadership.set_leading(false);
    if let Some((contender, _)) = election {
        contender.withdraw().await;
    }
    result
}
