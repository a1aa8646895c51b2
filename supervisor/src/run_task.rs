//! `mesos-containerizer run-task --task_launch_info=PATH`: runs one task inside its image's
//! root filesystem through youki's `libcontainer`. The command executor (on the host
//! filesystem, in the container's cgroups) starts it in place of the task's command, as
//! Mesos's executor starts `mesos-containerizer launch` with a rootfs.
//!
//! This process is single-threaded, so libcontainer's `chdir`s and raw `clone3` are safe
//! here (never in the agent). It forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to the task, reaps
//! every child (libcontainer leaves zombies behind a failed create), deletes the container
//! (its state and the task's `devices` cgroup, see `TaskCgroup`) and ends the way the task ended: the same exit code, or
//! killed by the same signal, so the executor's status message is the task's.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use isolators::cgroups::{devices, SelfJoin};
use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::Container;
use libcontainer::syscall::syscall::SyscallType;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use meseta_containerizer_api::launch_info::{TaskLaunchInfo, DEFAULT_PATH};
use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::Spec;

use crate::oci;

/// How the task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Code(i32),
    Signal(Signal),
}

/// Runs the task described by the file at `info_path`; returns only with an exit code (or
/// re-raises the task's fatal signal). Failures before the task runs print one line to
/// stderr (the sandbox's `stderr`) and exit 127.
pub fn run(info_path: &Path) -> i32 {
    let info: TaskLaunchInfo = match std::fs::read(info_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(info) => info,
        Err(e) => return failed(&format!("reading {}: {e}", info_path.display())),
    };
    let sfd = match block_signals() {
        Ok(sfd) => sfd,
        Err(e) => return failed(&e),
    };
    let task_cgroup = match TaskCgroup::enter(&info) {
        Ok(t) => t,
        Err(e) => return failed(&e),
    };
    let created = hide_cgroup_mounts().and_then(|()| create(&info));
    // The task's processes have inherited the cgroup; this helper needs none.
    if let Some(t) = &task_cgroup {
        t.leave();
    }
    let mut container = match created {
        Ok(c) => c,
        Err(e) => {
            reap_zombies(Duration::from_secs(1));
            cleanup(&info, None, false, task_cgroup.as_ref());
            return failed(&e);
        }
    };
    let (ending, reaped) = match container.start() {
        Ok(()) => (supervise(&container, &sfd), true),
        Err(e) => {
            eprintln!("mesos-containerizer: starting the task: {e}");
            (Ending::Code(127), false)
        }
    };
    cleanup(&info, Some(&mut container), reaped, task_cgroup.as_ref());
    reap_zombies(Duration::from_millis(100));
    match ending {
        Ending::Code(code) => code,
        Ending::Signal(sig) => reraise(sig),
    }
}

fn failed(msg: &str) -> i32 {
    eprintln!("mesos-containerizer: {}", msg.replace('\n', " "));
    127
}

fn block_signals() -> Result<SignalFd, String> {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
    ] {
        set.add(s);
    }
    set.thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC).map_err(|e| format!("signalfd: {e}"))
}

/// Writes the bundle and creates the container (its init waits for `start`).
fn create(info: &TaskLaunchInfo) -> Result<Container, String> {
    let ids = oci::resolve_user(&info.rootfs, info.user.as_deref())?;
    prepare_working_dir(info, ids)?;
    let bundle = info.state_dir.join(format!("bundle-{}", info.container_id));
    std::fs::create_dir_all(&bundle).map_err(|e| format!("creating {}: {e}", bundle.display()))?;
    let hostname_file = bundle.join("hostname");
    std::fs::write(&hostname_file, format!("{}\n", info.hostname))
        .map_err(|e| format!("writing {}: {e}", hostname_file.display()))?;
    let spec = oci::spec(info, ids, &hostname_file)?;
    spec.save(bundle.join("config.json"))
        .map_err(|e| format!("writing the OCI spec: {e}"))?;
    ContainerBuilder::new(info.container_id.clone(), SyscallType::default())
        .with_root_path(&info.state_dir)
        .and_then(|b| b.with_executor(ImageExecutor).validate_id())
        .and_then(|b| {
            b.as_init(&bundle)
                .with_systemd(false)
                .with_detach(false)
                .build()
        })
        .map_err(|e| format!("creating the container: {e}"))
}

/// Creates the image's `WorkingDir` when it is missing (as Docker does), never through a
/// symlink of the image.
fn prepare_working_dir(info: &TaskLaunchInfo, ids: oci::Ids) -> Result<(), String> {
    if info.working_dir.starts_with(&info.sandbox_target) {
        return Ok(());
    }
    let Some(dir) = oci::no_symlinks(&info.rootfs, &info.working_dir) else {
        return Ok(());
    };
    if !dir.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "creating the working directory {}: {e}",
                info.working_dir.display()
            )
        })?;
        let _ = nix::unistd::chown(
            &dir,
            Some(nix::unistd::Uid::from_raw(ids.uid)),
            Some(nix::unistd::Gid::from_raw(ids.gid)),
        );
    }
    Ok(())
}

