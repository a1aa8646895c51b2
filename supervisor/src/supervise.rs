//! The supervisor's event loop: the one place that waits for the container.
//!
//! Signals arrive on a signalfd. SIGCHLD reaps (the container's first process, and orphans
//! re-parented to us as subreaper). SIGTERM/SIGINT/SIGQUIT mean "kill the container": a
//! `sigqueue(2)` value carries the grace period in milliseconds (0 = SIGKILL now); a plain
//! `kill` uses the launch's default grace. After the grace period everything gets SIGKILL.
//!
//! When parking is allowed (`park_at`), the loop blocks only until then: once that time has
//! passed with nothing pending and no kill under way, it returns [`Supervised::Idle`], and the caller
//! parks (see `park.rs`) instead of waiting here with the whole supervisor resident. The delay
//! spares short tasks (and bursts of events) an exec out and back in.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use isolators::ContainerCgroup;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// How the container's first process ended.
#[derive(Debug, Clone, Copy)]
pub(super) struct Outcome {
    /// Raw wait status.
    pub status: i32,
    /// Whether it was killed on request.
    pub killed: bool,
    /// Whether the container was ended because its memory cgroup ran out of memory.
    pub oom: bool,
}

/// Where supervision stands when [`supervise`] returns.
#[derive(Debug, Clone, Copy)]
pub(super) enum Supervised {
    /// The container's first process ended.
    Ended(Outcome),
    /// Nothing pending, no kill under way: the caller may park.
    Idle,
}

/// `si_code` of a signal sent with `sigqueue(3)`.
const SI_QUEUE: i32 = -1;

/// Waits for `child` to end, acting on kill requests meanwhile; with `park_at`, returns
/// [`Supervised::Idle`] once that time has passed with nothing to do.
pub(super) fn supervise(
    child: Pid,
    sfd: &SignalFd,
    cgroup: Option<&ContainerCgroup>,
    oom: Option<BorrowedFd<'_>>,
    default_grace_ms: u64,
    park_at: Option<Instant>,
) -> Supervised {
    let mut deadline: Option<Instant> = None;
    let mut killed = false;
    let mut oom_seen = false;
    // Mesos's memory limitation: once the kernel OOM-kills anything in the container, the
    // whole container ends (the task must not carry on without the process that died). The
    // watch was registered before the task could run, so no OOM kill goes unnoticed.
    if cgroup.is_some_and(ContainerCgroup::oom_killed) {
        oom_seen = true;
        kill_now(child, cgroup);
    }
    loop {
        let park_at = park_at.filter(|_| !killed && !oom_seen && deadline.is_none());
        let timeout = match deadline.or(park_at) {
            None => PollTimeout::NONE,
            Some(d) => {
                let ms = d.saturating_duration_since(Instant::now()).as_millis();
                // Waits longer than u16::MAX ms are re-armed on the next turn.
                PollTimeout::from(u16::try_from(ms).unwrap_or(u16::MAX))
            }
        };
        let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if let Some(w) = oom {
            fds.push(PollFd::new(w, PollFlags::POLLIN));
        }
        match poll(&mut fds, timeout) {
            Ok(0) if park_at.is_some_and(|t| Instant::now() >= t) => return Supervised::Idle,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => eprintln!("mesos-containerizer: poll: {e}"),
        }
        let oom_ready = fds
            .get(1)
            .and_then(|f| f.revents())
            .is_some_and(|r| r.contains(PollFlags::POLLIN));
        drop(fds);
        if oom_ready {
            if let (Some(w), Some(cg)) = (oom, cgroup) {
                drain(w);
                if cg.oom_notified() || cg.oom_killed() {
                    oom_seen = true;
                    kill_now(child, cgroup);
                }
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            kill_now(child, cgroup);
            deadline = None;
        }
        while let Ok(Some(info)) = sfd.read_signal() {
            let signo = i32::try_from(info.ssi_signo).unwrap_or(0);
            if signo == Signal::SIGCHLD as i32 {
                if let Some(status) = reap(child) {
                    return Supervised::Ended(Outcome {
                        status,
                        killed,
                        oom: oom_seen,
                    });
                }
            } else if [Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT]
                .iter()
                .any(|s| *s as i32 == signo)
            {
                killed = true;
                let grace_ms = if info.ssi_code == SI_QUEUE {
                    u64::try_from(info.ssi_int).unwrap_or(0)
                } else {
                    default_grace_ms
                };
                if grace_ms == 0 {
                    kill_now(child, cgroup);
                } else {
                    terminate(child, cgroup);
                    let d = Instant::now() + Duration::from_millis(grace_ms);
                    deadline = Some(deadline.map_or(d, |old| old.min(d)));
                }
            }
        }
    }
}

/// Consumes pending notifications of a non-blocking eventfd or inotify fd.
fn drain(fd: BorrowedFd<'_>) {
    let mut buf = [0u8; 4096];
    while nix::unistd::read(fd.as_raw_fd(), &mut buf).is_ok_and(|n| n > 0) {}
}

/// Reaps every exited child; returns the wait status of `child` once it is among them.
fn reap(child: Pid) -> Option<i32> {
    let mut found = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return found,
            Ok(WaitStatus::Exited(pid, code)) if pid == child => found = Some((code & 0xff) << 8),
            Ok(WaitStatus::Signaled(pid, sig, core)) if pid == child => {
                found = Some(sig as i32 | if core { 0x80 } else { 0 })
            }
            Ok(_) => {}
        }
    }
}

