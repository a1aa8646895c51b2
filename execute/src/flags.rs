//! The flags of `mesos-execute` (Mesos names; a subset of Mesos' tool).

use clap::Parser;

/// `mesos-execute`'s command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "mesos-execute",
    version,
    about = "Launch one task on a Mesos/Meseta cluster and follow its status updates",
    args_override_self = true
)]
pub struct Cli {
    /// The master: `host:port`, `zk://host1:port1,host2:port2/path` (the leader is detected
    /// in ZooKeeper) or `file:///path` holding one of those.
    #[arg(long)]
    pub master: String,
    /// Name (and id) of the task.
    #[arg(long)]
    pub name: String,
    /// The command to run.
    #[arg(long)]
    pub command: String,
    /// Run the command through `/bin/sh -c` (`--shell=false` runs it directly, without arguments).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub shell: bool,
    /// Resources of the task, Mesos text form.
    #[arg(long, default_value = "cpus:1;mem:128")]
    pub resources: String,
    /// Environment of the task, a JSON object of strings, e.g. '{"GREETING":"hi"}'.
    #[arg(long)]
    pub env: Option<String>,
    /// Role of the framework.
    #[arg(long, default_value = "*")]
    pub role: String,
    /// Ask the agent to checkpoint the task (survives an agent restart).
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub checkpoint: bool,
    /// Kill the task after this many seconds.
    #[arg(long = "kill_after")]
    pub kill_after: Option<f64>,
    /// Name of the framework.
    #[arg(long = "framework_name", default_value = "mesos-execute instance")]
    pub framework_name: String,
    /// Give up when no suitable offer arrives within this many seconds (counted from the
    /// start, so it also bounds the wait for an unreachable master).
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
}
