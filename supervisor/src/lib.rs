//! The per-container supervisor: `mesos-containerizer launch --runtime_dir=D --container_id=C`.
//!
//! A small single-threaded process, started by the agent with `setsid`, that owns exactly one
//! container for its whole life and outlives an agent restart:
//!
//! ```text
//!  read launch_info ─► cgroups: create ─► clone(namespaces; v2: inside the cgroup, v1: the
//!        child moves itself in) ─► cgroups: limit ─► "go" ─► child execs (or reports why
//!        not) ─► report "ok <pid>" to the agent
//!        ─► supervise: reap on SIGCHLD, SIGTERM(+grace via sigqueue) kills the container;
//!           while idle, parked as a ~1 KiB program that execs `resume` on any event (park.rs)
//!        ─► container gone: OOM? ─► destroy cgroups ─► write `termination` ─► exit
//! ```
//!
//! It is the only process that waits for the container, so the exit status cannot be lost:
//! it is written under the runtime dir before the supervisor exits.

mod child;
pub mod error;
pub mod oci;
mod park;
pub mod run_task;
mod supervise;

use std::ffi::{CString, OsString};
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use isolators::cgroups::{OomWatch, SelfJoin};
use isolators::{Cgroups, ContainerCgroup};
use meseta_containerizer_api::launch_info::LaunchInfo;
use meseta_containerizer_api::paths::ContainerPaths;
use meseta_containerizer_api::termination::Termination;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::waitpid;
use nix::unistd::{pipe2, write, Pid, User};

use self::child::ChildPlan;
use self::supervise::Supervised;

/// Time allowed for a container's processes to disappear after SIGKILL.
const DESTROY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a supervisor stays resident with nothing to do before it parks: short tasks end
/// before that and never pay for the exec out and back in.
const PARK_AFTER: Duration = Duration::from_millis(500);
/// Stack for the cloned child until it execs.
const CHILD_STACK: usize = 256 * 1024;

/// Runs the supervisor for one container; returns the process exit code.
///
/// `report` is where the agent reads the launch result: one line, `ok <pid>` or
/// `error <message>`. Nothing else is ever written to it.
pub fn run(runtime_dir: &Path, container_id: &str, report: &mut dyn Write) -> i32 {
    // A session of its own, so the agent's death (or its terminal's) does not reach us. The
    // agent spawns us without a pre_exec hook so that std can use posix_spawn.
    let _ = nix::unistd::setsid();
    let paths = ContainerPaths::new(runtime_dir, container_id);
    if let Err(e) = std::fs::write(paths.supervisor_pid(), std::process::id().to_string()) {
        return fail(
            &paths,
            report,
            format!("writing {}: {e}", paths.supervisor_pid().display()),
        );
    }
    let info = match read_launch_info(&paths, container_id) {
        Ok(info) => info,
        Err(msg) => return fail(&paths, report, msg),
    };
    let sfd = match block_signals() {
        Ok(sfd) => sfd,
        Err(msg) => return fail(&paths, report, msg),
    };
    let (child, cgroup, oom) = match launch(&info) {
        Ok(launched) => launched,
        Err(msg) => {
            if let Some(c) = &info.cgroups {
                let _ = Cgroups::with_version(c.version, &c.hierarchy, &c.root)
                    .destroy(container_id, DESTROY_TIMEOUT);
            }
            return fail(&paths, report, msg);
        }
    };
    let _ = std::fs::write(paths.pid(), child.to_string());
    let _ = writeln!(report, "ok {child}");
    let _ = report.flush();
    let oom_fds = oom.as_ref().map(|w| {
        let control = match w {
            OomWatch::V1 { _control, .. } => Some(_control.as_fd()),
            OomWatch::V2(_) => None,
        };
        (w.fd(), control)
    });
    let exe = park::open_self()
        .map_err(|e| eprintln!("mesos-containerizer: cannot park: {e}"))
        .ok();
    let ctx = Supervisor {
        runtime_dir,
        paths: &paths,
        container_id,
        child,
        info: &info,
        cgroup: cgroup.as_ref(),
    };
    ctx.supervise_and_conclude(&sfd, oom_fds, exe.as_ref().map(AsFd::as_fd))
}

