// The runtime both `no_std` park programs share (`supervisor/park/main.rs`,
// `executor/park/main.rs`), pulled in textually with `include!`: each is one source file that
// `meseta_build::build_park` hands to rustc, so there is no crate to share it through.
// The including file defines `WATCHED` (the two descriptors to wait on) and `fn stay` (after
// a wakeup: whether to go on waiting); everything else, down to the exec back into the full
// program, is here.

use core::arch::{asm, global_asm};

// The kernel starts us with argc, argv[], NULL, envp[], NULL on the stack.
#[cfg(target_arch = "x86_64")]
global_asm!(
    ".globl _start",
    "_start:",
    "mov rdi, rsp",
    "and rsp, -16",
    "call park_main",
    "ud2"
);
#[cfg(target_arch = "aarch64")]
global_asm!(
    ".globl _start",
    "_start:",
    "mov x0, sp",
    "bl park_main",
    "brk #0"
);

/// A raw system call with up to six arguments (unused ones 0).
#[cfg(target_arch = "x86_64")]
unsafe fn syscall(n: isize, a: isize, b: isize, c: isize, d: isize, e: isize, f: isize) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, in("r8") e, in("r9") f, lateout("rcx") _, lateout("r11") _,
             options(nostack));
    }
    ret
}
/// A raw system call with up to six arguments (unused ones 0).
#[cfg(target_arch = "aarch64")]
unsafe fn syscall(n: isize, a: isize, b: isize, c: isize, d: isize, e: isize, f: isize) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for system call `n`.
    unsafe {
        asm!("svc 0", in("x8") n, inlateout("x0") a => ret, in("x1") b, in("x2") c, in("x3") d,
             in("x4") e, in("x5") f, options(nostack));
    }
    ret
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        // SAFETY: exit_group takes an int and does not return.
        unsafe { syscall(nr::EXIT_GROUP, 127, 0, 0, 0, 0, 0) };
    }
}

/// The full program's own executable (`O_PATH`), left open by it.
const EXE_FD: isize = 6;
const POLLIN: i16 = 0x1;
const EINTR: isize = 4;
const AT_EMPTY_PATH: isize = 0x1000;

/// System call numbers (`asm/unistd.h`).
#[cfg(target_arch = "x86_64")]
#[allow(dead_code)]
mod nr {
    pub const PPOLL: isize = 271;
    pub const RECVFROM: isize = 45;
    pub const EXECVEAT: isize = 322;
    pub const NANOSLEEP: isize = 35;
    pub const EXIT_GROUP: isize = 231;
}
#[cfg(target_arch = "aarch64")]
#[allow(dead_code)]
mod nr {
    pub const PPOLL: isize = 73;
    pub const RECVFROM: isize = 207;
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

/// Entered from `_start` with the initial stack pointer: waits in `ppoll` on `WATCHED` until
/// `stay` says a wakeup is for the full program, then execs it (fd 6) with the argv and
/// environment we were started with.
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
    let mut fds = WATCHED.map(|fd| PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    });
    loop {
        // SAFETY: `fds` is a valid array of 2 pollfds; no timeout, no signal mask.
        let n = unsafe { syscall(nr::PPOLL, fds.as_mut_ptr() as isize, 2, 0, 0, 8, 0) };
        if n == -EINTR || (n > 0 && stay(&mut fds)) {
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
        // Still here: the exec failed. Whatever woke us is still there (a pending signal
        // keeps a signalfd readable), so wait before trying again instead of spinning.
        let second = [1isize, 0];
        // SAFETY: a valid timespec; no remainder wanted.
        unsafe { syscall(nr::NANOSLEEP, second.as_ptr() as isize, 0, 0, 0, 0, 0) };
    }
}
