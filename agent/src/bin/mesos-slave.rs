//! `mesos-slave`: the old name of `mesos-agent`, kept so existing init scripts and muscle
//! memory work. The same program.

#[path = "mesos-agent.rs"]
mod mesos_agent;

fn main() -> std::process::ExitCode {
    mesos_agent::main()
}