/// Everything the supervision of a running container needs.
struct Supervisor<'a> {
    runtime_dir: &'a Path,
    paths: &'a ContainerPaths,
    container_id: &'a str,
    child: Pid,
    info: &'a LaunchInfo,
    cgroup: Option<&'a ContainerCgroup>,
}

impl Supervisor<'_> {
    /// Supervises until the container ends (parking while idle when `exe` is given), then
    /// cleans up and records the termination; returns the process exit code.
    fn supervise_and_conclude(
        &self,
        sfd: &SignalFd,
        oom: Option<(BorrowedFd<'_>, Option<BorrowedFd<'_>>)>,
        exe: Option<BorrowedFd<'_>>,
    ) -> i32 {
        let mut park_at = exe.map(|_| std::time::Instant::now() + PARK_AFTER);
        let outcome = loop {
            let grace = self.info.kill_grace_ms;
            let oom_fd = oom.map(|(fd, _)| fd);
            match supervise::supervise(self.child, sfd, self.cgroup, oom_fd, grace, park_at) {
                Supervised::Ended(outcome) => break outcome,
                Supervised::Idle => {
                    if let Some(exe) = exe {
                        let handover = park::Handover {
                            signals: sfd.as_fd(),
                            oom,
                            exe,
                            resume_args: self.resume_args(oom.is_some()),
                        };
                        let e = park::park(&handover);
                        eprintln!("mesos-containerizer: cannot park, waiting in full: {e}");
                    }
                    park_at = None;
                }
            }
        };
        self.conclude(outcome)
    }

    /// `resume` arguments that bring this supervision back after parking.
    fn resume_args(&self, oom: bool) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "resume".into(),
            format!("--runtime_dir={}", self.runtime_dir.display()).into(),
            format!("--container_id={}", self.container_id).into(),
            format!("--pid={}", self.child).into(),
        ];
        if oom {
            args.push("--oom_fd".into());
        }
        args
    }

    /// After the container's first process is gone: cgroups removed, termination written.
    fn conclude(&self, outcome: supervise::Outcome) -> i32 {
        let cgroup = self.cgroup;
        let oom_killed = outcome.oom || cgroup.is_some_and(ContainerCgroup::oom_killed);
        if let Some(c) = &self.info.cgroups {
            let cgroups = Cgroups::with_version(c.version, &c.hierarchy, &c.root);
            for dir in cgroups.paths(self.container_id).unwrap_or_default() {
                remove_nested_cgroups(&dir);
            }
        }
        finish(cgroup, self.container_id, self.child);
        let termination = Termination::from_wait_status(outcome.status, oom_killed, outcome.killed);
        let path = self.paths.termination();
        if let Err(e) = termination.write(&path) {
            eprintln!("mesos-containerizer: writing {}: {e}", path.display());
            return 1;
        }
        0
    }
}