/// Waits for the task, forwarding termination signals to it.
fn supervise(container: &Container, sfd: &SignalFd) -> Ending {
    let Some(init) = container.pid() else {
        return Ending::Code(127);
    };
    loop {
        let sig = match sfd.read_signal() {
            Ok(Some(info)) => info.ssi_signo,
            Ok(None) | Err(Errno::EINTR) => continue,
            Err(e) => {
                eprintln!("mesos-containerizer: reading signals: {e}");
                let _ = kill(init, Signal::SIGKILL);
                return wait_for(init);
            }
        };
        let Ok(sig) = Signal::try_from(i32::try_from(sig).unwrap_or(0)) else {
            continue;
        };
        if sig != Signal::SIGCHLD {
            let _ = kill(init, sig);
            continue;
        }
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == init => return Ending::Code(code),
                Ok(WaitStatus::Signaled(pid, s, _)) if pid == init => return Ending::Signal(s),
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    }
}

fn wait_for(pid: Pid) -> Ending {
    match waitpid(pid, None) {
        Ok(WaitStatus::Exited(_, code)) => Ending::Code(code),
        Ok(WaitStatus::Signaled(_, s, _)) => Ending::Signal(s),
        _ => Ending::Code(137),
    }
}

/// Removes what the task leaves behind: its processes (when it was not reaped), libcontainer's
/// state dir, the task's cgroup and the bundle. Not through `Container::delete`, which would
/// look for the cgroup mounts this helper has hidden from libcontainer.
fn cleanup(
    info: &TaskLaunchInfo,
    container: Option<&mut Container>,
    reaped: bool,
    task_cgroup: Option<&TaskCgroup>,
) {
    let state = info.state_dir.join(&info.container_id);
    if !reaped {
        let init = match container {
            Some(c) => c.pid(),
            None => Container::load(state.clone()).ok().and_then(|c| c.pid()),
        };
        if let Some(pid) = init {
            if kill(pid, Signal::SIGKILL).is_ok() {
                let _ = waitpid(pid, None);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&state);
    if let Some(t) = task_cgroup {
        t.remove();
    }
    let _ = std::fs::remove_dir_all(info.state_dir.join(format!("bundle-{}", info.container_id)));
}

/// The task's cgroup in the v1 `devices` hierarchy (`TaskLaunchInfo::cgroups_path`), which
/// this helper creates, writes the task's device rules to, and enters, so that the task
/// inherits it.
///
/// libcontainer would create the task's cgroup in every hierarchy and move its intermediate
/// process in by pid, which takes the kernel's global cgroup migration lock: after a quiet
/// spell, an RCU grace period (7–16 ms measured) on every launch. The task needs no cgroup of
/// its own but for its device rules (its limits are the container's, inherited from the
/// executor), so this helper writes those rules as libcgroups would, moves its own single
/// thread in by writing `0` to `tasks` (no global lock, see `isolators::cgroups::SelfJoin`),
/// and gives libcontainer a mount namespace without cgroup filesystems
/// ([`hide_cgroup_mounts`]), where it finds no hierarchy and moves nothing. cgroup v2 has no
/// `devices` hierarchy (libcontainer is built without its eBPF device filter), so there the
/// task simply stays in the container's cgroup.
struct TaskCgroup {
    /// The container's `devices` cgroup, held open: reachable as `/proc/self/fd/N` once the
    /// cgroup mounts are hidden.
    parent: std::fs::File,
    /// Joining the parent again is how this helper leaves.
    parent_tasks: SelfJoin,
    name: std::ffi::OsString,
}

impl TaskCgroup {
    const HIERARCHY: &'static str = "/sys/fs/cgroup/devices";

    fn enter(info: &TaskLaunchInfo) -> Result<Option<Self>, String> {
        let hierarchy = Path::new(Self::HIERARCHY);
        if !hierarchy.join("devices.list").exists() {
            return Ok(None);
        }
        let rel = Path::new(&info.cgroups_path);
        let dir = hierarchy.join(rel.strip_prefix("/").unwrap_or(rel));
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Err(format!("invalid task cgroup path {}", info.cgroups_path));
        };
        // A container without cgroups (no cgroups isolator) gets no task cgroup either.
        if !parent.is_dir() {
            return Ok(None);
        }
        let err = |e: &dyn std::fmt::Display| format!("setting up the task's cgroup: {e}");
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(err(&format!("{}: {e}", dir.display()))),
        }
        let this = Self {
            parent: std::fs::File::open(parent)
                .map_err(|e| err(&format!("{}: {e}", parent.display())))?,
            parent_tasks: SelfJoin::open([parent.to_owned()]).map_err(|e| err(&e))?,
            name: name.to_owned(),
        };
        let entered = devices::restrict_to_defaults(&dir)
            .and_then(|()| SelfJoin::open([dir.clone()]))
            .and_then(|j| j.join())
            .map_err(|e| err(&e));
        match entered {
            Ok(()) => Ok(Some(this)),
            Err(e) => {
                this.remove();
                Err(e)
            }
        }
    }

    fn dir(&self) -> std::path::PathBuf {
        Path::new("/proc/self/fd")
            .join(self.parent.as_raw_fd().to_string())
            .join(&self.name)
    }

    /// Moves this helper back to the container's cgroup (where it was before `enter`, so this
    /// is harmless when repeated, or when the helper never got in).
    fn leave(&self) {
        if let Err(e) = self.parent_tasks.join() {
            eprintln!("mesos-containerizer: leaving the task's cgroup: {e}");
        }
    }

    /// Removes the cgroup, killing anything the task left in it (as libcgroups' remove does),
    /// retrying briefly while the kernel finishes the exits.
    fn remove(&self) {
        self.leave();
        let dir = self.dir();
        for attempt in 0..50 {
            if std::fs::remove_dir(&dir).is_ok() || !dir.exists() {
                return;
            }
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(if attempt < 10 { 1 } else { 10 }));
        }
    }
}

