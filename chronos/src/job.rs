//! The job as the REST API and chronos-python see it: Chronos 3's JSON field names and
//! defaults (mesos/chronos `jobs/Jobs.scala`, `utils/JobSerializer.scala`). A job with
//! `schedule` is scheduled; one with `parents` is dependent. Counters are read-only: the engine
//! owns them and keeps them across updates.

use serde::{Deserialize, Serialize};

/// One `{name, value}` environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    /// Name.
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

/// One URI for the Mesos fetcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fetch {
    /// What to fetch.
    pub uri: String,
    /// Make it executable.
    pub executable: bool,
    /// Let the fetcher cache it.
    pub cache: bool,
    /// Extract archives.
    pub extract: bool,
    /// The sandbox file name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_file: Option<String>,
}

impl Default for Fetch {
    fn default() -> Self {
        Self {
            uri: String::new(),
            executable: false,
            cache: false,
            extract: true,
            output_file: None,
        }
    }
}

/// A Docker volume: `{containerPath, hostPath, mode}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Path inside the container.
    pub container_path: String,
    /// Path on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    /// `RO` or `RW`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// A `{key, value}` Docker parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    /// Key.
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

/// `container`: `type` DOCKER (default) or MESOS, both with a Docker image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    /// `DOCKER` or `MESOS`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The Docker image.
    pub image: String,
    /// `HOST`, `BRIDGE`, `USER` or `NONE`.
    pub network: String,
    /// The network of `USER` mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_name: Option<String>,
    /// Volumes.
    pub volumes: Vec<Volume>,
    /// Pull the image even when present.
    pub force_pull_image: bool,
    /// `docker run` parameters.
    pub parameters: Vec<Parameter>,
}

impl Default for Container {
    fn default() -> Self {
        Self {
            kind: "DOCKER".into(),
            image: String::new(),
            network: "HOST".into(),
            network_name: None,
            volumes: Vec::new(),
            force_pull_image: false,
            parameters: Vec::new(),
        }
    }
}

/// A job (request and response body of the REST API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Job {
    /// Unique name, `[\w\s#.-]+`.
    pub name: String,
    /// The command.
    pub command: String,
    /// Run `command` through `/bin/sh -c` (else `command` is the program and `arguments` its
    /// arguments).
    pub shell: bool,
    /// Arguments (non-shell jobs).
    pub arguments: Vec<String>,
    /// `R[n]/<start>/<period>` for scheduled jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// IANA zone for the schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_time_zone: Option<String>,
    /// Parent job names for dependent jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parents: Option<Vec<String>>,
    /// Owner e-mail.
    pub owner: String,
    /// Owner name.
    pub owner_name: String,
    /// Free text.
    pub description: String,
    /// Extra attempts after a failed run.
    pub retries: u32,
    /// Not scheduled while set (manual runs still allowed).
    pub disabled: bool,
    /// Allow a run while the previous one is still going.
    pub concurrent: bool,
    /// CPUs (0: `--mesos_task_cpu`).
    pub cpus: f64,
    /// Memory in MB (0: `--mesos_task_mem`).
    pub mem: f64,
    /// Disk in MB (0: `--mesos_task_disk`).
    pub disk: f64,
    /// Container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// Environment.
    pub environment_variables: Vec<EnvVar>,
    /// URIs to fetch (deprecated form of `fetch`).
    pub uris: Vec<String>,
    /// URIs to fetch.
    pub fetch: Vec<Fetch>,
    /// The task's user (empty: `--user`).
    pub run_as_user: String,
    /// `[[attribute, EQUALS|LIKE|UNLIKE, value]]`.
    pub constraints: Vec<Vec<String>>,
    /// Queue runs ahead of others.
    pub high_priority: bool,
    /// Kill a run after this many ms (0: never).
    pub max_completion_time: u64,
    /// Accepted for compatibility; not used.
    pub executor: String,
    /// Accepted for compatibility; not used.
    pub executor_flags: String,
    /// Accepted for compatibility; not used.
    pub task_info_data: String,
    /// Accepted for compatibility; not used.
    pub soft_error: bool,
    /// Accepted for compatibility; not used.
    pub data_processing_job_type: bool,
    /// Successful runs (read-only).
    pub success_count: u64,
    /// Failed runs after their retries (read-only).
    pub error_count: u64,
    /// ISO 8601 time of the last success (read-only).
    pub last_success: String,
    /// ISO 8601 time of the last error (read-only).
    pub last_error: String,
    /// Errors since the last success (read-only).
    pub errors_since_last_success: u64,
}

impl Default for Job {
    fn default() -> Self {
        Self {
            name: String::new(),
            command: String::new(),
            shell: true,
            arguments: Vec::new(),
            schedule: None,
            schedule_time_zone: None,
            parents: None,
            owner: String::new(),
            owner_name: String::new(),
            description: String::new(),
            retries: 2,
            disabled: false,
            concurrent: false,
            cpus: 0.0,
            mem: 0.0,
            disk: 0.0,
            container: None,
            environment_variables: Vec::new(),
            uris: Vec::new(),
            fetch: Vec::new(),
            run_as_user: String::new(),
            constraints: Vec::new(),
            high_priority: false,
            max_completion_time: 0,
            executor: String::new(),
            executor_flags: String::new(),
            task_info_data: String::new(),
            soft_error: false,
            data_processing_job_type: false,
            success_count: 0,
            error_count: 0,
            last_success: String::new(),
            last_error: String::new(),
            errors_since_last_success: 0,
        }
    }
}

