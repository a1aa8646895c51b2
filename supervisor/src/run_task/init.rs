//! Everything between reading `task_launch_info` and `execve(2)`, in the process that
//! becomes the task (run-task does not fork).
//!
//! Order: into the devices cgroup of image tasks → the generated `/etc/hostname` → a mount
//! namespace of its own (every mount a slave) → the rootfs bound onto itself → the image's
//! user and working directory → the spec's mounts → `/dev` nodes → `pivot_root` → read-only
//! and masked paths → session, rlimits, working directory → bounding set narrowed to Docker's
//! defaults → user → capabilities, `no_new_privs` → fds closed on exec, signals unblocked →
//! `execve`. run-task is single-threaded, so allocating is safe here.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::path::Path;

use meseta_containerizer_api::launch_info::{TaskLaunchInfo, DEFAULT_PATH};
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sched::CloneFlags;
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
use nix::unistd::{chdir, Gid, Uid};
use oci_spec::runtime::{PosixRlimitType, Process};

use super::error::RunTaskError;
use super::rootfs::{self, Kind};
use crate::error::Step;
use crate::oci::{self, Ids};

/// Sets the task up and execs it; returns only why it could not.
pub(super) fn run(info: &TaskLaunchInfo) -> RunTaskError {
    match setup_and_exec(info) {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

enum Never {}

fn setup_and_exec(info: &TaskLaunchInfo) -> Result<Never, RunTaskError> {
    super::cgroup::join(&info.cgroups_path)?;
    let hostname_file = info.state_dir.join("hostname");
    super::write_hostname(&hostname_file, &info.hostname)?;
    nix::sched::unshare(CloneFlags::CLONE_NEWNS).step("unshare(CLONE_NEWNS)")?;
    // Nothing mounted here propagates back to the executor's namespace.
    crate::child::make_mounts_slave().step("making / a slave mount")?;
    let root = rootfs::open_root(&info.rootfs)?;
    let ids = oci::resolve_user(&info.rootfs, info.user.as_deref())?;
    prepare_working_dir(&root, info, ids)?;
    let spec = oci::spec(info, ids, &hostname_file)?;
    rootfs::mount_all(&root, spec.mounts().as_deref().unwrap_or_default())?;
    rootfs::populate_dev(&root)?;
    rootfs::pivot(&root)?;
    drop(root);
    if let Some(linux) = spec.linux() {
        rootfs::readonly_paths(linux.readonly_paths().as_deref().unwrap_or_default())?;
        rootfs::masked_paths(linux.masked_paths().as_deref().unwrap_or_default())?;
    }
    let process = spec.process().as_ref().ok_or(RunTaskError::EmptyCommand)?;
    let plan = ExecPlan::new(process, ids)?;
    // A session of its own where run-task was not made a process group leader already (the
    // command executor makes it one, and signals that group), so the whole task can be
    // signalled as a group.
    let _ = nix::unistd::setsid();
    set_rlimits(process)?;
    chdir(process.cwd()).step(format!("chdir {}", process.cwd().display()))?;
    // The bounding set can only be narrowed while we still hold CAP_SETPCAP, before any
    // switch to a non-root user (which clears every other set).
    let keep = oci::docker_default_caps();
    for cap in caps::all().difference(&keep) {
        caps::drop(None, caps::CapSet::Bounding, *cap)
            .step(format!("dropping {cap} from the bounding set"))?;
    }
    if ids.uid != 0 || ids.gid != 0 {
        nix::unistd::setgroups(&[]).step("setgroups")?;
        nix::unistd::setgid(Gid::from_raw(ids.gid)).step("setgid")?;
        nix::unistd::setuid(Uid::from_raw(ids.uid)).step("setuid")?;
    }
    crate::child::restrict_capabilities(&keep)?;
    // SAFETY: close_range(2) with CLOSE_RANGE_CLOEXEC only flags fds; none is closed here.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    // The task starts with no signal blocked, whatever its parent left. No parent-death
    // signal either: the task is the executor's own child, as a command task without an
    // image is, and dies with the container.
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    plan.exec()
}

/// Creates the image's `WorkingDir` when it is missing (as Docker does), inside the image,
/// owned by the task's user.
fn prepare_working_dir(
    root: &std::os::fd::OwnedFd,
    info: &TaskLaunchInfo,
    ids: Ids,
) -> Result<(), RunTaskError> {
    if info.working_dir.starts_with(&info.sandbox_target)
        || rootfs::resolve(root, &info.working_dir, None).is_ok()
    {
        return Ok(());
    }
    // A failure names the directory: "creating /srv/app in the image: ...".
    let dir = rootfs::resolve(root, &info.working_dir, Some(Kind::Dir))?;
    let _ = nix::unistd::fchownat(
        Some(dir.as_raw_fd()),
        "",
        Some(Uid::from_raw(ids.uid)),
        Some(Gid::from_raw(ids.gid)),
        AtFlags::AT_EMPTY_PATH,
    );
    Ok(())
}

/// The spec's rlimits (oci-spec's default: 1024 open files, as libcontainer applied it).
fn set_rlimits(process: &Process) -> Result<(), RunTaskError> {
    for r in process.rlimits().as_deref().unwrap_or_default() {
        let resource = match r.typ() {
            PosixRlimitType::RlimitCpu => libc::RLIMIT_CPU,
            PosixRlimitType::RlimitFsize => libc::RLIMIT_FSIZE,
            PosixRlimitType::RlimitData => libc::RLIMIT_DATA,
            PosixRlimitType::RlimitStack => libc::RLIMIT_STACK,
            PosixRlimitType::RlimitCore => libc::RLIMIT_CORE,
            PosixRlimitType::RlimitRss => libc::RLIMIT_RSS,
            PosixRlimitType::RlimitNproc => libc::RLIMIT_NPROC,
            PosixRlimitType::RlimitNofile => libc::RLIMIT_NOFILE,
            PosixRlimitType::RlimitMemlock => libc::RLIMIT_MEMLOCK,
            PosixRlimitType::RlimitAs => libc::RLIMIT_AS,
            PosixRlimitType::RlimitLocks => libc::RLIMIT_LOCKS,
            PosixRlimitType::RlimitSigpending => libc::RLIMIT_SIGPENDING,
            PosixRlimitType::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
            PosixRlimitType::RlimitNice => libc::RLIMIT_NICE,
            PosixRlimitType::RlimitRtprio => libc::RLIMIT_RTPRIO,
            PosixRlimitType::RlimitRttime => libc::RLIMIT_RTTIME,
        };
        let limit = libc::rlimit {
            rlim_cur: r.soft(),
            rlim_max: r.hard(),
        };
        // SAFETY: setrlimit(2) reads the struct, which outlives the call.
        if unsafe { libc::setrlimit(resource, &limit) } != 0 {
            return Err(std::io::Error::last_os_error())
                .step(format!("setting {:?}", r.typ()))
                .map_err(Into::into);
        }
    }
    Ok(())
}

/// argv, envp and the candidate paths of argv\[0\] in the container's `PATH`.
struct ExecPlan {
    argv: Vec<CString>,
    envp: Vec<CString>,
    candidates: Vec<CString>,
}

impl ExecPlan {
    fn new(process: &Process, ids: Ids) -> Result<Self, RunTaskError> {
        let cstr =
            |s: &str| CString::new(s).map_err(|_| crate::error::StepError::NulByte(s.to_owned()));
        let args = process.args().clone().unwrap_or_default();
        let arg0 = args.first().ok_or(RunTaskError::EmptyCommand)?.clone();
        let argv = args
            .iter()
            .map(|a| cstr(a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut env = process.env().clone().unwrap_or_default();
        // As libcontainer and runc: HOME from the image's /etc/passwd unless the task has one
        // (read after pivot_root: `/` is the image).
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            env.push(format!("HOME={}", oci::home_dir(Path::new("/"), ids.uid)));
        }
        let envp = env.iter().map(|e| cstr(e)).collect::<Result<Vec<_>, _>>()?;
        let path = env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH);
        let candidates = if arg0.contains('/') {
            vec![cstr(&arg0)?]
        } else {
            path.split(':')
                .filter(|d| !d.is_empty())
                .map(|d| cstr(&format!("{}/{arg0}", d.trim_end_matches('/'))))
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(Self {
            argv,
            envp,
            candidates,
        })
    }

    fn exec(&self) -> Result<Never, RunTaskError> {
        let mut last = Errno::ENOENT;
        for c in &self.candidates {
            let Err(e) = nix::unistd::execve(c, &self.argv, &self.envp);
            // Keep the most telling error, as execvp(3) does: EACCES beats ENOENT.
            if e != Errno::ENOENT && e != Errno::ENOTDIR || last == Errno::ENOENT {
                last = e;
            }
        }
        let name = self.argv[0].to_string_lossy().into_owned();
        Err(match last {
            Errno::ENOENT | Errno::ENOTDIR => RunTaskError::NotFound(name),
            source => RunTaskError::Exec { name, source },
        })
    }
}
