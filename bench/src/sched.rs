//! The benchmarks' scheduler: [`meseta_scheduler::BlockingScheduler`] subscribed to a master
//! on loopback, with implicit acknowledgements, and the launcher of the long-running tasks
//! several benchmarks measure around.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use meseta_api::{FrameworkInfo, TaskState};
use meseta_scheduler::{command_task, scalar, BlockingScheduler, Config, Event};

/// Subscribes the framework `name` (user root; `tune` sets more) to 127.0.0.1:`port`.
pub fn subscribe(
    port: u16,
    name: &str,
    tune: impl FnOnce(&mut FrameworkInfo),
) -> Result<BlockingScheduler> {
    let mut framework = FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        ..FrameworkInfo::default()
    };
    tune(&mut framework);
    let config = Config::new(format!("127.0.0.1:{port}"), framework);
    let (sched, _) = BlockingScheduler::connect(config, Duration::from_secs(10))
        .with_context(|| format!("subscribing {name}"))?;
    Ok(sched)
}

/// `count` long-running tasks `{prefix}{i}` running `command`, for [`launch_running`].
#[derive(Debug, Clone)]
pub struct Sleepers<'a> {
    /// How many tasks.
    pub count: usize,
    /// Task id prefix.
    pub prefix: &'a str,
    /// The shell command (e.g. `sleep 3600`).
    pub command: &'a str,
    /// Each task's `cpus` and `mem` (MB).
    pub task: (f64, f64),
    /// What each task takes out of an offer (`cpus`, `mem`): its own resources, plus its
    /// command executor's where the master counts them.
    pub footprint: (f64, f64),
    /// Most tasks in one ACCEPT.
    pub batch: usize,
}

impl<'a> Sleepers<'a> {
    /// `count` tasks of `cpus:0.01;mem:16` each, launched 50 an offer.
    pub fn new(count: usize, prefix: &'a str, command: &'a str) -> Self {
        Self {
            count,
            prefix,
            command,
            task: (0.01, 16.0),
            footprint: (0.01, 16.0),
            batch: 50,
        }
    }
}

/// Launches `s` on the offers that come and waits until every task is RUNNING (an error on
/// any other terminal state, after 60 s without an event or 600 s in all); returns the id
/// of the agent of the last offer used.
pub fn launch_running(sched: &mut BlockingScheduler, s: &Sleepers<'_>) -> Result<String> {
    let (n, mut launched, mut running, mut agent) = (s.count, 0, 0, String::new());
    let deadline = Instant::now() + Duration::from_secs(600);
    while running < n {
        ensure!(
            Instant::now() < deadline,
            "only {running} of {n} tasks running after 600 s"
        );
        let Some((_, ev)) = sched.next_event(Duration::from_secs(60))? else {
            bail!("no event for 60 s ({running} of {n} running)")
        };
        match ev {
            Event::Offers(offers) => {
                for offer in offers {
                    agent.clone_from(&offer.agent_id.value);
                    let (mut cpus, mut mem) = (scalar(&offer, "cpus"), scalar(&offer, "mem"));
                    let (task_cpus, task_mem) = s.task;
                    let (need_cpus, need_mem) = s.footprint;
                    let mut batch = Vec::new();
                    while launched < n
                        && cpus >= need_cpus
                        && mem >= need_mem
                        && batch.len() < s.batch
                    {
                        let id = format!("{}{launched}", s.prefix);
                        batch.push(command_task(&id, &offer, s.command, task_cpus, task_mem));
                        (launched, cpus, mem) = (launched + 1, cpus - need_cpus, mem - need_mem);
                    }
                    sched.block_on(sched.scheduler().launch(&offer.id, batch))?;
                }
            }
            Event::Update(st) => match st.state {
                TaskState::Running => running += 1,
                TaskState::Starting | TaskState::Staging => {}
                other => bail!("task {}: {other:?}: {:?}", st.task_id.value, st.message),
            },
            _ => {}
        }
    }
    Ok(agent)
}
