//! From runs to Mesos tasks: which queued run fits which offer (cpus, mem, disk and the job's
//! `constraints`), and the `TaskInfo` Chronos builds (`mesos/MesosTaskBuilder.scala`: name
//! `ChronosTask:<job>`, the `CHRONOS_*` environment, fetch URIs, the container, the user).

use meseta_api::{
    AgentId, CommandInfo, CommandUri, ContainerInfo, ContainerType, DockerImage, DockerInfo,
    DockerNetwork, DurationInfo, Environment, Image, ImageType, MesosInfo, Offer, Parameter,
    Resource, TaskId, TaskInfo, TaskState, Variable, Volume, VolumeMode,
};

use crate::engine::{Outcome, Run};
use crate::job::Job;

/// Defaults for jobs that leave resources at 0, and the default user.
#[derive(Debug, Clone)]
pub struct TaskDefaults {
    /// `--mesos_task_cpu`.
    pub cpus: f64,
    /// `--mesos_task_mem` (MB).
    pub mem: f64,
    /// `--mesos_task_disk` (MB).
    pub disk: f64,
    /// `--user`.
    pub user: String,
}

impl Default for TaskDefaults {
    fn default() -> Self {
        Self {
            cpus: 0.1,
            mem: 128.0,
            disk: 256.0,
            user: "root".into(),
        }
    }
}

/// The resources a job asks for: `(cpus, mem, disk)`.
pub fn wanted(job: &Job, d: &TaskDefaults) -> (f64, f64, f64) {
    let or = |v: f64, def: f64| if v > 0.0 { v } else { def };
    (
        or(job.cpus, d.cpus),
        or(job.mem, d.mem),
        or(job.disk, d.disk),
    )
}

/// What is left of an offer while runs are placed on it.
#[derive(Debug, Clone)]
pub struct Remaining {
    /// CPUs.
    pub cpus: f64,
    /// Memory.
    pub mem: f64,
    /// Disk.
    pub disk: f64,
}

impl Remaining {
    /// The scalars of an offer.
    pub fn of(offer: &Offer) -> Self {
        let sum = |name: &str| -> f64 {
            offer
                .resources
                .iter()
                .filter(|r| r.name == name)
                .map(Resource::scalar_value)
                .sum()
        };
        Self {
            cpus: sum("cpus"),
            mem: sum("mem"),
            disk: sum("disk"),
        }
    }

    /// Takes `(cpus, mem, disk)` if it fits. An offer without disk (an agent that does not
    /// advertise it) is not held against a job.
    pub fn take(&mut self, (cpus, mem, disk): (f64, f64, f64), offer_has_disk: bool) -> bool {
        let eps = 1e-9;
        if self.cpus + eps < cpus
            || self.mem + eps < mem
            || (offer_has_disk && self.disk + eps < disk)
        {
            return false;
        }
        self.cpus -= cpus;
        self.mem -= mem;
        if offer_has_disk {
            self.disk -= disk;
        }
        true
    }
}

/// Whether an offer satisfies `[attribute, EQUALS|LIKE|UNLIKE, value]` constraints
/// (`hostname` is the offer's host; LIKE/UNLIKE compare whole-string regular expressions,
/// here `*`-free: equality and `a|b` alternatives).
pub fn constraints_met(job: &Job, offer: &Offer) -> bool {
    job.constraints.iter().all(|c| {
        let (attr, op, value) = (&c[0], c[1].as_str(), &c[2]);
        let actual = if attr == "hostname" {
            Some(offer.hostname.clone())
        } else {
            offer.attributes.iter().find(|a| a.name == *attr).map(|a| {
                a.text
                    .as_ref()
                    .map(|t| t.value.clone())
                    .or_else(|| a.scalar.as_ref().map(|s| s.value.to_string()))
                    .unwrap_or_default()
            })
        };
        let like = |v: &str| value.split('|').any(|alt| alt == v);
        match (op, actual) {
            ("EQUALS", Some(v)) => v == *value,
            ("LIKE", Some(v)) => like(&v),
            ("UNLIKE", Some(v)) => !like(&v),
            ("UNLIKE", None) => true,
            _ => false,
        }
    })
}

