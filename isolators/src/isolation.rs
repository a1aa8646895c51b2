//! Parsing of the agent's `--isolation` flag into the set of isolators to apply.
//!
//! Names follow Mesos (`src/slave/containerizer/mesos/containerizer.cpp`). Meseta implements
//! `cgroups/{cpu,mem,pids}`, `namespaces/{pid,ipc}`, `filesystem/{posix,linux}` and
//! `posix/{cpu,mem}` (accepted, isolating nothing, as in Mesos), `disk/du` (sandbox usage,
//! enforced with `--enforce_container_disk_quota`); it also accepts `namespaces/uts` and `namespaces/net`, which Mesos
//! reaches through its network isolators, so hostname and network isolation can be asked for
//! without CNI. Names Mesos knows but Meseta does not implement yet are rejected by name, so an
//! operator never believes an isolator is active when it is not.

use std::collections::BTreeSet;

/// An error in the `--isolation` flag.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IsolationError {
    /// The name is not a Mesos isolator at all.
    #[error("unknown isolator '{0}' (known: {known})", known = KNOWN.join(", "))]
    Unknown(String),
    /// A Mesos isolator that Meseta does not implement.
    #[error("isolator '{0}' is not supported by Meseta yet (supported: {known})", known = KNOWN.join(", "))]
    Unsupported(String),
}

/// Isolators Meseta implements.
const KNOWN: &[&str] = &[
    "cgroups/cpu",
    "cgroups/mem",
    "cgroups/pids",
    "cgroups/all",
    "namespaces/pid",
    "namespaces/ipc",
    "namespaces/uts",
    "namespaces/net",
    "filesystem/linux",
    "filesystem/posix",
    "posix/cpu",
    "posix/mem",
    "disk/du",
    // Images are turned on by --image_providers; this name is accepted and does nothing more.
    "docker/runtime",
];

/// Mesos isolator names that Meseta recognises but does not implement.
const MESOS_ONLY: &[&str] = &[
    "filesystem/shared",
    "filesystem/windows",
    "posix/rlimits",
    "windows/cpu",
    "windows/mem",
    "cgroups/blkio",
    "cgroups/cpuset",
    "cgroups/devices",
    "cgroups/hugetlb",
    "cgroups/net_cls",
    "cgroups/net_prio",
    "cgroups/perf_event",
    "appc/runtime",
    "docker/volume",
    "linux/devices",
    "linux/capabilities",
    "linux/nnp",
    "linux/seccomp",
    "volume/sandbox_path",
    "volume/host_path",
    "volume/image",
    "volume/secret",
    "volume/csi",
    "disk/xfs",
    "gpu/nvidia",
    "network/cni",
    "network/port_mapping",
    "network/ports",
];

/// The isolators in effect for every container the agent launches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Isolation {
    /// `cgroups/cpu`: cpu shares (and CFS quota when enabled).
    pub cgroups_cpu: bool,
    /// `cgroups/mem`: a memory limit with OOM detection.
    pub cgroups_mem: bool,
    /// `cgroups/pids`: process accounting (and a limit when one is given).
    pub cgroups_pids: bool,
    /// `namespaces/pid`: the task is pid 1 of its own pid namespace, with its own `/proc`.
    pub pid_namespace: bool,
    /// `namespaces/ipc`.
    pub ipc_namespace: bool,
    /// `namespaces/uts`: the container has its own hostname.
    pub uts_namespace: bool,
    /// `namespaces/net`: a private network namespace with only `lo`, brought up.
    pub net_namespace: bool,
    /// `filesystem/linux`: a private mount namespace (and a root filesystem when one is given).
    pub filesystem_linux: bool,
    /// `disk/du`: sandbox disk usage measured every `--container_disk_watch_interval`.
    pub disk_du: bool,
}

