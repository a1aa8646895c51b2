//! The `agentctl` command line and what each subcommand does.

use std::io::Write;
use std::time::Duration;

use clap::{Parser, Subcommand};

use super::http::AgentHttp;
use super::model::{self, AgentState, ContainerEntry, ContainerView};
use super::{logs, render, CtlError};

/// `agentctl`: look at the containers of one Meseta (or Mesos) agent.
#[derive(Debug, Parser)]
#[command(
    name = "agentctl",
    version,
    args_override_self = true,
    about = "Inspect the containers of a Meseta/Mesos agent through its HTTP API",
    long_about = "Inspect the containers of a Meseta/Mesos agent through its HTTP API.\n\n\
        Data comes from the agent's GET /containers (Mesos fields plus the \"meseta\" extension: \
        pids, cgroups, sandbox, limits), GET /state (frameworks, executors, tasks, sandbox \
        directories) and GET /files/read (sandbox files).",
    after_help = "Examples:\n  agentctl ps\n  agentctl --agent 10.0.0.5:5051 inspect 3f2a --json\n  \
        agentctl logs 3f2a --stderr --follow\n\n\
        Exit status: 0 on success, 1 on any error (agent unreachable, unknown container, bad answer), \
        with one line on stderr; 2 for bad command-line usage."
)]
pub struct Cli {
    /// The agent's HTTP address, host:port.
    #[arg(
        long,
        global = true,
        default_value = "127.0.0.1:5051",
        value_name = "HOST:PORT"
    )]
    pub agent: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One line per container: id, framework, executor/task, pid, task state, CPU time used
    /// over the CPU limit, memory used (RSS) over the memory limit.
    Ps,
    /// Everything about containers: framework, executor, tasks and their states, pid and
    /// supervisor pid, sandbox, cgroup paths, limits and live usage (ResourceStatistics).
    Inspect {
        /// Container id, or a unique prefix of it; all containers when omitted.
        container: Option<String>,
        /// Print JSON (an array of objects) for scripts instead of the readable sections.
        #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_name = "true|false")]
        json: bool,
    },
    /// Print a container's sandbox stdout (or stderr) through the agent's /files/read.
    Logs {
        /// Container id, or a unique prefix of it.
        container: String,
        /// Show the sandbox's stderr instead of stdout.
        #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_name = "true|false")]
        stderr: bool,
        /// Keep polling for new output (like tail -f) until interrupted.
        #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_name = "true|false")]
        follow: bool,
        /// How often --follow polls, in milliseconds.
        #[arg(long = "poll_interval_ms", default_value_t = 500, value_name = "MS")]
        poll_interval_ms: u64,
    },
    /// Put an image in the node's image store ahead of tasks, with a progress bar per layer
    /// (works on the store directly; the agent need not run).
    Pull {
        /// The image: `busybox`, `busybox:1.36`, `localhost:5000/team/app:v2`, `app@sha256:...`.
        image: String,
        /// A registry URL (`https://host[:port]`, `http://host:port`), or a directory of
        /// `docker save` tarballs named `<image>.tar`, as the agent's flag of the same name.
        #[arg(
            long = "docker_registry",
            default_value = "https://registry-1.docker.io"
        )]
        docker_registry: String,
        /// The image store, as the agent's flag of the same name.
        #[arg(long = "docker_store_dir", default_value = "/tmp/mesos/store/docker")]
        docker_store_dir: std::path::PathBuf,
        /// A Docker config.json with registry credentials (`auths`).
        #[arg(long = "docker_config")]
        docker_config: Option<std::path::PathBuf>,
    },
    /// Show what a restart of the agent would recover (executors re-attached), kill (orphan
    /// containers, or all after a reboot) and report (tasks whose executor ended while the
    /// agent was down, unacknowledged status updates). Reads <work_dir>/meta and the runtime
    /// dir directly; the agent need not run, and nothing is changed.
    Recover {
        /// Required: only show the plan (a real recovery is done by restarting mesos-agent).
        #[arg(long = "dry-run", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_name = "true|false")]
        dry_run: bool,
        /// The agent's --work_dir.
        #[arg(long = "work_dir", default_value = "/var/lib/mesos")]
        work_dir: std::path::PathBuf,
        /// The agent's --runtime_dir.
        #[arg(long = "runtime_dir", default_value = "/var/run/mesos")]
        runtime_dir: std::path::PathBuf,
        /// Print JSON for scripts instead of the readable sections.
        #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_name = "true|false")]
        json: bool,
    },
}

