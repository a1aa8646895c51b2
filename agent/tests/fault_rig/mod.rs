//! Helpers for the agent's fault-injection tests against the real binaries: a scheduler that
//! launches, kills and watches tasks through the real `mesos-master`, and leak probes that look
//! only at one test's processes, cgroups, mounts and fds.
#![allow(dead_code)]

pub mod cluster;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use meseta_api::{FrameworkId, FrameworkInfo, Offer};
use meseta_scheduler::{command_task, scalar, BlockingScheduler, Config, Event};
use serde_json::Value;

/// A subscribed framework and what it has seen.
pub struct Sched {
    /// The driver (implicit acknowledgements).
    pub client: BlockingScheduler,
    /// The framework id the master gave.
    pub framework_id: String,
    /// Latest state per task id.
    pub states: HashMap<String, String>,
    /// Every UPDATE (status JSON), with the instant it arrived, oldest first.
    pub updates: Vec<(Instant, Value)>,
    /// Offers not used yet.
    pub offers: Vec<Offer>,
    /// The agent id of the last offer.
    pub agent_id: Value,
}

impl Sched {
    /// Subscribes a framework (`checkpoint: true`) to the master on 127.0.0.1:`port`.
    pub fn subscribe(port: u16, name: &str) -> Self {
        Self::connect(port, name, None)
    }

    /// Re-subscribes (after a master restart) as the framework `id`.
    pub fn resubscribe(port: u16, name: &str, id: &str) -> Self {
        let sched = Self::connect(port, name, Some(FrameworkId::new(id)));
        assert_eq!(sched.framework_id, id, "the framework id changed");
        sched
    }

    fn connect(port: u16, name: &str, id: Option<FrameworkId>) -> Self {
        let info = FrameworkInfo {
            user: "root".into(),
            name: name.into(),
            checkpoint: Some(true),
            failover_timeout: Some(3600.0),
            id,
            ..FrameworkInfo::default()
        };
        let config = Config::new(format!("127.0.0.1:{port}"), info);
        let (client, framework_id) =
            BlockingScheduler::connect(config, Duration::from_secs(10)).expect("SUBSCRIBE");
        Self {
            client,
            framework_id: framework_id.value,
            states: HashMap::new(),
            updates: Vec::new(),
            offers: Vec::new(),
            agent_id: Value::Null,
        }
    }

    /// TEARDOWN: the master kills the framework's tasks.
    pub fn teardown(&self) {
        self.client
            .block_on(self.client.scheduler().teardown())
            .expect("TEARDOWN");
    }

    /// Handles one event (offers kept, updates recorded; the driver acknowledges them);
    /// false on timeout.
    pub fn pump(&mut self, timeout: Duration) -> bool {
        let Some((at, ev)) = self.client.next_event(timeout).expect("event stream") else {
            return false;
        };
        match ev {
            Event::Offers(offers) => self.offers.extend(offers),
            Event::Update(st) => {
                let id = st.task_id.value.clone();
                let st = serde_json::to_value(&st).expect("status JSON");
                let state = st["state"].as_str().unwrap_or_default();
                self.states.insert(id, state.to_owned());
                self.updates.push((at, st));
            }
            _ => {}
        }
        true
    }