/// Continues supervising a container after parking: `mesos-containerizer resume`. The park
/// handed back the signalfd (fd 3), the OOM fd (fd 4, when `oom_fd`) and our executable
/// (fd 6); the event that woke it is still pending.
pub fn resume(runtime_dir: &Path, container_id: &str, child: Pid, oom_fd: bool) -> i32 {
    let paths = ContainerPaths::new(runtime_dir, container_id);
    // A fresh signalfd: the signals are still blocked and pending, whoever reads them.
    drop(park::adopt(park::SIGNAL_FD));
    let oom = oom_fd.then(|| park::adopt(park::OOM_FD)).flatten();
    let control = oom_fd.then(|| park::adopt(park::OOM_CONTROL_FD)).flatten();
    let exe = park::adopt(park::EXE_FD);
    let sfd = match block_signals() {
        Ok(sfd) => sfd,
        Err(msg) => return resume_failed(&paths, child, &msg),
    };
    let info = match read_launch_info(&paths, container_id) {
        Ok(info) => info,
        Err(msg) => return resume_failed(&paths, child, &msg),
    };
    let cgroup = match &info.cgroups {
        None => None,
        Some(c) => match Cgroups::with_version(c.version, &c.hierarchy, &c.root).open(container_id)
        {
            Ok(cg) => Some(cg),
            Err(e) => {
                eprintln!("mesos-containerizer: opening the cgroups of {container_id}: {e}");
                None
            }
        },
    };
    let ctx = Supervisor {
        runtime_dir,
        paths: &paths,
        container_id,
        child,
        info: &info,
        cgroup: cgroup.as_ref(),
    };
    let oom = oom
        .as_ref()
        .map(|fd| (fd.as_fd(), control.as_ref().map(AsFd::as_fd)));
    ctx.supervise_and_conclude(&sfd, oom, exe.as_ref().map(AsFd::as_fd))
}

/// Resuming failed before supervision could start again: still reap the child and record
/// how it ended, so that its exit status is not lost.
fn resume_failed(paths: &ContainerPaths, child: Pid, msg: &str) -> i32 {
    eprintln!("mesos-containerizer: resuming: {msg}");
    let status = match waitpid(child, None) {
        Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => (code & 0xff) << 8,
        Ok(nix::sys::wait::WaitStatus::Signaled(_, sig, _)) => sig as i32,
        _ => 0,
    };
    let t = Termination::from_wait_status(status, false, false);
    let _ = t.write(&paths.termination());
    1
}

fn fail(paths: &ContainerPaths, report: &mut dyn Write, msg: String) -> i32 {
    let _ = Termination::launch_failed(msg.clone()).write(&paths.termination());
    let line = msg.replace('\n', " ");
    let _ = writeln!(report, "error {line}");
    let _ = report.flush();
    1
}

fn read_launch_info(paths: &ContainerPaths, container_id: &str) -> Result<LaunchInfo, String> {
    let bytes = std::fs::read(paths.launch_info())
        .map_err(|e| format!("reading {}: {e}", paths.launch_info().display()))?;
    let info: LaunchInfo = serde_json::from_slice(&bytes)
        .map_err(|e| format!("parsing {}: {e}", paths.launch_info().display()))?;
    if info.container_id != container_id {
        return Err(format!(
            "{} is for container '{}'",
            paths.launch_info().display(),
            info.container_id
        ));
    }
    if info.command.argv.is_empty() {
        return Err("empty command".into());
    }
    Ok(info)
}

/// Blocks the signals the supervisor handles and returns a signalfd for them. Blocked before
/// the clone, so no SIGCHLD can be missed.
fn block_signals() -> Result<SignalFd, String> {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGCHLD,
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGHUP,
    ] {
        set.add(s);
    }
    set.thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    // SAFETY: ignoring SIGPIPE installs no handler code; the agent may be gone when we write.
    unsafe { nix::sys::signal::signal(Signal::SIGPIPE, nix::sys::signal::SigHandler::SigIgn) }
        .map_err(|e| format!("ignoring SIGPIPE: {e}"))?;
    // Orphans of the task are re-parented here and reaped, rather than leaking as zombies.
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an int flag and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| format!("signalfd: {e}"))
}

