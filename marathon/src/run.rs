//! Wiring: flags → settings, the store, the REST server (served by leaders and
//! non-leaders alike; non-leaders redirect), leadership, then — once leading — the state
//! loaded from the store, the Marathon-side health checks and the scheduler loop. A leader
//! that abdicates or loses its ZooKeeper leadership exits, as Marathon does, so that a
//! supervisor restarts it as a candidate.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use meseta_api::FrameworkInfo;
use serde_json::json;
use tokio::sync::mpsc;

use crate::events::EventBus;
use crate::flags::Flags;
use crate::http::{self, Ctx};
use crate::leader::Leadership;
use crate::sched::driver::{self, DriverSettings};
use crate::state::{Core, Settings, Shared};
use crate::store::Store;

fn settings(f: &Flags) -> Settings {
    Settings {
        task_launch_timeout: Duration::from_millis(f.task_launch_timeout),
        launch_tokens: f.launch_tokens.max(1),
        launch_token_refresh: Duration::from_millis(f.launch_token_refresh_interval.max(100)),
        max_instances_per_offer: f.max_instances_per_offer.max(1),
        decline_seconds: f.decline_offer_duration as f64 / 1000.0,
        role: f.mesos_role.clone().unwrap_or_else(|| "*".into()),
        default_user: f.mesos_user.clone(),
        service_ports: (f.local_port_min, f.local_port_max.max(f.local_port_min.saturating_add(1))),
        max_versions: f.zk_max_versions.max(1),
    }
}

fn framework_info(f: &Flags, hostname: &str) -> FrameworkInfo {
    let user = f.mesos_user.clone().unwrap_or_else(|| std::env::var("USER").unwrap_or_else(|_| "root".into()));
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

async fn open_store(f: &Flags) -> Result<Store> {
    match f.internal_store_backend.as_str() {
        "mem" => Ok(Store::memory()),
        _ => bail!("the ZooKeeper store is not available in this build: use --internal_store_backend=mem"),
    }
}

/// Runs marathon until it stops.
pub async fn run(f: Flags) -> Result<()> {
    let master = f
        .master
        .clone()
        .filter(|m| !m.is_empty())
        .context("--master is required (host:port, http://host:port or zk://host:port/mesos)")?;
    let hostname = f.advertised_hostname();
    let me = format!("{hostname}:{}", f.http_port);
    let store = open_store(&f).await?;
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let core = Core::new(settings(&f), EventBus::new());
    let shared = Shared::new(core, store.clone(), cmd_tx);
    let leadership = Arc::new(Leadership::new(me.clone()));
    let ctx = Arc::new(Ctx {
        shared: Arc::clone(&shared),
        leader: Arc::clone(&leadership),
        max_body: f.http_max_body_bytes,
        info: info_doc(&f, &hostname),
    });
    let addr = SocketAddr::new(f.http_address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), f.http_port);
    let server = http::serve(addr, f.http_max_concurrent_requests, ctx)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(addr = %server.addr, "REST API listening");

    // Without ZooKeeper election this process leads at once.
    leadership.set_leader(Some(me));
    let loaded = {
        let mut core = Core::new(settings(&f), shared.read(|c| c.events.clone()));
        core.load(&store).await.context("cannot load the state")?;
        core
    };
    shared.replace_core(loaded);
    tracing::info!(apps = shared.read(|c| c.apps.len()), tasks = shared.read(|c| c.instances.len()), "elected leader; state loaded");

    tokio::spawn(crate::health::run(Arc::clone(&shared)));
    let drv = DriverSettings {
        master,
        framework: framework_info(&f, &hostname),
        reconciliation_interval: Duration::from_millis(f.reconciliation_interval),
    };
    let mut sched = tokio::spawn(driver::run(Arc::clone(&shared), drv, cmd_rx));
    tokio::select! {
        r = &mut sched => match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
            Err(e) => Err(anyhow::anyhow!("scheduler loop panicked: {e}")),
        },
        () = leadership.abdicated.notified() => {
            tracing::info!("leadership abdicated; exiting");
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(())
        }
        r = tokio::signal::ctrl_c() => {
            r.context("signal handler")?;
            Ok(())
        }
    }
}
