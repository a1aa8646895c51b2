//! Reading a container's usage from its cgroups into `ResourceStatistics`.
//!
//! Hand-written rather than `libcgroups`' `stats()`: that call fails as a whole when any one
//! controller it knows (hugetlb, io, PSI) is not enabled for the cgroup, while Mesos reports
//! whatever each enabled controller offers. CPU times keep the kernel's precision: nanoseconds
//! from `cpuacct.usage_all` / `cpu.stat throttled_time` on v1, microseconds on v2.

use std::collections::HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use meseta_api::ResourceStatistics;

use super::{CgroupError, CgroupVersion, Cgroups};
use crate::limits::Limits;

/// Reads a `key value` line from a flat-keyed cgroup file such as `memory.events`.
pub fn read_counter(path: &Path, key: &str) -> Option<u64> {
    flat_keyed(path).get(key).copied()
}

fn flat_keyed(path: &Path) -> HashMap<String, u64> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_owned(), it.next()?.parse().ok()?))
        })
        .collect()
}

fn single(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn count_lines(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    u32::try_from(text.lines().filter(|l| !l.trim().is_empty()).count()).ok()
}

const NANOS: f64 = 1e9;
const MICROS: f64 = 1e6;

pub(super) fn read(
    cg: &Cgroups,
    id: &str,
    limits: &Limits,
) -> Result<ResourceStatistics, CgroupError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut s = ResourceStatistics {
        timestamp: now,
        cpus_limit: limits.cpus,
        mem_limit_bytes: limits.memory_limit(),
        ..Default::default()
    };
    match cg.version {
        CgroupVersion::V1 => read_v1(cg, id, &mut s)?,
        CgroupVersion::V2 => read_v2(cg, id, &mut s)?,
    }
    Ok(s)
}

fn read_v1(cg: &Cgroups, id: &str, s: &mut ResourceStatistics) -> Result<(), CgroupError> {
    let acct = cg.path("cpuacct", id)?;
    if let Ok(text) = std::fs::read_to_string(acct.join("cpuacct.usage_all")) {
        // "cpu user system" per line, in nanoseconds.
        let (mut user, mut system) = (0u64, 0u64);
        for line in text.lines().skip(1) {
            let f: Vec<u64> = line
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            if let [_, u, k] = f[..] {
                user += u;
                system += k;
            }
        }
        s.cpus_user_time_secs = Some(user as f64 / NANOS);
        s.cpus_system_time_secs = Some(system as f64 / NANOS);
    } else {
        // Older kernels: USER_HZ ticks only.
        let stat = flat_keyed(&acct.join("cpuacct.stat"));
        let hz = procfs::ticks_per_second() as f64;
        s.cpus_user_time_secs = stat.get("user").map(|t| *t as f64 / hz);
        s.cpus_system_time_secs = stat.get("system").map(|t| *t as f64 / hz);
    }
    let cpu = flat_keyed(&cg.path("cpu", id)?.join("cpu.stat"));
    s.cpus_nr_periods = cpu.get("nr_periods").map(|v| saturate(*v));
    s.cpus_nr_throttled = cpu.get("nr_throttled").map(|v| saturate(*v));
    s.cpus_throttled_time_secs = cpu.get("throttled_time").map(|v| *v as f64 / NANOS);

    let mem = cg.path("memory", id)?;
    s.mem_total_bytes = single(&mem.join("memory.usage_in_bytes"));
    s.mem_total_memsw_bytes = single(&mem.join("memory.memsw.usage_in_bytes"));
    s.mem_soft_limit_bytes = single(&mem.join("memory.soft_limit_in_bytes"));
    s.mem_kmem_usage_bytes = single(&mem.join("memory.kmem.usage_in_bytes"));
    let stat = flat_keyed(&mem.join("memory.stat"));
    let get = |k: &str| stat.get(k).copied();
    s.mem_rss_bytes = get("total_rss");
    s.mem_anon_bytes = get("total_rss");
    s.mem_cache_bytes = get("total_cache");
    s.mem_file_bytes = get("total_cache");
    s.mem_mapped_file_bytes = get("total_mapped_file");
    s.mem_swap_bytes = get("total_swap");
    s.mem_unevictable_bytes = get("total_unevictable");

    let freezer = cg.path("freezer", id)?;
    s.processes = count_lines(&freezer.join("cgroup.procs"));
    s.threads = count_lines(&freezer.join("tasks"));
    Ok(())
}

fn read_v2(cg: &Cgroups, id: &str, s: &mut ResourceStatistics) -> Result<(), CgroupError> {
    let dir = cg.path("", id)?;
    let cpu = flat_keyed(&dir.join("cpu.stat"));
    s.cpus_user_time_secs = cpu.get("user_usec").map(|v| *v as f64 / MICROS);
    s.cpus_system_time_secs = cpu.get("system_usec").map(|v| *v as f64 / MICROS);
    s.cpus_nr_periods = cpu.get("nr_periods").map(|v| saturate(*v));
    s.cpus_nr_throttled = cpu.get("nr_throttled").map(|v| saturate(*v));
    s.cpus_throttled_time_secs = cpu.get("throttled_usec").map(|v| *v as f64 / MICROS);

    s.mem_total_bytes = single(&dir.join("memory.current"));
    s.mem_swap_bytes = single(&dir.join("memory.swap.current"));
    let stat = flat_keyed(&dir.join("memory.stat"));
    let get = |k: &str| stat.get(k).copied();
    s.mem_rss_bytes = get("anon");
    s.mem_anon_bytes = get("anon");
    s.mem_cache_bytes = get("file");
    s.mem_file_bytes = get("file");
    s.mem_mapped_file_bytes = get("file_mapped");
    s.mem_unevictable_bytes = get("unevictable");
    s.mem_kmem_usage_bytes = get("kernel");
    s.mem_kmem_tcp_usage_bytes = get("sock");

    s.processes = count_lines(&dir.join("cgroup.procs"));
    s.threads = count_lines(&dir.join("cgroup.threads"));
    Ok(())
}

fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}
