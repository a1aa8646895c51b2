//! `ResourceStatistics` (mesos.proto `message ResourceStatistics`): a container's usage as
//! reported by `/monitor/statistics`, `/containers` and the operator API.

use serde::{Deserialize, Serialize};

/// Usage and limits of one container, field names exactly as in `mesos.proto`.
///
/// Only `timestamp` is required by the proto; everything else is optional and omitted from
/// JSON when unknown, as Mesos does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceStatistics {
    /// Seconds since the epoch when the sample was taken.
    pub timestamp: f64,
    /// Number of processes in the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<u32>,
    /// Number of threads in the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    /// CPU time spent in user mode, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_user_time_secs: Option<f64>,
    /// CPU time spent in kernel mode, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_system_time_secs: Option<f64>,
    /// Number of CPUs allocated (the hard limit when CFS quota is on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_limit: Option<f64>,
    /// CPU shares (soft limit), in CPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_soft_limit: Option<f64>,
    /// CFS periods elapsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_nr_periods: Option<u32>,
    /// CFS periods in which the container was throttled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_nr_throttled: Option<u32>,
    /// Total time throttled, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_throttled_time_secs: Option<f64>,
    /// Memory usage including page cache, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_total_bytes: Option<u64>,
    /// Memory plus swap usage, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_total_memsw_bytes: Option<u64>,
    /// Hard memory limit, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit_bytes: Option<u64>,
    /// Soft memory limit, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_soft_limit_bytes: Option<u64>,
    /// File-backed memory (page cache), bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_file_bytes: Option<u64>,
    /// Anonymous memory, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_anon_bytes: Option<u64>,
    /// Page cache, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_cache_bytes: Option<u64>,
    /// Resident set size, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_rss_bytes: Option<u64>,
    /// Memory-mapped files, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_mapped_file_bytes: Option<u64>,
    /// Swap usage, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_swap_bytes: Option<u64>,
    /// Unevictable memory, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_unevictable_bytes: Option<u64>,
    /// Kernel memory, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_kmem_usage_bytes: Option<u64>,
    /// Kernel TCP buffer memory, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_kmem_tcp_usage_bytes: Option<u64>,
    /// Disk quota, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_limit_bytes: Option<u64>,
    /// Disk usage, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_used_bytes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_mesos_documented_example() {
        // From src/slave/http.cpp's `/monitor/statistics` help text.
        let json = r#"{"cpus_limit":8.25,"cpus_nr_periods":769021,"cpus_nr_throttled":1046,
            "cpus_system_time_secs":34501.45,"cpus_throttled_time_secs":352.597023453,
            "cpus_user_time_secs":96348.84,"mem_anon_bytes":4845449216,"mem_file_bytes":260165632,
            "mem_limit_bytes":7650410496,"mem_mapped_file_bytes":7159808,"mem_rss_bytes":5105614848,
            "timestamp":1388534400.0}"#;
        let stats: ResourceStatistics = serde_json::from_str(json).unwrap();
        assert_eq!(stats.cpus_nr_throttled, Some(1046));
        assert_eq!(stats.mem_rss_bytes, Some(5_105_614_848));
        let back = serde_json::to_value(&stats).unwrap();
        let orig: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, orig);
    }
}