/// Clones the container's first process, puts it in its cgroups, lets it run and waits until
/// it has exec'd (or reported why it could not).
///
/// The child prepares its namespaces and mounts while we set up its cgroups (the two overlap
/// on a multi-core host); it waits for our "go" only right before `execve`, so no user code
/// ever runs outside the cgroups.
fn launch(info: &LaunchInfo) -> Result<(Pid, Option<ContainerCgroup>, Option<OomWatch>), String> {
    let (go_r, go_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    // The cgroups exist before the child does, and it gets into them without the kernel's
    // global migration lock: on v1 it moves itself in (`SelfJoin`), on v2 it is created inside
    // (`CloneInto`). Only where clone3 cannot do that (kernels before 5.7) do we move it.
    let (cgroups, join, clone_into) = match &info.cgroups {
        None => (None, None, None),
        Some(spec) => {
            let cgroups = Cgroups::with_version(spec.version, &spec.hierarchy, &spec.root);
            let id = &info.container_id;
            let prepared = cgroups
                .prepare_self_join(id)
                .and_then(|join| Ok((join, cgroups.prepare_clone_into(id)?)));
            let (join, into) = prepared.map_err(|e| format!("setting up cgroups: {e}"))?;
            (Some((cgroups, spec.controllers)), join, into)
        }
    };
    let plan = plan(info, go_r, err_w, join.as_ref())?;
    let flags: CloneFlags = info.namespaces.clone_flags();
    // v2: created inside its cgroup, unless clone3 cannot do that.
    let created_inside = match &clone_into {
        None => None,
        // SAFETY: the supervisor is single-threaded, so the child is a consistent copy of it.
        Some(into) => match unsafe { into.fork(flags) } {
            Ok(None) => {
                let code = child::run(&plan);
                // SAFETY: the child ends here without unwinding into the supervisor's code.
                unsafe { libc::_exit(i32::try_from(code).unwrap_or(127)) }
            }
            Ok(Some(pid)) => Some(pid),
            Err(e) => {
                eprintln!(
                    "mesos-containerizer: clone3(CLONE_INTO_CGROUP) failed ({e}); moving the \
                     container's first process into its cgroup instead"
                );
                None
            }
        },
    };
    // The child is in its cgroups already (v2) or moves itself in (v1): nothing to attach.
    let in_place = join.is_some() || created_inside.is_some();
    let child = match created_inside {
        Some(pid) => pid,
        None => {
            let mut stack = vec![0u8; CHILD_STACK];
            // SAFETY: the supervisor is single-threaded, so the child is a consistent copy of
            // it; the callback only touches `plan`, which lives until after the child has
            // exec'd or exited.
            unsafe {
                nix::sched::clone(
                    Box::new(|| child::run(&plan)),
                    &mut stack,
                    flags,
                    Some(libc::SIGCHLD),
                )
            }
            .map_err(|e| format!("clone({flags:?}): {e}"))?
        }
    };
    drop(plan);
    drop(join);
    drop(clone_into);

    // While the child sets up its namespaces.
    let cgroup = match cgroups {
        None => None,
        Some((cgroups, controllers)) => {
            let placed = cgroups.open(&info.container_id).and_then(|cg| {
                if in_place {
                    cg.limit(&info.limits, controllers)?;
                } else {
                    cg.attach(child, &info.limits, controllers)?;
                }
                Ok(cg)
            });
            match placed {
                Ok(cg) => Some(cg),
                Err(e) => {
                    let _ = kill(child, Signal::SIGKILL);
                    let _ = waitpid(child, None);
                    return Err(format!("setting up cgroups: {e}"));
                }
            }
        }
    };
    // Registered before the task runs, so even an immediate OOM kill is seen.
    let oom = cgroup
        .as_ref()
        .filter(|_| info.cgroups.as_ref().is_some_and(|c| c.controllers.memory))
        .and_then(|cg| match cg.watch_oom() {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("mesos-containerizer: cannot watch for OOM kills: {e}");
                None
            }
        });
    // The child may already have failed (and closed its end): its own message says why.
    let started = write(&go_w, b"g");
    drop(go_w);
    let mut msg = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match nix::unistd::read(err_r.as_raw_fd(), &mut buf) {
            Ok(0) => break,
            Ok(n) => msg.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("reading launch result: {e}")),
        }
    }
    if msg.is_empty() {
        if let Err(e) = started {
            return Err(format!("starting the container: {e}"));
        }
        return Ok((child, cgroup, oom));
    }
    let _ = waitpid(child, None);
    Err(String::from_utf8_lossy(&msg).into_owned())
}

