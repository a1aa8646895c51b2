//! `mesos-master`: parses flags and runs [`master_lite::server`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use master_lite::flags::{parse_args, FlagsError, MasterConfig};

fn main() -> ExitCode {
    // Tests and side-by-side installs point this elsewhere; operators use /etc/mesos-master.
    let conf_dir_env = std::env::var_os("MESETA_MASTER_CONF_DIR");
    let zk_file = zk_file(conf_dir_env.is_some());
    let conf_dir = conf_dir_env.map_or_else(
        || Path::new("/etc/mesos-master").to_owned(),
        std::path::PathBuf::from,
    );
    let mut flags = match parse_args(&conf_dir, std::env::vars(), std::env::args_os()) {
        Ok(f) => f,
        Err(FlagsError::Display(text)) => {
            println!("{}", text.trim_end());
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("mesos-master: {err}");
            return ExitCode::FAILURE;
        }
    };
    let zk_from_file = flags.zk.is_none().then_some(zk_file).flatten();
    if let Some(path) = &zk_from_file {
        flags.zk = Some(format!("file://{}", path.display()));
    }
    let config = match MasterConfig::from_flags(&flags) {
        Ok(c) => c,
        Err(err) => {
            eprintln!("mesos-master: {err}");
            return ExitCode::FAILURE;
        }
    };
    let level = match flags.logging_level.to_ascii_uppercase().as_str() {
        "ERROR" => "error",
        "WARNING" | "WARN" => "warn",
        "DEBUG" => "debug",
        "TRACE" => "trace",
        _ => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Some(path) = &zk_from_file {
        tracing::info!(file = %path.display(), "no --zk given; using the ZooKeeper URL in {}", path.display());
    }
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mesos-master: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The `/etc/mesos/zk` a packaged Mesos master is pointed at when no `--zk` is given (the
/// packages' `/etc/default/mesos-master` runs `ZK=$(cat /etc/mesos/zk)`). `MESETA_MESOS_ZK_FILE`
/// names another file (empty: none); a master given its own configuration directory
/// (`MESETA_MASTER_CONF_DIR`, as tests and side-by-side installs do) does not read the
/// system's file unless told to, so a stray `/etc/mesos/zk` cannot turn it into an HA member.
fn zk_file(own_conf_dir: bool) -> Option<PathBuf> {
    let path = match std::env::var_os("MESETA_MESOS_ZK_FILE") {
        Some(p) if p.is_empty() => return None,
        Some(p) => PathBuf::from(p),
        None if own_conf_dir => return None,
        None => PathBuf::from("/etc/mesos/zk"),
    };
    path.exists().then_some(path)
}

fn run(config: MasterConfig) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let running = master_lite::server::start(config).await?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
        running.shutdown_gracefully().await;
        Ok(())
    })
}
