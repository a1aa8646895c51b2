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

const SIGNAL_FD: i32 = 3;
const OOM_FD: i32 = 4;
const EXE_FD: isize = 6;
const POLLIN: i16 = 0x1;
const POLLNVAL: i16 = 0x20;
const EINTR: isize = 4;
const AT_EMPTY_PATH: isize = 0x1000;

/// System call numbers (`asm/unistd.h`).
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const PPOLL: isize = 271;
    pub const EXECVEAT: isize = 322;
    pub const NANOSLEEP: isize = 35;
    pub const EXIT_GROUP: isize = 231;
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const PPOLL: isize = 73;
    pub const EXECVEAT: isize = 281;
    pub const NANOSLEEP: isize = 101;
    pub const EXIT_GROUP: isize = 94;
}

/// `struct pollfd`.
#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

/// Entered from `_start` with the initial stack pointer.
///
/// # Safety
/// `sp` must be the process's initial stack as the kernel laid it out.
#[unsafe(no_mangle)]
unsafe extern "C" fn park_main(sp: *const isize) -> ! {
    // SAFETY: the kernel's initial stack: argc, then argc pointers and a NULL, then envp.
    let (argv, envp) = unsafe {
        let argc = *sp;
        let argv = sp.offset(1);
        (argv, argv.offset(argc + 1))
    };
    let mut fds = [
        PollFd {
            fd: SIGNAL_FD,
            events: POLLIN,
            revents: 0,
        },
        PollFd {
            fd: OOM_FD,
            events: POLLIN,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: `fds` is a valid array of 2 pollfds; no timeout, no signal mask.
        let n = unsafe { syscall(nr::PPOLL, fds.as_mut_ptr() as isize, 2, 0, 0, 8, 0) };
        if n == -EINTR {
            continue;
        }
        // No OOM fd (no memory cgroup): stop watching it.
        if n > 0 && fds[1].revents & POLLNVAL != 0 && fds[0].revents == 0 {
            fds[1].fd = -1;
            continue;
        }
        // SAFETY: "" with AT_EMPTY_PATH runs fd 6 itself; argv and envp are the kernel's
        // NULL-terminated arrays we were started with.
        unsafe {
            syscall(
                nr::EXECVEAT,
                EXE_FD,
                c"".as_ptr() as isize,
                argv as isize,
                envp as isize,
                AT_EMPTY_PATH,
                0,
            );
        }
        // Still here: the exec failed. A pending signal keeps the signalfd readable, so wait
        // before trying again instead of spinning.
        let second = [1isize, 0];
        // SAFETY: a valid timespec; no remainder wanted.
        unsafe { syscall(nr::NANOSLEEP, second.as_ptr() as isize, 0, 0, 0, 0, 0) };
    }
}
