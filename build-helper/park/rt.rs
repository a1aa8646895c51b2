// The runtime both `no_std` park programs share (`supervisor/park/main.rs`,
// `executor/park/main.rs`), pulled in textually with `include!`: each is one source file that
// `meseta_build::build_park` hands to rustc, so there is no crate to share it through.
// The including file defines `mod nr` with at least `EXIT_GROUP` and `fn park_main`.

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
