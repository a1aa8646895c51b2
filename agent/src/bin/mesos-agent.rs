//! `mesos-agent` (also installed as `mesos-slave`): parses the Mesos flags and runs the
//! agent daemon of `meseta_agent::daemon`.

use std::path::PathBuf;
use std::process::ExitCode;

use meseta_agent::flags::{self, DEFAULT_CONF_DIR};

pub fn main() -> ExitCode {
    let own_conf_dir = std::env::var_os("MESETA_AGENT_CONF_DIR");
    let zk_file = flags::master::default_master_file(
        std::env::var_os(flags::master::ZK_FILE_ENV).as_deref(),
        own_conf_dir.is_some(),
    );
    let conf_dir = own_conf_dir.map_or_else(|| PathBuf::from(DEFAULT_CONF_DIR), PathBuf::from);
    let mut master_from_file = None;
    let mut launcher_dir_given = false;
    let parsed = flags::parse(&conf_dir, std::env::vars(), std::env::args_os())
        .map(|mut f| {
            launcher_dir_given = f.launcher_dir.is_some();
            // As mesos-init-wrapper: no --master, so the cluster's /etc/mesos/zk.
            if f.master.is_none() {
                if let Some(path) = zk_file {
                    f.master = Some(format!("file://{}", path.display()));
                    master_from_file = Some(path);
                }
            }
            f
        })
        .and_then(flags::AgentFlags::into_config);
    let mut config = match parsed {
        Ok(c) => c,
        Err(flags::FlagError::Clap(e)) if !e.use_stderr() => {
            // --help / --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(flags::FlagError::Clap(e)) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("mesos-agent: {line}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("mesos-agent: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Thousands of clients need more than the default soft limit of 1024 descriptors; the
    // connection cap is sized from the raised limit.
    match meseta_httpd::raise_nofile_limit() {
        Ok(n) => tracing::debug!(nofile = n, "raised RLIMIT_NOFILE"),
        Err(err) => tracing::warn!(%err, "cannot raise RLIMIT_NOFILE"),
    }
    if let Some(path) = &master_from_file {
        tracing::info!(file = %path.display(), "no --master given; using the master in {}", path.display());
    }
    if !launcher_dir_given {
        match meseta_agent::per_task::install(&config.work_dir) {
            Ok(Some(dir)) => config.per_task_dir = dir,
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(%err, "cannot write the built-in per-task programs below --work_dir; using those in {}", config.launcher_dir.display())
            }
        }
    }
    tracing::debug!(dir = %config.per_task_dir.display(), "mesos-containerizer and mesos-executor");
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mesos-agent: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match meseta_agent::daemon::start(config).await {
            Ok(started) => {
                tracing::info!(addr = %started.addr, pid = started.agent.pid(), "agent started");
                started.run().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mesos-agent: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