/// Reaps whatever children remain, for at most `limit`, SIGKILLing them on the way: once the
/// container's first process is gone, any child left is an orphan of the task re-parented to us
/// (a process that left the task's session, which no process-group kill reaches). Killing it
/// re-parents its own children to us in turn, so the loop takes the whole tree, as Mesos's posix
/// launcher `killtree`s a container. With cgroups the destroy has killed them all already.
pub(super) fn reap_all(limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut killed_at: Option<Instant> = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Err(Errno::ECHILD) => return,
            Ok(WaitStatus::StillAlive) => {
                let now = Instant::now();
                if now >= deadline {
                    return;
                }
                if killed_at.is_none_or(|t| now.duration_since(t) >= Duration::from_millis(10)) {
                    for pid in own_children() {
                        let _ = kill(pid, Signal::SIGKILL);
                    }
                    killed_at = Some(now);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            _ => {}
        }
    }
}

/// The live children of this process, from `/proc/<pid>/stat` (the parent pid is the second
/// field after the `)` that ends the command name, which may itself hold spaces and parens).
fn own_children() -> Vec<Pid> {
    let me = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let name = entry.ok()?.file_name();
        let pid: i32 = name.to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        let ppid = rest.split_ascii_whitespace().nth(1)?;
        (ppid == me).then_some(Pid::from_raw(pid))
    })
    .collect()
}

/// SIGTERM to every process of the container, so each can shut down cleanly.
fn terminate(child: Pid, cgroup: Option<&ContainerCgroup>) {
    let _ = kill(child, Signal::SIGTERM);
    match cgroup {
        Some(cg) => {
            let _ = cg.signal_all(Signal::SIGTERM);
        }
        None => {
            let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGTERM);
        }
    }
}

/// SIGKILL to every process of the container, with no chance to fork away.
fn kill_now(child: Pid, cgroup: Option<&ContainerCgroup>) {
    let _ = kill(child, Signal::SIGKILL);
    match cgroup {
        Some(cg) => {
            if let Err(e) = cg.kill_all() {
                eprintln!("mesos-containerizer: killing {cg:?}: {e}");
            }
        }
        None => {
            let _ = kill(Pid::from_raw(-child.as_raw()), Signal::SIGKILL);
        }
    }
}
