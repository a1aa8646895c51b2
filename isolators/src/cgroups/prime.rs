//! Starting a launch's cgroup-migration wait early.
//!
//! Every write to a `cgroup.procs` file takes the kernel's global `cgroup_threadgroup_rwsem`
//! for writing. After a quiet spell that lock's fast path must be switched off first, which
//! waits for an RCU grace period: measured 7–16 ms for the first migration after a pause on
//! this project's cgroup v1 test host, 0.1 ms for one right after it (the lock is the same for
//! cgroup v2, so v2 hosts wait the same way; not measured here). The lock
//! stays switched for about one grace period after the last writer, and a writer that arrives
//! while a grace period is already running waits only for the rest of it.
//!
//! So when a launch begins, before image lookup, sandbox setup and the supervisor's spawn, a
//! background thread makes one no-op migration (this process into the cgroup it is already
//! in). The grace period then runs alongside that work instead of after it, and the
//! supervisor's real migration a few milliseconds later waits only for what is left. Kernels
//! that never need the wait (`favordynmods`, or the per-threadgroup lock of Linux 6.18+ once it
//! is on) make the write cost ~0.2 ms on a thread nobody waits for.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{CgroupVersion, V1_CONTROLLERS};

/// A write this recent still keeps the fast state (that lasts about one grace period, and
/// grace periods take a few milliseconds at least), so a burst of launches primes once.
const STILL_WARM: Duration = Duration::from_millis(3);

/// The primer thread's mailbox, whether a write is already queued, and when the last one
/// ended (microseconds since `epoch`).
struct Primer {
    wake: SyncSender<()>,
    queued: AtomicBool,
    epoch: Instant,
    last_done_us: AtomicU64,
}

impl Primer {
    fn since_epoch(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

static PRIMER: OnceLock<Option<Primer>> = OnceLock::new();

/// Starts a no-op migration of this process on a background thread, unless one is already
/// queued or running. Never blocks and never fails: a host where the write is refused just
/// loses the head start (logged once).
pub(super) fn prime(version: CgroupVersion, hierarchy: &Path) {
    let primer = PRIMER.get_or_init(|| start(version, hierarchy));
    if let Some(p) = primer {
        let last = p.last_done_us.load(Ordering::Acquire);
        let warm = last != 0 && p.since_epoch().saturating_sub(last) < micros(STILL_WARM);
        if !warm && !p.queued.swap(true, Ordering::AcqRel) {
            let _ = p.wake.try_send(());
        }
    }
}

fn start(version: CgroupVersion, hierarchy: &Path) -> Option<Primer> {
    let procs = own_procs_file(version, hierarchy)?;
    let (tx, rx) = sync_channel::<()>(1);
    let spawned = std::thread::Builder::new()
        .name("cgroup-primer".into())
        .spawn(move || {
            let pid = std::process::id().to_string();
            while rx.recv().is_ok() {
                let primer = PRIMER.get().and_then(Option::as_ref);
                if let Some(p) = primer {
                    p.queued.store(false, Ordering::Release);
                }
                if let Err(e) = std::fs::write(&procs, &pid) {
                    tracing::warn!(file = %procs.display(), "cgroup priming disabled: {e}");
                    return;
                }
                if let Some(p) = primer {
                    p.last_done_us
                        .store(p.since_epoch().max(1), Ordering::Release);
                }
            }
        });
    match spawned {
        Ok(_) => Some(Primer {
            wake: tx,
            queued: AtomicBool::new(false),
            epoch: Instant::now(),
            last_done_us: AtomicU64::new(0),
        }),
        Err(e) => {
            tracing::warn!("cgroup priming disabled: cannot start its thread: {e}");
            None
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The `cgroup.procs` of the cgroup this process is in: on v1 in the first mounted controller
/// hierarchy of [`V1_CONTROLLERS`], on v2 the unified one.
fn own_procs_file(version: CgroupVersion, hierarchy: &Path) -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let file = match version {
        CgroupVersion::V2 => {
            let rel = own.lines().find_map(|l| l.strip_prefix("0::"))?;
            hierarchy.join(rel.trim_start_matches('/'))
        }
        CgroupVersion::V1 => V1_CONTROLLERS.iter().find_map(|ctrl| {
            let rel = own.lines().find_map(|l| {
                let mut f = l.splitn(3, ':');
                let (_, names, path) = (f.next()?, f.next()?, f.next()?);
                (names == *ctrl).then_some(path)
            })?;
            let dir = hierarchy.join(ctrl).join(rel.trim_start_matches('/'));
            dir.is_dir().then_some(dir)
        })?,
    }
    .join("cgroup.procs");
    file.exists().then_some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_procs_file_is_found_on_this_host() {
        // Every Linux host running these tests has /proc/self/cgroup; the layout decides which
        // file it names, and it must be the cgroup this process is actually in.
        let v1 = own_procs_file(CgroupVersion::V1, Path::new("/sys/fs/cgroup"));
        let v2 = own_procs_file(CgroupVersion::V2, Path::new("/sys/fs/cgroup"));
        let found = v1
            .or(v2)
            .or_else(|| own_procs_file(CgroupVersion::V2, Path::new("/sys/fs/cgroup/unified")));
        let Some(file) = found else {
            eprintln!("SKIPPED: no cgroup filesystem mounted at /sys/fs/cgroup");
            return;
        };
        let pids = std::fs::read_to_string(&file).unwrap();
        let me = std::process::id().to_string();
        assert!(
            pids.lines().any(|l| l == me),
            "{} does not list this process",
            file.display()
        );
    }
}
