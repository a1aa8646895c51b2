//! Writing a container's limits to its cgroup files, in Mesos's units on v1 and in the v2
//! equivalents libcgroups, runc and crun use (shares become a `cpu.weight`, the CFS quota a
//! `cpu.max` line, the soft limit `memory.low`).

use super::container::write_file;
use super::{CgroupError, CgroupVersion, ContainerCgroup, Controllers};
use crate::limits::{Limits, CPU_CFS_PERIOD_US};

/// One limit: the controller (`""` on v2: the container's only directory), the file, the value.
pub(super) type LimitWrite = (&'static str, &'static str, String);

/// The writes that apply `limits` to the enabled `controllers`, in order.
pub(super) fn limit_writes(
    version: CgroupVersion,
    limits: &Limits,
    controllers: Controllers,
) -> Vec<LimitWrite> {
    let mut writes = Vec::new();
    let v1 = version == CgroupVersion::V1;
    let ctrl = |name: &'static str| if v1 { name } else { "" };
    if controllers.cpu {
        if let Some(shares) = limits.cpu_shares() {
            writes.push(if v1 {
                ("cpu", "cpu.shares", shares.to_string())
            } else {
                ("", "cpu.weight", shares_to_weight(shares).to_string())
            });
        }
        if let Some(quota) = limits.cfs_quota_us() {
            if v1 {
                writes.push(("cpu", "cpu.cfs_period_us", CPU_CFS_PERIOD_US.to_string()));
                writes.push(("cpu", "cpu.cfs_quota_us", quota.to_string()));
            } else {
                writes.push(("", "cpu.max", format!("{quota} {CPU_CFS_PERIOD_US}")));
            }
        }
    }
    if controllers.memory {
        if let Some(limit) = limits.memory_limit() {
            let (hard, soft) = if v1 {
                ("memory.limit_in_bytes", "memory.soft_limit_in_bytes")
            } else {
                ("memory.max", "memory.low")
            };
            writes.push((ctrl("memory"), hard, limit.to_string()));
            writes.push((ctrl("memory"), soft, limit.to_string()));
        }
    }
    if controllers.pids {
        if let Some(p) = limits.pids {
            writes.push((ctrl("pids"), "pids.max", p.to_string()));
        }
    }
    writes
}

/// cpu.shares (2..262144) on the v2 `cpu.weight` scale (1..10000): the quadratic mapping of
/// crun and libcgroups, which sends the default 1024 shares to the default weight 100.
pub fn shares_to_weight(shares: u64) -> u64 {
    const MAX_SHARES: u64 = 262_144;
    const MAX_WEIGHT: u64 = 10_000;
    if shares <= 2 {
        return 1;
    }
    if shares >= MAX_SHARES {
        return MAX_WEIGHT;
    }
    #[allow(clippy::cast_precision_loss)]
    let log = (shares as f64).log2();
    let exponent = (log * log + 125.0 * log) / 612.0 - 7.0 / 34.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let weight = 10f64.powf(exponent).ceil() as u64;
    weight.clamp(1, MAX_WEIGHT)
}

