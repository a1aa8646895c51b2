//! `meseta-bench ui`: server-side render time and size of the master's web UI pages on a
//! large cluster held in-process: 2,000 agents and 50,000 live tasks (plus completed and
//! failed ones) put straight into `master_lite::master::Master`, rendered by the same
//! functions the HTTP handlers call (under the same single lock, without the network).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use master_lite::allocator::Resources;
use master_lite::flags::MasterConfig;
use master_lite::master::{Agent, Framework, Master, TaskRec};
use master_lite::ui;
use meseta_api::{
    AgentId, AgentInfo, FrameworkId, FrameworkInfo, Reason, Resource, Task, TaskId, TaskState,
    TaskStatus,
};
use meseta_auth::HttpAuth;

use crate::report::{ms, summarize};

/// Frameworks the tasks are spread over.
const FRAMEWORKS: usize = 50;

/// Builds the cluster.
fn cluster(agents: usize, tasks: usize, dir: &std::path::Path) -> anyhow::Result<Master> {
    let mut m = Master::new(MasterConfig::for_tests(dir), 5050)?;
    let now = master_lite::master::now_secs();
    for i in 0..agents {
        let id = format!("agent-{i:05}");
        let info = AgentInfo {
            hostname: format!("node{i:05}.cluster.example"),
            port: Some(5051),
            resources: vec![
                Resource::scalar("cpus", 32.0),
                Resource::scalar("mem", 131_072.0),
                Resource::scalar("disk", 1_000_000.0),
            ],
            id: Some(AgentId::new(&id)),
            ..AgentInfo::default()
        };
        m.agents.insert(
            id.clone(),
            Agent {
                id,
                info,
                version: "1.11.0".into(),
                sink: None,
                registered_time: now - 3600.0,
                reregistered_time: None,
                disconnected_at: None,
                deactivated: false,
                operations: Vec::new(),
                drain: None,
                pinged: false,
                ping_timeouts: 0,
            },
        );
    }
    let per_fw = tasks.div_ceil(FRAMEWORKS);
    for f in 0..FRAMEWORKS {
        let fid = format!("fw-{f:03}");
        let mut fw = Framework {
            id: fid.clone(),
            info: FrameworkInfo {
                name: format!("framework-{f}"),
                user: "root".into(),
                id: Some(FrameworkId::new(&fid)),
                ..FrameworkInfo::default()
            },
            roles: vec!["*".into()],
            stream: None,
            registered_time: now - 3000.0,
            reregistered_time: None,
            disconnected_at: None,
            tasks: HashMap::new(),
            unreachable_tasks: HashMap::new(),
            completed_tasks: VecDeque::new(),
            offers: HashSet::new(),
            executors: HashMap::new(),
            recovered: false,
        };
        for t in 0..per_fw.min(tasks - f * per_fw) {
            let n = f * per_fw + t;
            let rec = task(
                &fid,
                &format!("task-{n:06}"),
                n % agents,
                TaskState::Running,
                now,
            );
            fw.tasks.insert(rec.task.task_id.value.clone(), rec);
        }
        // A full completed-task history (1,000 per framework, as the master keeps), a tenth failed.
        for t in 0..1000 {
            let state = if t % 10 == 0 {
                TaskState::Failed
            } else {
                TaskState::Finished
            };
            fw.completed_tasks.push_back(task(
                &fid,
                &format!("done-{f}-{t}"),
                t % agents,
                state,
                now,
            ));
        }
        m.frameworks.insert(fid, fw);
    }
    Ok(m)
}

#[allow(clippy::cast_precision_loss)]
fn task(fw: &str, id: &str, agent: usize, state: TaskState, now: f64) -> TaskRec {
    let status = |s: TaskState, at: f64| TaskStatus {
        task_id: TaskId::new(id),
        state: s,
        reason: (s == TaskState::Failed).then_some(Reason::CommandExecutorFailed),
        message: (s == TaskState::Failed).then(|| "Command exited with status 1".to_string()),
        timestamp: Some(at),
        ..TaskStatus::default()
    };
    let started = now - 2000.0 + (id.len() as f64);
    let mut statuses = vec![
        status(TaskState::Starting, started),
        status(TaskState::Running, started + 0.5),
    ];
    if state != TaskState::Running {
        statuses.push(status(state, started + 60.0));
    }
    TaskRec {
        task: Task {
            name: id.to_string(),
            task_id: TaskId::new(id),
            framework_id: FrameworkId::new(fw),
            agent_id: AgentId::new(format!("agent-{agent:05}")),
            state,
            resources: vec![
                Resource::scalar("cpus", 0.1),
                Resource::scalar("mem", 128.0),
            ],
            statuses,
            ..Task::default()
        },
        alloc: Resources::default(),
        last_uuid: None,
    }
}

