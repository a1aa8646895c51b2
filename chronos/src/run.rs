//! Running a `chronos` process: open the store, serve the API, and (as the leader) load the
//! state, run the timers and the framework. With `--state_dir` this process is the leader
//! from the start; with ZooKeeper it first wins an election, and proxies API calls to the
//! leader until then.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use anyhow::Context;
use meseta_api::{FrameworkCapability, FrameworkCapabilityType, FrameworkId, FrameworkInfo};

use crate::core::{run_timers, Core, SystemClock};
use crate::engine::{Engine, EngineConfig};
use crate::flags::Flags;
use crate::framework::{self, FrameworkConfig};
use crate::http::{serve, Ctx};
use crate::mesos::TaskDefaults;
use crate::store::{load, DirStore, Store};

/// The engine settings from the flags.
pub fn engine_config(f: &Flags) -> EngineConfig {
    EngineConfig {
        failure_retry_ms: i64::try_from(f.failure_retry).unwrap_or(i64::MAX),
        disable_after_failures: f.disable_after_failures,
    }
}

/// The framework from the flags.
pub fn framework_config(f: &Flags, host: &str, framework_id: Option<String>) -> FrameworkConfig {
    #[allow(clippy::cast_precision_loss)]
    let failover = f.failover_timeout as f64;
    let info = FrameworkInfo {
        user: f.user.clone(),
        name: f.framework_name(),
        id: framework_id.map(FrameworkId::new),
        failover_timeout: Some(failover),
        checkpoint: Some(true),
        roles: vec![f.mesos_role.clone()],
        hostname: Some(host.to_owned()),
        webui_url: Some(format!("http://{host}:{}", f.http_port)),
        capabilities: vec![FrameworkCapability {
            r#type: Some(FrameworkCapabilityType::MultiRole),
        }],
        ..FrameworkInfo::default()
    };
    FrameworkConfig {
        master: f.master.clone(),
        info,
        defaults: TaskDefaults {
            cpus: f.mesos_task_cpu,
            mem: f.mesos_task_mem,
            disk: f.mesos_task_disk,
            user: f.user.clone(),
        },
        decline: Duration::from_millis(f.decline_offer_duration),
        reconcile_every: Duration::from_secs(f.reconciliation_interval.max(1)),
    }
}

/// Runs until killed.
pub async fn run(flags: Flags) -> anyhow::Result<()> {
    let host = flags.advertised_host();
    let addr: SocketAddr = format!("{}:{}", flags.http_address, flags.http_port)
        .parse()
        .with_context(|| format!("bad --http_address {}", flags.http_address))?;
    if let Err(err) = meseta_httpd::raise_nofile_limit() {
        tracing::warn!(%err, "cannot raise the open files limit");
    }
    // Limits from `MESETA_HTTP_*`; no TLS from `LIBPROCESS_SSL_*`, which Chronos (a JVM
    // framework with its own `--ssl_*` flags) never read.
    let http = meseta_httpd::ServerConfig {
        limits: meseta_httpd::Limits::from_process_env()?,
        tls: None,
        keepalive: None,
    };
    let listener = meseta_httpd::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    let me = format!("{host}:{}", flags.http_port);
    let Some(dir) = flags.state_dir.clone() else {
        return crate::zk_run::run(flags, listener, http, me).await;
    };
    let store: Arc<dyn Store> = Arc::new(DirStore::open(&dir)?);
    let core = lead(&flags, Arc::clone(&store), &host).await?;
    let ctx = Arc::new(Ctx {
        core: OnceLock::from(core),
        leader: RwLock::new(None),
        me,
        auth: crate::http::auth::from_flags(flags.http_credentials.as_deref(), &flags.http_realm)?,
    });
    tracing::info!(%addr, state_dir = %dir.display(), "chronos serving");
    serve(listener, http, ctx).await;
    Ok(())
}

/// Becomes the leader: loads the state and starts the timers and the framework.
pub async fn lead(flags: &Flags, store: Arc<dyn Store>, host: &str) -> anyhow::Result<Arc<Core>> {
    let s = Arc::clone(&store);
    let loaded = tokio::task::spawn_blocking(move || load(s.as_ref()))
        .await
        .context("loading the state")??;
    let mut engine = Engine::new(engine_config(flags));
    let now = chrono::Utc::now();
    tracing::info!(
        jobs = loaded.jobs.len(),
        runs = loaded.runs.len(),
        "state loaded"
    );
    engine.restore(loaded.jobs, loaded.runs, now);
    let core = Core::new(engine, store, Arc::new(SystemClock));
    tokio::spawn(run_timers(Arc::clone(&core)));
    let cfg = framework_config(flags, host, loaded.framework_id);
    tokio::spawn(framework::run(Arc::clone(&core), cfg));
    Ok(core)
}