    /// Pumps events until `cond` holds; panics after `secs` seconds.
    pub fn until(&mut self, secs: u64, what: &str, mut cond: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !cond(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{what}: not within {secs}s; states {:?}",
                self.states
            );
            self.pump(left.min(Duration::from_millis(200)));
        }
    }

    /// Launches `ids` running `command` (0.05 cpus, 16 MB each) on the next offer.
    pub fn launch(&mut self, ids: &[String], command: &str) {
        let (cpus, mem) = (0.05 * ids.len() as f64, 16.0 * ids.len() as f64);
        let fits = |o: &Offer| scalar(o, "cpus") >= cpus - 1e-9 && scalar(o, "mem") >= mem;
        let deadline = Instant::now() + Duration::from_secs(30);
        let at = loop {
            if let Some(at) = self.offers.iter().position(fits) {
                break at;
            }
            // Offers are fragments of the agent's free resources: hand them back so the
            // next allocation offers them together.
            self.decline_all();
            assert!(
                Instant::now() < deadline,
                "no offer for {cpus} cpus, {mem} MB"
            );
            self.pump(Duration::from_millis(200));
        };
        let offer = self.offers.remove(at);
        self.agent_id = serde_json::to_value(&offer.agent_id).expect("agent id JSON");
        let tasks = ids
            .iter()
            .map(|id| command_task(id, &offer, command, 0.05, 16.0))
            .collect();
        let sched = self.client.scheduler();
        self.client
            .block_on(sched.launch(&offer.id, tasks))
            .expect("ACCEPT");
    }

    /// DECLINE of every held offer.
    pub fn decline_all(&mut self) {
        if self.offers.is_empty() {
            return;
        }
        let ids = self.offers.drain(..).map(|o| o.id).collect();
        let sched = self.client.scheduler();
        self.client
            .block_on(sched.decline(ids, Some(0.0)))
            .expect("DECLINE");
    }

    /// Waits until every task of `ids` is in `state`; panics on another terminal state.
    pub fn until_all(&mut self, ids: &[String], state: &str, secs: u64) {
        self.until(secs, state, |s| {
            for id in ids {
                if let Some(st) = s.states.get(id) {
                    let terminal = !matches!(
                        st.as_str(),
                        "TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING"
                    );
                    assert!(
                        !terminal || st == state,
                        "{id} ended {st}: {:?}",
                        s.last_status(id)
                    );
                }
            }
            ids.iter()
                .all(|id| s.states.get(id).is_some_and(|st| st == state))
        });
    }

    /// The last status seen for `id`.
    pub fn last_status(&self, id: &str) -> Option<&Value> {
        self.updates
            .iter()
            .rev()
            .map(|(_, st)| st)
            .find(|st| st["task_id"]["value"] == id)
    }

    /// KILL for each of `ids`.
    pub fn kill(&mut self, ids: &[String]) {
        let agent = serde_json::from_value(self.agent_id.clone()).ok();
        let sched = self.client.scheduler();
        for id in ids {
            let kill = sched.kill(meseta_api::TaskId::new(id), agent.clone());
            self.client.block_on(kill).expect("KILL");
        }
    }
}

/// `/proc/<pid>/stat` fields after the command name: state, ppid, ...
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(") ")?.1;
    Some(after.split_whitespace().map(str::to_owned).collect())
}

/// Every process: (pid, ppid, state).
fn processes() -> Vec<(u32, u32, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(f) = stat_fields(pid) {
            let ppid = f.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
            out.push((pid, ppid, f.first().cloned().unwrap_or_default()));
        }
    }
    out
}

/// Descendants of `root` (not `root` itself), with their state letter.
pub fn descendants(root: u32) -> Vec<(u32, String)> {
    let all = processes();
    let mut found: Vec<(u32, String)> = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid, state) in &all {
            if *ppid == parent && !found.iter().any(|(p, _)| p == pid) {
                found.push((*pid, state.clone()));
                frontier.push(*pid);
            }
        }
    }
    found
}

/// Zombies among `root` and its descendants' children.
pub fn zombies_under(root: u32) -> Vec<u32> {
    descendants(root)
        .into_iter()
        .filter(|(_, s)| s == "Z")
        .map(|(p, _)| p)
        .collect()
}

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|f| f.first().is_some_and(|s| s != "Z"))
}

/// Cgroups left under `cgroups_root`, on every hierarchy.
pub fn cgroups_under(cgroups_root: &str) -> Vec<String> {
    let mut left = Vec::new();
    for h in std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        let root = h.path().join(cgroups_root);
        for c in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            if c.path().is_dir() {
                left.push(c.path().display().to_string());
            }
        }
    }
    left
}

/// Open fds of `pid`.
pub fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Mount entries of `pid`'s mount namespace (and the test's own) that mention `needle`.
pub fn mounts_mentioning(pid: u32, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for file in [
        format!("/proc/{pid}/mountinfo"),
        "/proc/self/mountinfo".into(),
    ] {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        out.extend(
            text.lines()
                .filter(|l| l.contains(needle))
                .map(|l| format!("{file}: {l}")),
        );
    }
    out
}

/// `GET /containers` of the agent.
pub fn containers(agent_port: u16) -> Vec<Value> {
    meseta_tests::get_json(agent_port, "/containers")
        .as_array()
        .cloned()
        .unwrap_or_default()
}