/// The Mesos task for `run` of `job` on `offer`.
pub fn task_info(job: &Job, run: &Run, offer: &Offer, d: &TaskDefaults) -> TaskInfo {
    let (cpus, mem, disk) = wanted(job, d);
    let env = [
        ("mesos_task_id", run.task_id.clone()),
        ("MESOS_TASK_ID", run.task_id.clone()),
        ("CHRONOS_JOB_OWNER", job.owner.clone()),
        ("CHRONOS_JOB_NAME", job.name.clone()),
        ("HOST", offer.hostname.clone()),
        ("CHRONOS_RESOURCE_MEM", mem.to_string()),
        ("CHRONOS_RESOURCE_CPU", cpus.to_string()),
        ("CHRONOS_RESOURCE_DISK", disk.to_string()),
        (
            "CHRONOS_JOB_RUN_TIME",
            crate::engine::iso(crate::engine::at_ms(run.due_ms)),
        ),
        ("CHRONOS_JOB_RUN_ATTEMPT", run.attempt.to_string()),
    ];
    let variables = env
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(
            job.environment_variables
                .iter()
                .map(|e| (e.name.clone(), e.value.clone())),
        )
        .map(|(name, value)| Variable {
            name,
            value: Some(value),
            ..Variable::default()
        })
        .collect();
    let mut uris: Vec<CommandUri> = job
        .fetch
        .iter()
        .map(|f| CommandUri {
            value: f.uri.clone(),
            executable: Some(f.executable),
            extract: Some(f.extract),
            cache: Some(f.cache),
            output_file: f.output_file.clone(),
        })
        .collect();
    uris.extend(job.uris.iter().map(|u| CommandUri {
        value: u.clone(),
        ..CommandUri::default()
    }));
    let (value, arguments) = if job.shell {
        let cmd = match &run.args {
            Some(a) if !a.trim().is_empty() => format!("{} {a}", job.command),
            _ => job.command.clone(),
        };
        (cmd, Vec::new())
    } else {
        let mut args = job.arguments.clone();
        if let Some(a) = &run.args {
            args.extend(a.split_whitespace().map(str::to_owned));
        }
        (job.command.clone(), args)
    };
    let user = if job.run_as_user.is_empty() {
        d.user.clone()
    } else {
        job.run_as_user.clone()
    };
    let mut resources = vec![Resource::scalar("cpus", cpus), Resource::scalar("mem", mem)];
    if offer.resources.iter().any(|r| r.name == "disk") {
        resources.push(Resource::scalar("disk", disk));
    }
    let role = offer.resources.first().and_then(|r| r.role.clone());
    let alloc = offer
        .resources
        .first()
        .and_then(|r| r.allocation_info.clone());
    for r in &mut resources {
        r.role.clone_from(&role);
        r.allocation_info.clone_from(&alloc);
    }
    TaskInfo {
        name: format!("ChronosTask:{}", job.name),
        task_id: TaskId::new(run.task_id.clone()),
        agent_id: offer.agent_id.clone(),
        resources,
        command: Some(CommandInfo {
            uris,
            environment: Some(Environment { variables }),
            shell: Some(job.shell),
            value: Some(value),
            arguments,
            user: Some(user),
        }),
        container: job.container.as_ref().map(container_info),
        max_completion_time: (job.max_completion_time > 0).then(|| DurationInfo {
            nanoseconds: i64::try_from(job.max_completion_time)
                .unwrap_or(i64::MAX / 1_000_000)
                .saturating_mul(1_000_000),
        }),
        ..TaskInfo::default()
    }
}

fn container_info(c: &crate::job::Container) -> ContainerInfo {
    let volumes = c
        .volumes
        .iter()
        .map(|v| Volume {
            mode: if v.mode.as_deref() == Some("RO") {
                VolumeMode::Ro
            } else {
                VolumeMode::Rw
            },
            container_path: v.container_path.clone(),
            host_path: v.host_path.clone(),
            ..Volume::default()
        })
        .collect();
    if c.kind == "MESOS" {
        return ContainerInfo {
            r#type: ContainerType::Mesos,
            volumes,
            mesos: Some(MesosInfo {
                image: Some(Image {
                    r#type: ImageType::Docker,
                    docker: Some(DockerImage {
                        name: c.image.clone(),
                        ..DockerImage::default()
                    }),
                    cached: Some(!c.force_pull_image),
                    ..Image::default()
                }),
            }),
            ..ContainerInfo::default()
        };
    }
    let network = match c.network.as_str() {
        "BRIDGE" => DockerNetwork::Bridge,
        "NONE" => DockerNetwork::None,
        "USER" => DockerNetwork::User,
        _ => DockerNetwork::Host,
    };
    ContainerInfo {
        r#type: ContainerType::Docker,
        volumes,
        docker: Some(DockerInfo {
            image: c.image.clone(),
            network: Some(network),
            force_pull_image: Some(c.force_pull_image),
            parameters: c
                .parameters
                .iter()
                .map(|p| Parameter {
                    key: p.key.clone(),
                    value: p.value.clone(),
                })
                .collect(),
            ..DockerInfo::default()
        }),
        ..ContainerInfo::default()
    }
}

/// What a task state means for its run.
pub fn outcome(state: TaskState) -> Outcome {
    match state {
        TaskState::Staging | TaskState::Starting | TaskState::Running | TaskState::Killing => {
            Outcome::Running
        }
        TaskState::Unreachable => Outcome::Running,
        TaskState::Finished => Outcome::Finished,
        TaskState::Killed => Outcome::Killed,
        TaskState::Unknown | TaskState::Lost | TaskState::Dropped | TaskState::Gone => {
            Outcome::Unknown
        }
        _ => Outcome::Failed,
    }
}

/// An agent id from a stored string.
pub fn agent_id(s: &str) -> AgentId {
    AgentId::new(s)
}