impl ContainerCgroup {
    /// Writes `limits` to the enabled controllers of the (existing) cgroup.
    pub fn limit(&self, limits: &Limits, controllers: Controllers) -> Result<(), CgroupError> {
        for (controller, file, value) in limit_writes(self.cgroups.version, limits, controllers) {
            let path = self.cgroups.path(controller, &self.id)?.join(file);
            write_file(&path, &value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;
    use std::time::Duration;

    use libcgroups::common::{CgroupManager, ControllerOpt};
    use oci_spec::runtime::{
        LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources,
        LinuxResourcesBuilder,
    };

    use super::*;
    use crate::cgroups::Cgroups;

    const ALL: Controllers = Controllers {
        cpu: true,
        memory: true,
        pids: true,
        devices: true,
    };

    /// The OCI resources libcgroups was given for these limits before the direct writes.
    fn oci(l: &Limits) -> LinuxResources {
        let mut cpu = LinuxCpuBuilder::default().shares(l.cpu_shares().unwrap());
        if let Some(q) = l.cfs_quota_us() {
            cpu = cpu.quota(q).period(CPU_CFS_PERIOD_US);
        }
        let mem = i64::try_from(l.memory_limit().unwrap()).unwrap();
        LinuxResourcesBuilder::default()
            .cpu(cpu.build().unwrap())
            .memory(
                LinuxMemoryBuilder::default()
                    .limit(mem)
                    .reservation(mem)
                    .build()
                    .unwrap(),
            )
            .pids(
                LinuxPidsBuilder::default()
                    .limit(l.pids.unwrap())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn opts(resources: &LinuxResources) -> ControllerOpt<'_> {
        ControllerOpt {
            resources,
            disable_oom_killer: false,
            oom_score_adj: None,
            freezer_state: None,
        }
    }

    fn limits() -> Limits {
        Limits::new(Some(0.3), Some(100.5), true)
            .unwrap()
            .with_pids(77)
            .unwrap()
    }

    #[test]
    fn v2_writes_what_libcgroups_wrote_on_a_fake_tree() {
        let files = [
            "cpu.weight",
            "cpu.max",
            "memory.max",
            "memory.low",
            "pids.max",
        ];
        let fake = |dir: &Path| {
            fs::write(dir.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
            let c = dir.join("mesos/c1");
            fs::create_dir_all(&c).unwrap();
            for f in files {
                fs::write(c.join(f), "").unwrap();
            }
            c
        };
        let (ours, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (ours_c, theirs_c) = (fake(ours.path()), fake(theirs.path()));
        for cfs in [true, false] {
            let mut l = limits();
            l.enable_cfs = cfs;
            Cgroups::with_version(CgroupVersion::V2, ours.path(), "mesos")
                .open("c1")
                .unwrap()
                .limit(&l, ALL)
                .unwrap();
            let manager =
                libcgroups::v2::manager::Manager::new(theirs.path().into(), "/mesos/c1".into())
                    .unwrap();
            manager.apply(&opts(&oci(&l))).unwrap();
            for f in files {
                let read = |d: &Path| fs::read_to_string(d.join(f)).unwrap();
                assert_eq!(read(&ours_c), read(&theirs_c), "{f} (cfs {cfs})");
            }
        }
        assert_eq!(shares_to_weight(1024), 100);
    }

    #[test]
    fn v1_writes_what_libcgroups_wrote_on_this_host() {
        let hierarchy = Path::new("/sys/fs/cgroup");
        let mounted = ["cpu", "memory", "pids"]
            .iter()
            .all(|c| hierarchy.join(c).join("tasks").exists());
        if !nix::unistd::geteuid().is_root() || !mounted {
            eprintln!("SKIPPED: needs root and cgroup v1 cpu, memory and pids hierarchies");
            return;
        }
        let root = format!("meseta-apply-test-{}", std::process::id());
        let cgroups = Cgroups::with_version(CgroupVersion::V1, hierarchy, &root);
        let l = limits();
        let ours = cgroups.open("ours").unwrap();
        cgroups.make_v1_dirs("ours", true).unwrap();
        let applied = ours.limit(&l, ALL);
        cgroups.make_v1_dirs("theirs", true).unwrap();
        let manager = libcgroups::v1::Manager::new(&Path::new("/").join(&root).join("theirs"));
        let theirs = manager.map(|m| m.apply(&opts(&oci(&l))).map_err(|e| e.to_string()));
        let files = [
            ("cpu", "cpu.shares"),
            ("cpu", "cpu.cfs_period_us"),
            ("cpu", "cpu.cfs_quota_us"),
            ("memory", "memory.limit_in_bytes"),
            ("memory", "memory.soft_limit_in_bytes"),
            ("pids", "pids.max"),
        ];
        let read = |c: &str, id: &str, f: &str| {
            fs::read_to_string(cgroups.path(c, id).unwrap().join(f)).unwrap_or_default()
        };
        let compared: Vec<_> = files
            .iter()
            .map(|(c, f)| (*f, read(c, "ours", f), read(c, "theirs", f)))
            .collect();
        for id in ["ours", "theirs"] {
            cgroups
                .open(id)
                .unwrap()
                .destroy(Duration::from_secs(1))
                .unwrap();
        }
        for c in super::super::V1_CONTROLLERS {
            let _ = fs::remove_dir(hierarchy.join(c).join(&root));
        }
        applied.unwrap();
        theirs.unwrap().unwrap();
        for (f, ours, theirs) in compared {
            assert_eq!(ours, theirs, "{f}");
        }
        assert!(!cgroups.exists("ours"), "removed");
    }
}
