//! Linux-specific container settings: `LinuxInfo` (capabilities, seccomp, namespaces),
//! `CapabilityInfo`, `RLimitInfo` and `TTYInfo`.

use serde::{Deserialize, Serialize};

use crate::encoding::{lenient_enum, lenient_enum_vec, null_as_default};

/// A Linux capability (`CapabilityInfo.Capability`), named without the `CAP_` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Capability {
    /// Unrecognised.
    Unknown,
    /// `CAP_CHOWN`.
    Chown,
    /// `CAP_DAC_OVERRIDE`.
    DacOverride,
    /// `CAP_DAC_READ_SEARCH`.
    DacReadSearch,
    /// `CAP_FOWNER`.
    Fowner,
    /// `CAP_FSETID`.
    Fsetid,
    /// `CAP_KILL`.
    Kill,
    /// `CAP_SETGID`.
    Setgid,
    /// `CAP_SETUID`.
    Setuid,
    /// `CAP_SETPCAP`.
    Setpcap,
    /// `CAP_LINUX_IMMUTABLE`.
    LinuxImmutable,
    /// `CAP_NET_BIND_SERVICE`.
    NetBindService,
    /// `CAP_NET_BROADCAST`.
    NetBroadcast,
    /// `CAP_NET_ADMIN`.
    NetAdmin,
    /// `CAP_NET_RAW`.
    NetRaw,
    /// `CAP_IPC_LOCK`.
    IpcLock,
    /// `CAP_IPC_OWNER`.
    IpcOwner,
    /// `CAP_SYS_MODULE`.
    SysModule,
    /// `CAP_SYS_RAWIO`.
    SysRawio,
    /// `CAP_SYS_CHROOT`.
    SysChroot,
    /// `CAP_SYS_PTRACE`.
    SysPtrace,
    /// `CAP_SYS_PACCT`.
    SysPacct,
    /// `CAP_SYS_ADMIN`.
    SysAdmin,
    /// `CAP_SYS_BOOT`.
    SysBoot,
    /// `CAP_SYS_NICE`.
    SysNice,
    /// `CAP_SYS_RESOURCE`.
    SysResource,
    /// `CAP_SYS_TIME`.
    SysTime,
    /// `CAP_SYS_TTY_CONFIG`.
    SysTtyConfig,
    /// `CAP_MKNOD`.
    Mknod,
    /// `CAP_LEASE`.
    Lease,
    /// `CAP_AUDIT_WRITE`.
    AuditWrite,
    /// `CAP_AUDIT_CONTROL`.
    AuditControl,
    /// `CAP_SETFCAP`.
    Setfcap,
    /// `CAP_MAC_OVERRIDE`.
    MacOverride,
    /// `CAP_MAC_ADMIN`.
    MacAdmin,
    /// `CAP_SYSLOG`.
    Syslog,
    /// `CAP_WAKE_ALARM`.
    WakeAlarm,
    /// `CAP_BLOCK_SUSPEND`.
    BlockSuspend,
    /// `CAP_AUDIT_READ`.
    AuditRead,
    /// `CAP_PERFMON`.
    Perfmon,
    /// `CAP_BPF`.
    Bpf,
    /// `CAP_CHECKPOINT_RESTORE`.
    CheckpointRestore,
}

/// A set of Linux capabilities (`mesos.v1.CapabilityInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityInfo {
    /// The capabilities (unknown names are dropped, as Mesos does).
    #[serde(default, deserialize_with = "lenient_enum_vec")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Capability>,
}

/// `mesos.v1.SeccompInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompInfo {
    /// Profile file name under the agent's `--seccomp_config_dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    /// Run without seccomp filtering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfined: Option<bool>,
}

/// `LinuxInfo.IpcMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IpcMode {
    /// Unrecognised.
    Unknown,
    /// Own IPC namespace and /dev/shm.
    Private,
    /// Share the parent's.
    ShareParent,
}

/// `mesos.v1.LinuxInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinuxInfo {
    /// Deprecated: use `effective_capabilities`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability_info: Option<CapabilityInfo>,
    /// Bounding set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_capabilities: Option<CapabilityInfo>,
    /// Effective set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_capabilities: Option<CapabilityInfo>,
    /// Share the agent's PID namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_pid_namespace: Option<bool>,
    /// Seccomp profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<SeccompInfo>,
    /// IPC namespace mode.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc_mode: Option<IpcMode>,
    /// /dev/shm size in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<u32>,
    /// Nested containers share the parent's cgroups (proto default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_cgroups: Option<bool>,
}

/// `RLimitInfo.RLimit.Type`: the `RLIMIT_*` resource (proto spells it `RLMT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RLimitType {
    /// Unrecognised.
    Unknown,
    /// `RLIMIT_AS`.
    RlmtAs,
    /// `RLIMIT_CORE`.
    RlmtCore,
    /// `RLIMIT_CPU`.
    RlmtCpu,
    /// `RLIMIT_DATA`.
    RlmtData,
    /// `RLIMIT_FSIZE`.
    RlmtFsize,
    /// `RLIMIT_LOCKS`.
    RlmtLocks,
    /// `RLIMIT_MEMLOCK`.
    RlmtMemlock,
    /// `RLIMIT_MSGQUEUE`.
    RlmtMsgqueue,
    /// `RLIMIT_NICE`.
    RlmtNice,
    /// `RLIMIT_NOFILE`.
    RlmtNofile,
    /// `RLIMIT_NPROC`.
    RlmtNproc,
    /// `RLIMIT_RSS`.
    RlmtRss,
    /// `RLIMIT_RTPRIO`.
    RlmtRtprio,
    /// `RLIMIT_RTTIME`.
    RlmtRttime,
    /// `RLIMIT_SIGPENDING`.
    RlmtSigpending,
    /// `RLIMIT_STACK`.
    RlmtStack,
}

/// `RLimitInfo.RLimit`: absent `hard`/`soft` mean unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RLimit {
    /// Which limit.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<RLimitType>,
    /// Hard limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard: Option<u64>,
    /// Soft limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft: Option<u64>,
}

/// `mesos.v1.RLimitInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RLimitInfo {
    /// The limits.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rlimits: Vec<RLimit>,
}

/// `mesos.v1.TTYInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtyInfo {
    /// Initial window size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_size: Option<WindowSize>,
}

/// `TTYInfo.WindowSize`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSize {
    /// Rows.
    pub rows: u32,
    /// Columns.
    pub columns: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_info_round_trip() {
        let json = r#"{"effective_capabilities":{"capabilities":["NET_BIND_SERVICE","SYS_ADMIN"]},
            "ipc_mode":"SHARE_PARENT","share_cgroups":false}"#;
        let l: LinuxInfo = serde_json::from_str(json).unwrap();
        assert_eq!(
            l.effective_capabilities.as_ref().unwrap().capabilities,
            vec![Capability::NetBindService, Capability::SysAdmin]
        );
        let back = serde_json::to_value(&l).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    #[test]
    fn unknown_capabilities_are_dropped() {
        let c: CapabilityInfo =
            serde_json::from_str(r#"{"capabilities":["CHOWN","CAP_FUTURE","BPF"]}"#).unwrap();
        assert_eq!(c.capabilities, vec![Capability::Chown, Capability::Bpf]);
    }

    #[test]
    fn rlimits() {
        let r: RLimitInfo =
            serde_json::from_str(r#"{"rlimits":[{"type":"RLMT_NOFILE","hard":4096,"soft":1024}]}"#)
                .unwrap();
        assert_eq!(r.rlimits[0].r#type, Some(RLimitType::RlmtNofile));
    }
}