/// Moves this helper into a mount namespace of its own in which `/sys/fs/cgroup` is an empty
/// read-only tmpfs, so that libcontainer (whose container namespaces are made from this one)
/// sees a cgroup v1 layout with no hierarchy and moves no process (see [`TaskCgroup`]). The
/// container never mounts cgroups itself (`oci::spec` leaves `/sys/fs/cgroup` out).
fn hide_cgroup_mounts() -> Result<(), String> {
    let err =
        |what: &str, e: Errno| format!("hiding the cgroup mounts from libcontainer: {what}: {e}");
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(|e| err("unshare", e))?;
    // Nothing done here propagates back to the executor's namespace.
    crate::child::make_mounts_slave().map_err(|e| err("making / a slave mount", e))?;
    match umount2(CGROUP_MOUNT, MntFlags::MNT_DETACH) {
        Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(err("unmounting /sys/fs/cgroup", e)),
    }
    mount(
        Some("tmpfs"),
        CGROUP_MOUNT,
        Some("tmpfs"),
        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("size=4k,mode=0555"),
    )
    .map_err(|e| err("mounting a tmpfs on /sys/fs/cgroup", e))
}

const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// Reaps whatever children are left (libcontainer's intermediate and init after a failed
/// create), waiting at most `limit` for them to exit.
fn reap_zombies(limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

/// Ends this process by `sig`, as the task ended.
fn reraise(sig: Signal) -> i32 {
    // SAFETY: restoring the default disposition installs no handler code.
    let _ = unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl) };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = set.thread_unblock();
    let _ = kill(Pid::this(), sig);
    128 + sig as i32
}

/// Executes the task in the container's init, after `pivot_root`: no `std::env` writes
/// (the environment goes straight to `execve`), and the task dies with this helper.
#[derive(Debug, Clone)]
struct ImageExecutor;

/// argv, envp, and the candidate paths of argv\[0\].
type ExecPlan = (Vec<CString>, Vec<CString>, Vec<CString>);

impl ImageExecutor {
    fn plan(spec: &Spec) -> Result<ExecPlan, String> {
        let process = spec.process().as_ref().ok_or("the spec has no process")?;
        let cstr = |s: &str| CString::new(s).map_err(|_| format!("NUL byte in {s:?}"));
        let args = process.args().clone().unwrap_or_default();
        let arg0 = args.first().ok_or("empty command")?.clone();
        let argv = args
            .iter()
            .map(|a| cstr(a))
            .collect::<Result<Vec<_>, _>>()?;
        let env = process.env().clone().unwrap_or_default();
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
        Ok((argv, envp, candidates))
    }
}

impl Executor for ImageExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        let (argv, envp, candidates) = Self::plan(spec).map_err(ExecutorError::Other)?;
        // The helper blocks signals it reads from a signalfd; the task starts with none blocked.
        let _ = nix::sys::signal::sigprocmask(
            nix::sys::signal::SigmaskHow::SIG_SETMASK,
            Some(&SigSet::empty()),
            None,
        );
        // SAFETY: PR_SET_PDEATHSIG takes a signal number and touches no memory.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
        let mut last = Errno::ENOENT;
        for c in &candidates {
            let e = nix::unistd::execve(c, &argv, &envp).unwrap_err();
            if e != Errno::ENOENT || last == Errno::ENOENT {
                last = e;
            }
        }
        Err(ExecutorError::Other(format!(
            "executing '{}': {last}",
            argv[0].to_string_lossy()
        )))
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        let (argv, _, candidates) =
            Self::plan(spec).map_err(ExecutorValidationError::ArgValidationError)?;
        if candidates
            .iter()
            .any(|c| Path::new(c.to_str().unwrap_or_default()).is_file())
        {
            return Ok(());
        }
        Err(ExecutorValidationError::ArgValidationError(format!(
            "executable '{}' not found in the image",
            argv[0].to_string_lossy()
        )))
    }

    fn setup_envs(
        &self,
        _: std::collections::HashMap<String, String>,
    ) -> Result<(), libcontainer::workload::ExecutorSetEnvsError> {
        Ok(())
    }
}