/// Fetches `/containers` and `/state` and joins them. An agent without `/state` (404) still
/// gives a listing, without framework names, task states or `/state` sandboxes.
pub async fn containers(http: &AgentHttp) -> Result<Vec<ContainerView>, CtlError> {
    let entries: Vec<ContainerEntry> = http.get_json("/containers").await?;
    let state: AgentState = match http.get_json("/state").await {
        Err(CtlError::Status { status, .. }) if status == hyper::StatusCode::NOT_FOUND => {
            AgentState::default()
        }
        other => other?,
    };
    Ok(model::join(entries, &state))
}

/// Runs `cli`, writing results to `out`.
pub async fn run(cli: Cli, out: &mut impl Write) -> Result<(), CtlError> {
    let http = AgentHttp::new(cli.agent);
    match cli.command {
        Command::Pull {
            image,
            docker_registry,
            docker_store_dir,
            docker_config,
        } => {
            let args = super::pull::PullArgs {
                image,
                registry: docker_registry,
                store: docker_store_dir,
                docker_config,
            };
            // Blocking I/O (ureq, unpacking): off the async runtime.
            let (text, result) = tokio::task::spawn_blocking(move || {
                let mut buf = Vec::new();
                let r = super::pull::pull(&args, &mut buf);
                (buf, r)
            })
            .await
            .map_err(|e| CtlError::Pull(e.to_string()))?;
            result?;
            out.write_all(&text)?;
        }
        Command::Recover {
            dry_run,
            work_dir,
            runtime_dir,
            json,
        } => {
            if !dry_run {
                return Err(super::recover::DryRunError::NotDryRun.into());
            }
            let plan = super::recover::plan(&work_dir, &runtime_dir)?;
            if json {
                let text =
                    serde_json::to_string_pretty(&plan).map_err(|source| CtlError::Json {
                        path: "recover".into(),
                        source,
                    })?;
                writeln!(out, "{text}")?;
            } else {
                out.write_all(super::recover::render(&plan).as_bytes())?;
            }
        }
        Command::Ps => {
            let views = containers(&http).await?;
            out.write_all(render::ps(&views).as_bytes())?;
        }
        Command::Inspect { container, json } => {
            let views = containers(&http).await?;
            let chosen: Vec<ContainerView> = match &container {
                Some(wanted) => vec![model::select(&views, wanted)?.clone()],
                None => views,
            };
            if json {
                let text =
                    serde_json::to_string_pretty(&chosen).map_err(|source| CtlError::Json {
                        path: "/containers".into(),
                        source,
                    })?;
                writeln!(out, "{text}")?;
            } else {
                out.write_all(render::inspect(&chosen).as_bytes())?;
            }
        }
        Command::Logs {
            container,
            stderr,
            follow,
            poll_interval_ms,
        } => {
            let views = containers(&http).await?;
            let view = model::select(&views, &container)?;
            let sandbox = view
                .sandbox
                .as_deref()
                .ok_or_else(|| CtlError::NoSandbox(view.container_id.clone()))?;
            let file = if stderr { "stderr" } else { "stdout" };
            let path = format!("{}/{file}", sandbox.trim_end_matches('/'));
            let interval = Duration::from_millis(poll_interval_ms.max(10));
            logs::copy_file(&http, &path, follow, interval, out).await?;
        }
    }
    out.flush()?;
    Ok(())
}
