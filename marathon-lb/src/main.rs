//! `marathon-lb`: parses the flags and runs the loop (see the library's docs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use meseta_marathon_lb::apps::Options;
use meseta_marathon_lb::config::GenOptions;
use meseta_marathon_lb::flags::Flags;
use meseta_marathon_lb::haproxy::Haproxy;
use meseta_marathon_lb::lb::Lb;
use meseta_marathon_lb::logging::{PyFormat, Sink};
use meseta_marathon_lb::marathon::Marathon;
use meseta_marathon_lb::templates::Templater;
use meseta_marathon_lb::{control, run};

fn main() {
    let flags = Flags::parse();
    if let Err(err) = real_main(flags) {
        eprintln!("marathon-lb: {err:#}");
        std::process::exit(1);
    }
}

fn real_main(flags: Flags) -> anyhow::Result<()> {
    let level = match flags.log_level.to_ascii_uppercase().as_str() {
        "DEBUG" => tracing::Level::DEBUG,
        "INFO" => tracing::Level::INFO,
        "WARNING" | "WARN" => tracing::Level::WARN,
        "ERROR" | "CRITICAL" => tracing::Level::ERROR,
        other => anyhow::bail!("--log-level {other}: expected DEBUG, INFO, WARNING or ERROR"),
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .event_format(PyFormat(flags.log_format.clone()))
        .with_writer(Sink::open(&flags.syslog_socket))
        .init();
    if flags.group.is_empty() {
        anyhow::bail!("--group is required (use --group '*' to serve every app)");
    }
    if flags.min_serv_port_ip_per_task > flags.max_serv_port_ip_per_task {
        anyhow::bail!("--min-serv-port-ip-per-task is above --max-serv-port-ip-per-task");
    }
    for url in &flags.marathon {
        if !(url.starts_with("http://")) {
            anyhow::bail!("--marathon {url}: expected an http:// URL");
        }
    }
    let credentials = flags.credentials()?;
    let templates = Templater::load(&|k| std::env::var(k).ok(), Some(&flags.templates_dir));
    let haproxy_dir = flags
        .haproxy_config
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| ".".into());
    let lb = Lb::new(
        templates,
        Options {
            strict_mode: flags.strict_mode,
            health_check: flags.health_check,
            ip_per_task_ports: (
                flags.min_serv_port_ip_per_task,
                flags.max_serv_port_ip_per_task,
            ),
        },
        GenOptions {
            groups: flags.group.clone(),
            bind_http_https: !flags.dont_bind_http_https,
            ssl_certs: flags.ssl_certs.clone(),
            haproxy_map: flags.haproxy_map,
            haproxy_dir,
            control_addr: flags.control_address.clone(),
        },
        Haproxy {
            config: flags.haproxy_config.clone(),
            pid_file: flags.haproxy_pid_file.clone(),
            command: flags.command.clone(),
            archive_versions: flags.archive_versions,
            skip_validation: flags.skip_validation,
            binary: flags.haproxy_binary.clone(),
        },
        flags.dry,
    );
    let marathon = Marathon::new(flags.marathon.clone(), credentials.as_deref());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut lb = lb;
        if flags.dry {
            let apps = marathon.apps().await?;
            lb.apply(&apps, Instant::now()).await?;
            return Ok(());
        }
        let lb = Arc::new(tokio::sync::Mutex::new(lb));
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let listener = tokio::net::TcpListener::bind(&flags.control_address)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on --control-address {}: {e}", flags.control_address))?;
        tokio::spawn(control::serve(listener, lb.clone(), tx.clone()));
        tokio::spawn(run::signals(tx.clone()));
        if flags.sse {
            tokio::spawn(run::follow_events(marathon.clone(), tx.clone()));
            tokio::spawn(run::tick(Duration::from_secs(flags.resync_interval.max(1)), tx.clone()));
        } else {
            tokio::spawn(run::tick(Duration::from_secs(flags.poll_interval.max(1)), tx.clone()));
        }
        tracing::info!(marathon = ?marathon.urls(), groups = ?flags.group, sse = flags.sse, "marathon-lb started");
        run::apply_loop(lb, marathon, rx, Duration::from_millis(flags.coalesce_ms)).await;
        Ok(())
    })
}
