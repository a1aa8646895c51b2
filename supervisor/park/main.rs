//! `mesos-containerizer-park`: what a supervisor becomes while its container just runs.
//!
//! The full supervisor (a few MiB of code, most of it touched only while launching) execs this
//! ~1 KiB static program once the container is up, so that an idle container costs a few KiB
//! of memory instead of megabytes. It holds no state of its own: everything it needs was left
//! open by the supervisor at fixed descriptors,
//!
//! * fd 3: the signalfd (SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP stay blocked across exec),
//! * fd 4: the OOM notification fd (eventfd or inotify), when there is one,
//! * fd 6: the supervisor's own executable (`O_PATH`),
//!
//! and it sleeps in `ppoll(2)` until one of them is readable. It never reads them: it execs the
//! supervisor again (`execveat(fd 6)` with its own argv and environment), which finds the
//! signal still pending and the OOM event still counted, and does the real work. If that exec
//! fails, it retries every second; the container's exit status stays with the kernel (our
//! child is a zombie until reaped), so it cannot be lost.
//!
//! Built by `build.rs` with `rustc -C panic=abort` (no std, no libc: raw system calls), and
//! embedded in `mesos-containerizer`, which runs it from a memfd.

#![no_std]
#![no_main]

include!("../../build-helper/park/rt.rs");

/// fd 3: the signalfd; fd 4: the OOM notification fd.
const WATCHED: [i32; 2] = [3, 4];
const POLLNVAL: i16 = 0x20;

/// After a wakeup: whether to go on waiting. With no OOM fd (no memory cgroup) fd 4 is
/// invalid: it is dropped from the watch.
fn stay(fds: &mut [PollFd; 2]) -> bool {
    if fds[1].revents & POLLNVAL != 0 && fds[0].revents == 0 {
        fds[1].fd = -1;
        return true;
    }
    false
}
