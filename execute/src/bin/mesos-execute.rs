//! `mesos-execute`: launch one command task through a master's v1 scheduler API and follow it
//! to a terminal state, printing each status update as Mesos's tool of the same name does.
//! Exit status: 0 when the task finished, 1 otherwise (or on error).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use meseta_execute::SchedulerClient;
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(
    name = "mesos-execute",
    version,
    about = "Launch one task on a Mesos/Meseta cluster and follow its status updates",
    args_override_self = true
)]
struct Cli {
    /// The master, `host:port`.
    #[arg(long)]
    master: String,
    /// Name (and id) of the task.
    #[arg(long)]
    name: String,
    /// The command to run.
    #[arg(long)]
    command: String,
    /// Run the command through `/bin/sh -c` (`--shell=false` runs it directly, without arguments).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    shell: bool,
    /// Resources of the task, Mesos text form.
    #[arg(long, default_value = "cpus:1;mem:128")]
    resources: String,
    /// Environment of the task, a JSON object of strings, e.g. '{"GREETING":"hi"}'.
    #[arg(long)]
    env: Option<String>,
    /// Role of the framework.
    #[arg(long, default_value = "*")]
    role: String,
    /// Ask the agent to checkpoint the task (survives an agent restart).
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    checkpoint: bool,
    /// Kill the task after this many seconds.
    #[arg(long = "kill_after")]
    kill_after: Option<f64>,
    /// Name of the framework.
    #[arg(long = "framework_name", default_value = "mesos-execute instance")]
    framework_name: String,
    /// Give up when no suitable offer arrives within this many seconds.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
}

fn main() {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => std::process::exit(0),
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("mesos-execute: {e:#}");
            std::process::exit(1);
        }
    }
}

fn scalars(resources: &[Value]) -> Vec<(String, f64)> {
    resources
        .iter()
        .filter_map(|r| {
            Some((
                r["name"].as_str()?.to_owned(),
                r["scalar"]["value"].as_f64()?,
            ))
        })
        .collect()
}

fn run(cli: &Cli) -> anyhow::Result<bool> {
    let resources =
        meseta_api::resource_parse::parse_resources(&cli.resources, "*").context("--resources")?;
    let resources: Vec<Value> = resources
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    let env: Vec<Value> = match &cli.env {
        None => Vec::new(),
        Some(text) => {
            let map: serde_json::Map<String, Value> =
                serde_json::from_str(text).context("--env must be a JSON object of strings")?;
            map.into_iter().map(|(k, v)| json!({"name": k, "value": v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())})).collect()
        }
    };
    let framework = json!({"user": "root", "name": cli.framework_name, "roles": [cli.role], "capabilities": [{"type": "MULTI_ROLE"}], "checkpoint": cli.checkpoint});
    let mut sched = SchedulerClient::subscribe_to(&cli.master, framework)?;
    println!("Subscribed with ID {}", sched.framework_id);
    let wanted = scalars(&resources);
    let deadline = Instant::now() + Duration::from_secs_f64(cli.timeout);
    let agent_id = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some((_, ev)) = sched.next_event(left)? else {
            bail!("no offer with {} within {}s", cli.resources, cli.timeout)
        };
        if ev["type"] == "ERROR" {
            bail!("the master reported an error: {}", ev["error"]["message"]);
        }
        if ev["type"] != "OFFERS" {
            continue;
        }
        let mut chosen = None;
        for offer in ev["offers"]["offers"].as_array().into_iter().flatten() {
            let fits = wanted
                .iter()
                .all(|(name, v)| meseta_execute::offered(offer, name) + 1e-9 >= *v);
            if chosen.is_none() && fits {
                let mut task = json!({
                    "name": cli.name, "task_id": {"value": cli.name}, "agent_id": offer["agent_id"],
                    "resources": resources,
                    "command": {"value": cli.command, "shell": cli.shell, "environment": {"variables": env}}
                });
                if !cli.shell {
                    task["command"]["arguments"] = json!([cli.command]);
                }
                sched.launch(offer, vec![task])?;
                chosen = Some(offer["agent_id"].clone());
            } else {
                sched.call(json!({"type": "DECLINE", "decline": {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 5.0}}}))?;
            }
        }
        if let Some(agent) = chosen {
            println!(
                "Submitted task '{}' to agent '{}'",
                cli.name,
                agent["value"].as_str().unwrap_or_default()
            );
            break agent;
        }
    };
    let kill_at = cli
        .kill_after
        .map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut killed = false;
    loop {
        let wait = kill_at
            .filter(|_| !killed)
            .map(|k| k.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        let Some((_, ev)) = sched.next_event(wait)? else {
            if !killed {
                println!("Killing task '{}'", cli.name);
                sched.kill(&cli.name, &agent_id)?;
                killed = true;
            }
            continue;
        };
        if ev["type"] != "UPDATE" {
            continue;
        }
        sched.ack(&ev)?;
        let st = &ev["update"]["status"];
        if st["task_id"]["value"] != cli.name.as_str() {
            continue;
        }
        let state = st["state"].as_str().unwrap_or("?");
        println!("Received status update {state} for task '{}'", cli.name);
        if let Some(m) = st["message"].as_str() {
            println!("  message: '{m}'");
        }
        if let Some(s) = st["source"].as_str() {
            println!("  source: {s}");
        }
        if let Some(r) = st["reason"].as_str() {
            println!("  reason: {r}");
        }
        let terminal = [
            "TASK_FINISHED",
            "TASK_FAILED",
            "TASK_KILLED",
            "TASK_LOST",
            "TASK_ERROR",
            "TASK_DROPPED",
            "TASK_GONE",
            "TASK_GONE_BY_OPERATOR",
        ];
        if terminal.contains(&state) {
            let _ = sched.teardown();
            return Ok(state == "TASK_FINISHED");
        }
    }
}
