//! `mesos-executor-park`: what a command executor becomes while its task just runs.
//!
//! Once the task is running, every update is acknowledged and no health check is
//! configured, the executor has nothing to do until the agent says something or the task
//! exits; it then execs this ~1 KiB static program instead of keeping megabytes of its own
//! code resident. Everything is left open at fixed descriptors:
//!
//! * fd 3: the SUBSCRIBE connection to the agent (its buffer was empty, between two chunks),
//! * fd 4: a pidfd of the task,
//! * fd 5: a memfd with the executor's state (not read here),
//! * fd 6: the executor's own executable (`O_PATH`),
//!
//! and it sleeps in `ppoll(2)`. HEARTBEAT events (one chunk each, the only thing an agent
//! sends an idle executor) are read and dropped here, so a heartbeat does not wake the
//! executor; anything else on the connection (a KILL, SHUTDOWN, a closed or broken stream,
//! a chunk that arrived only in part) and the task's exit exec the executor again
//! (`execveat(fd 6)` with this process's argv and environment), which reads the connection
//! and waits for the task itself. Only whole heartbeats are ever consumed, so the stream is
//! left exactly between two chunks. If that exec fails, it retries every second: the task's
//! exit status stays with the kernel until reaped, and the agent's bytes stay in the socket.
//!
//! Built by `build.rs` with `rustc -C panic=abort` (no std, no libc: raw system calls), and
//! embedded in `mesos-executor`, which runs it from a memfd.

#![no_std]
#![no_main]

include!("../../build-helper/park/rt.rs");

include!("heartbeat.rs");

const SOCKET_FD: isize = 3;
/// fd 3: the SUBSCRIBE connection; fd 4: the task's pidfd.
const WATCHED: [i32; 2] = [SOCKET_FD as i32, 4];
const MSG_PEEK: isize = 0x2;
const MSG_DONTWAIT: isize = 0x40;
/// Whole heartbeats read at once at most.
const PEEK: usize = 16 * HEARTBEAT_CHUNK.len();

/// `recv(SOCKET_FD, buf, len, flags)`.
fn recv(buf: *mut u8, len: usize, flags: isize) -> isize {
    // SAFETY: the callers pass a buffer valid for writes of `len` bytes; no source address
    // is asked for.
    unsafe { syscall(nr::RECVFROM, SOCKET_FD, buf as isize, len as isize, flags, 0, 0) }
}

/// Reads and drops what is waiting on the connection if it is nothing but whole
/// heartbeats; returns whether it was (false: the executor must look at it).
///
/// Written with indices checked by hand and no slice comparisons: this program has no
/// `memcmp` and no panic machinery to link against.
fn drop_heartbeats() -> bool {
    let mut buf = core::mem::MaybeUninit::<[u8; PEEK]>::uninit();
    let base = buf.as_mut_ptr().cast::<u8>();
    let n = recv(base, PEEK, MSG_PEEK | MSG_DONTWAIT);
    let beat = HEARTBEAT_CHUNK.len();
    if n <= 0 || n as usize % beat != 0 {
        // End of stream, an error, nothing after all, or not whole heartbeats.
        return false;
    }
    let n = n as usize;
    let mut i = 0;
    while i < n {
        // SAFETY: i < n <= PEEK, and the kernel wrote the first n bytes.
        let byte = unsafe { base.add(i).read() };
        // SAFETY: i % beat < beat == HEARTBEAT_CHUNK.len().
        if byte != unsafe { *HEARTBEAT_CHUNK.get_unchecked(i % beat) } {
            return false;
        }
        i += 1;
    }
    // Exactly those bytes: anything that arrived since stays for the next round.
    recv(base, n, MSG_DONTWAIT) == n as isize
}

/// After a wakeup: whether to go on waiting (only heartbeats arrived, now dropped).
fn stay(fds: &mut [PollFd; 2]) -> bool {
    fds[1].revents == 0 && fds[0].revents == POLLIN && drop_heartbeats()
}