/// One page: name, render closure.
type Render<'a> = Box<dyn Fn() -> String + 'a>;

/// Runs the benchmark; returns the report (table and `RESULT` line).
pub fn run(agents: usize, tasks: usize, iterations: usize) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let built = Instant::now();
    let m = cluster(agents, tasks, dir.path())?;
    let build_s = built.elapsed().as_secs_f64();
    let auth = HttpAuth::disabled();
    let v = ui::view::Viewer::all(&auth);
    let pages: Vec<(&str, Render<'_>)> = vec![
        (
            "overview `/`",
            Box::new(|| {
                ui::page("Overview", "/", ui::overview::render(&m, &v, None)).into_string()
            }),
        ),
        (
            "agents `/ui/agents` (by host)",
            Box::new(|| {
                ui::page("Agents", "/ui/agents", ui::agents::render_list(&m, None)).into_string()
            }),
        ),
        (
            "agents sorted by memory used",
            Box::new(|| {
                ui::page(
                    "Agents",
                    "/ui/agents",
                    ui::agents::render_list(&m, Some("sort=used_mem&dir=desc")),
                )
                .into_string()
            }),
        ),
        (
            "tasks `/ui/tasks` (newest first)",
            Box::new(|| {
                ui::page("Tasks", "/ui/tasks", ui::tasks::render_list(&m, &v, None)).into_string()
            }),
        ),
        (
            "tasks searched (`q=task-0421`)",
            Box::new(|| {
                ui::page(
                    "Tasks",
                    "/ui/tasks",
                    ui::tasks::render_list(&m, &v, Some("q=task-0421")),
                )
                .into_string()
            }),
        ),
        (
            "live update: overview fragment",
            Box::new(|| ui::overview::render(&m, &v, None).into_string()),
        ),
        (
            "live update: tasks table fragment",
            Box::new(|| ui::tasks::render_table(&m, &v, None).into_string()),
        ),
    ];
    let mut out = format!(
        "The master's web UI rendered in-process from a master holding {agents} agents, {tasks} running \
         tasks and {} completed ones ({FRAMEWORKS} frameworks; built in {build_s:.1} s), by the functions the \
         HTTP handlers call; {iterations} renders per page after one warm-up. Sizes are the HTML sent \
         (uncompressed).\n\n| page | p50 ms | p90 ms | KB |\n|---|---|---|---|\n",
        FRAMEWORKS * 1000
    );
    let mut results: HashMap<&str, (Duration, usize)> = HashMap::new();
    for (name, render) in &pages {
        let bytes = render().len();
        let samples: Vec<Duration> = (0..iterations)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(render());
                t.elapsed()
            })
            .collect();
        let s = summarize(&samples);
        out.push_str(&format!(
            "| {name} | {} | {} | {:.1} |\n",
            ms(s.p50),
            ms(s.p90),
            kb(bytes)
        ));
        results.insert(name, (s.p50, bytes));
    }
    let get = |k: &str| results.get(k).copied().unwrap_or_default();
    let (ov_t, ov_b) = get("overview `/`");
    let (tk_t, _) = get("tasks `/ui/tasks` (newest first)");
    out.push_str(&format!(
        "\nTargets: each page ≤ 50 ms and ≤ 200 KB, one live update ≤ 10 KB. Debug builds are \
         several times slower: measure with `cargo build --release -p meseta-bench`.\n\
         \nRESULT ui overview_ms={} tasks_page_ms={} overview_kb={:.1}\n",
        ms(ov_t),
        ms(tk_t),
        kb(ov_b)
    ));
    Ok(out)
}

#[allow(clippy::cast_precision_loss)]
fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}