/// Why a job body was refused (each a 400 with this text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Name outside the allowed characters.
    #[error("the job's name '{0}' is invalid: allowed names match [\\w #.-]+ (letters, digits, _, space, #, ., -)")]
    Name(String),
    /// No command.
    #[error("the job has no command")]
    NoCommand,
    /// Both `uris` and `fetch`.
    #[error("tried to add both uris (deprecated) and fetch parameters on {0}")]
    UrisAndFetch(String),
    /// A constraint is not `[attribute, EQUALS|LIKE|UNLIKE, value]`.
    #[error("invalid constraint {0:?}: expected [attribute, EQUALS|LIKE|UNLIKE, value]")]
    Constraint(Vec<String>),
    /// A container without an image or of an unknown type.
    #[error("invalid container: {0}")]
    Container(String),
    /// Negative or non-finite resources.
    #[error("invalid resources: cpus, mem and disk must be finite and not negative")]
    Resources,
}

/// Whether `name` matches `[\w #.-]+` with Java's ASCII `\w` (Chronos 2's `[\w\s#_-]+`, less
/// the control characters of `\s`, plus Chronos 3's dots).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '_' || c == ' ' || c == '#' || c == '.' || c == '-'
        })
}

impl Job {
    /// Checks everything but the schedule and the parents (which need the engine).
    pub fn validate(&self) -> Result<(), JobError> {
        if !valid_name(&self.name) {
            return Err(JobError::Name(self.name.clone()));
        }
        if self.command.trim().is_empty() {
            return Err(JobError::NoCommand);
        }
        if !self.uris.is_empty() && !self.fetch.is_empty() {
            return Err(JobError::UrisAndFetch(self.name.clone()));
        }
        if let Some(c) = self
            .constraints
            .iter()
            .find(|c| c.len() != 3 || !matches!(c[1].as_str(), "EQUALS" | "LIKE" | "UNLIKE"))
        {
            return Err(JobError::Constraint(c.clone()));
        }
        if let Some(c) = &self.container {
            if !matches!(c.kind.as_str(), "DOCKER" | "MESOS") {
                return Err(JobError::Container(format!("unknown type '{}'", c.kind)));
            }
            if c.image.trim().is_empty() {
                return Err(JobError::Container("no image".into()));
            }
        }
        if [self.cpus, self.mem, self.disk]
            .iter()
            .any(|v| !v.is_finite() || *v < 0.0)
        {
            return Err(JobError::Resources);
        }
        Ok(())
    }

    /// Copies the read-only counters of `old` into `self` (an update keeps them).
    pub fn keep_counters_of(&mut self, old: &Self) {
        self.success_count = old.success_count;
        self.error_count = old.error_count;
        self.last_success.clone_from(&old.last_success);
        self.last_error.clone_from(&old.last_error);
        self.errors_since_last_success = old.errors_since_last_success;
    }

    /// Clears the read-only counters (a new job starts at zero whatever its body said).
    pub fn reset_counters(&mut self) {
        self.keep_counters_of(&Self::default());
    }

    /// The job as `GET /jobs` shows it: `uris` and `fetch` mirror each other, as in Chronos.
    pub fn for_display(&self) -> Self {
        let mut j = self.clone();
        if j.fetch.is_empty() {
            j.fetch = j
                .uris
                .iter()
                .map(|u| Fetch {
                    uri: u.clone(),
                    ..Fetch::default()
                })
                .collect();
        } else {
            j.uris = j.fetch.iter().map(|f| f.uri.clone()).collect();
        }
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_camel_case() {
        let j: Job = serde_json::from_str(
            r#"{"name":"a","command":"true","owner":"x@y","disabled":false,"schedule":"R//PT1M","unknownField":1}"#,
        )
        .unwrap();
        assert_eq!(j.retries, 2);
        assert!(j.shell);
        assert!(!j.concurrent);
        let v = serde_json::to_value(&j).unwrap();
        assert_eq!(v["successCount"], 0);
        assert_eq!(v["errorsSinceLastSuccess"], 0);
        assert!(v.get("parents").is_none());
        assert!(j.validate().is_ok());
    }

    #[test]
    fn names() {
        for ok in ["a", "job_1", "my job #2", "a.b-c"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a/b", "a:b", "a;b", "ä", "a\"b", "a\nb"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn refuses_bad_bodies() {
        let base = Job {
            name: "a".into(),
            command: "true".into(),
            ..Job::default()
        };
        let bad = [
            Job {
                command: " ".into(),
                ..base.clone()
            },
            Job {
                uris: vec!["u".into()],
                fetch: vec![Fetch::default()],
                ..base.clone()
            },
            Job {
                constraints: vec![vec!["rack".into(), "NEAR".into(), "a".into()]],
                ..base.clone()
            },
            Job {
                container: Some(Container::default()),
                ..base.clone()
            },
            Job {
                cpus: -1.0,
                ..base.clone()
            },
        ];
        for j in bad {
            assert!(j.validate().is_err(), "{j:?}");
        }
    }
}
