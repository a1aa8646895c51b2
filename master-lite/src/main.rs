//! `mesos-master`: parses flags and runs [`master_lite::server`].

use std::path::Path;
use std::process::ExitCode;

use master_lite::flags::{parse_args, FlagsError, MasterConfig};

fn main() -> ExitCode {
    // Tests and side-by-side installs point this elsewhere; operators use /etc/mesos-master.
    let conf_dir = std::env::var_os("MESETA_MASTER_CONF_DIR").map_or_else(
        || Path::new("/etc/mesos-master").to_owned(),
        std::path::PathBuf::from,
    );
    let flags = match parse_args(&conf_dir, std::env::vars(), std::env::args_os()) {
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
    // Thousands of clients need more than the default soft limit of 1024 descriptors; the
    // connection cap is sized from the raised limit.
    match meseta_httpd::raise_nofile_limit() {
        Ok(n) => tracing::debug!(nofile = n, "raised RLIMIT_NOFILE"),
        Err(err) => tracing::warn!(%err, "cannot raise RLIMIT_NOFILE"),
    }
    if let Some(zk) = &flags.zk {
        tracing::warn!(%zk, "--zk: leader election is not supported; acting as the only master");
    }
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mesos-master: {err:#}");
            ExitCode::FAILURE
        }
    }
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
        running.shutdown();
        Ok(())
    })
}