impl Isolation {
    /// Parses a comma-separated `--isolation` value, expanding Mesos's deprecated aliases
    /// (`process`, `cgroups`, `posix/disk`).
    pub fn parse(value: &str) -> Result<Self, IsolationError> {
        let mut names = BTreeSet::new();
        for raw in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match raw {
                "process" => {
                    names.insert("posix/cpu");
                    names.insert("posix/mem");
                }
                "cgroups" => {
                    names.insert("cgroups/cpu");
                    names.insert("cgroups/mem");
                }
                "posix/disk" => {
                    names.insert("disk/du");
                }
                "cgroups/all" => {
                    names.extend(["cgroups/cpu", "cgroups/mem", "cgroups/pids"]);
                }
                other => {
                    if let Some(known) = KNOWN.iter().find(|k| **k == other) {
                        names.insert(known);
                    } else if MESOS_ONLY.contains(&other) {
                        return Err(IsolationError::Unsupported(other.to_owned()));
                    } else {
                        return Err(IsolationError::Unknown(other.to_owned()));
                    }
                }
            }
        }
        let has = |n: &str| names.contains(n);
        Ok(Self {
            cgroups_cpu: has("cgroups/cpu"),
            cgroups_mem: has("cgroups/mem"),
            cgroups_pids: has("cgroups/pids"),
            pid_namespace: has("namespaces/pid"),
            ipc_namespace: has("namespaces/ipc"),
            uts_namespace: has("namespaces/uts"),
            net_namespace: has("namespaces/net"),
            filesystem_linux: has("filesystem/linux"),
            disk_du: has("disk/du"),
        })
    }

    /// Whether any cgroup controller is in use (a cgroup is then created per container).
    pub fn uses_cgroups(&self) -> bool {
        self.cgroups_cpu || self.cgroups_mem || self.cgroups_pids
    }

    /// Whether the container needs a private mount namespace. A pid namespace needs one too,
    /// so that a fresh `/proc` can be mounted without touching the host's.
    pub fn mount_namespace(&self) -> bool {
        self.filesystem_linux || self.pid_namespace
    }
}

/// Mesos's default `--isolation`.
pub const DEFAULT_ISOLATION: &str = "posix/cpu,posix/mem";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_mesos_isolation() {
        let iso = Isolation::parse(
            "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid,namespaces/ipc,filesystem/linux",
        )
        .unwrap();
        assert!(iso.cgroups_cpu && iso.cgroups_mem && iso.cgroups_pids);
        assert!(iso.pid_namespace && iso.ipc_namespace && iso.filesystem_linux);
        assert!(!iso.net_namespace && !iso.uts_namespace);
        assert!(iso.mount_namespace());
    }

    #[test]
    fn posix_fallback_isolates_nothing() {
        let iso = Isolation::parse(DEFAULT_ISOLATION).unwrap();
        assert!(!iso.uses_cgroups());
        assert!(!iso.mount_namespace());
    }

    #[test]
    fn deprecated_aliases_expand() {
        let iso = Isolation::parse("cgroups,process").unwrap();
        assert!(iso.cgroups_cpu && iso.cgroups_mem && !iso.cgroups_pids);
        // Mesos's deprecated `posix/disk` is `disk/du`.
        assert!(Isolation::parse("posix/disk").unwrap().disk_du);
        assert!(Isolation::parse("disk/du").unwrap().disk_du);
        assert!(!Isolation::parse("cgroups/cpu").unwrap().disk_du);
        assert_eq!(
            Isolation::parse("disk/xfs"),
            Err(IsolationError::Unsupported("disk/xfs".into()))
        );
    }

    #[test]
    fn unknown_and_unsupported_names_are_errors() {
        let err = Isolation::parse("cgroups/cpu,cgroups/memory").unwrap_err();
        assert_eq!(err, IsolationError::Unknown("cgroups/memory".into()));
        assert!(err
            .to_string()
            .starts_with("unknown isolator 'cgroups/memory'"));
        let err = Isolation::parse("network/cni").unwrap_err();
        assert!(matches!(err, IsolationError::Unsupported(_)));
    }
}