fn plan<'a>(
    info: &'a LaunchInfo,
    go: OwnedFd,
    errors: OwnedFd,
    join: Option<&'a SelfJoin>,
) -> Result<ChildPlan<'a>, String> {
    let cstr = |s: &str| CString::new(s).map_err(|_| format!("NUL byte in {s:?}"));
    let argv = info
        .command
        .argv
        .iter()
        .map(|a| cstr(a))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = info
        .command
        .env
        .iter()
        .map(|(k, v)| cstr(&format!("{k}={v}")))
        .collect::<Result<Vec<_>, _>>()?;
    let arg0 = &info.command.argv[0];
    let candidates = if arg0.contains('/') {
        vec![cstr(arg0)?]
    } else {
        info.command
            .path_var()
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| cstr(&format!("{}/{arg0}", d.trim_end_matches('/'))))
            .collect::<Result<Vec<_>, _>>()?
    };
    let user = match &info.command.user {
        None => None,
        Some(name) => {
            let u = User::from_name(name)
                .map_err(|e| format!("looking up user '{name}': {e}"))?
                .ok_or_else(|| format!("user '{name}' does not exist"))?;
            let cname = cstr(name)?;
            let groups = nix::unistd::getgrouplist(&cname, u.gid).unwrap_or_else(|_| vec![u.gid]);
            Some((u.uid, u.gid, groups))
        }
    };
    let open_log = |name: &str| -> Result<OwnedFd, String> {
        let path = info.sandbox.join(name);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map(OwnedFd::from)
            .map_err(|e| format!("opening {}: {e}", path.display()))
    };
    let stdin = std::fs::File::open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| format!("/dev/null: {e}"))?;
    let stdout = open_log("stdout")?;
    let stderr = open_log("stderr")?;
    if let Some((uid, gid, _)) = &user {
        for fd in [&stdout, &stderr] {
            let _ = nix::unistd::fchown(fd.as_fd().as_raw_fd(), Some(*uid), Some(*gid));
        }
    }
    let hostname = info
        .hostname
        .clone()
        .unwrap_or_else(|| info.container_id.chars().take(64).collect());
    let working_dir = info.effective_working_dir();
    Ok(ChildPlan {
        info,
        argv,
        envp,
        candidates,
        working_dir,
        hostname,
        user,
        stdin,
        stdout,
        stderr,
        go,
        errors,
        caps: info.rootfs.as_ref().map(|_| oci::docker_default_caps()),
        join,
    })
}

/// After the container's first process is gone: kill whatever is left and remove the cgroups.
fn finish(cgroup: Option<&ContainerCgroup>, container_id: &str, child: Pid) {
    match cgroup {
        Some(cg) => {
            if let Err(e) = cg.destroy(DESTROY_TIMEOUT) {
                eprintln!("mesos-containerizer: destroying cgroups of {container_id}: {e}");
            }
        }
        // Without cgroups the task's session is all we can find (as Mesos's posix launcher).
        None => {
            let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
        }
    }
    supervise::reap_all(Duration::from_secs(2));
}

// Container images.
/// Kills the processes of, and removes, the cgroups nested in a container's cgroup (a task
/// run inside an image has one: `<container>/task`), deepest first, so that the container's
/// own cgroup can be removed.
fn remove_nested_cgroups(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for child in entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
    {
        let child = child.path();
        remove_nested_cgroups(&child);
        for _ in 0..200 {
            let procs = std::fs::read_to_string(child.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            if std::fs::remove_dir(&child).is_ok() || !child.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
