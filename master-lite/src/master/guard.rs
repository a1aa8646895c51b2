//! Locking the master's shared state so that a panic cannot leave it half-updated and served.
//!
//! A handler that panics while it holds the [`Master`](super::Master) lock may have applied
//! half of an update (a task charged to the allocator but not recorded, an offer removed from
//! one index but not the other). Serving on from that state would answer every later request
//! from a master whose invariants no longer hold, and could write it to the registry. So the
//! process ends instead, with one line on stderr, as Mesos's `CHECK` failures do: the service
//! manager restarts it (or a standby is elected) and the new master recovers from the
//! registry, which only ever holds committed states.
//!
//! [`LockedOrAbort`] does this at the source: its drop runs while the panicking thread unwinds
//! and aborts before the mutex is released. [`lock_or_abort`] also refuses a mutex that is
//! already poisoned (one locked without the guard), rather than recovering its contents.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

/// A mutex guard that ends the process if its thread panics while holding it.
#[derive(Debug)]
pub struct LockedOrAbort<'a, T> {
    guard: MutexGuard<'a, T>,
    what: &'static str,
}

/// Locks `mutex`; ends the process if it is poisoned, or if this thread panics before the
/// returned guard is dropped. `what` names the state in the one-line message.
pub fn lock_or_abort<'a, T>(mutex: &'a Mutex<T>, what: &'static str) -> LockedOrAbort<'a, T> {
    match mutex.lock() {
        Ok(guard) => LockedOrAbort { guard, what },
        Err(_) => abort(what),
    }
}

fn abort(what: &'static str) -> ! {
    eprintln!(
        "mesos-master: a handler panicked while updating the {what}; exiting so that a \
         restarted master recovers from the registry"
    );
    std::process::abort()
}

impl<T> Drop for LockedOrAbort<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            abort(self.what);
        }
    }
}

impl<T> Deref for LockedOrAbort<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for LockedOrAbort<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;
    use std::sync::Arc;

    use super::*;

    /// Set in the child process the test re-executes itself as.
    const CHILD: &str = "MESETA_MASTER_GUARD_CHILD";

    fn run_child(test: &str) -> std::process::Output {
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap()
    }

    #[test]
    fn a_panic_while_locked_ends_the_process() {
        let name = "master::guard::tests::a_panic_while_locked_ends_the_process";
        if std::env::var_os(CHILD).is_some() {
            let state = Arc::new(Mutex::new(0_u32));
            let shared = Arc::clone(&state);
            let _ = std::thread::spawn(move || {
                let mut m = lock_or_abort(&shared, "master state");
                *m = 1; // half of an update...
                panic!("a handler bug");
            })
            .join();
            // Only reached if the process went on serving.
            println!("SERVED value={}", *lock_or_abort(&state, "master state"));
            std::process::exit(0);
        }
        let out = run_child(name);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGABRT),
            "{stdout}\n{stderr}"
        );
        assert!(!stdout.contains("SERVED"), "{stdout}");
        assert!(
            stderr.contains("panicked while updating the master state"),
            "{stderr}"
        );
    }

    #[test]
    fn a_poisoned_mutex_is_not_recovered() {
        let name = "master::guard::tests::a_poisoned_mutex_is_not_recovered";
        if std::env::var_os(CHILD).is_some() {
            let state = Arc::new(Mutex::new(0_u32));
            let shared = Arc::clone(&state);
            // Poisoned without the guard, as a plain `lock().unwrap()` would leave it.
            let _ = std::thread::spawn(move || {
                let _g = shared.lock().unwrap();
                panic!("a handler bug");
            })
            .join();
            println!("SERVED value={}", *lock_or_abort(&state, "registry cache"));
            std::process::exit(0);
        }
        let out = run_child(name);
        assert_eq!(out.status.signal(), Some(libc::SIGABRT));
        assert!(!String::from_utf8_lossy(&out.stdout).contains("SERVED"));
        assert!(String::from_utf8_lossy(&out.stderr).contains("registry cache"));
    }

    #[test]
    fn an_ordinary_lock_serves() {
        let state = Mutex::new(1_u32);
        *lock_or_abort(&state, "master state") += 1;
        assert_eq!(*lock_or_abort(&state, "master state"), 2);
    }
}
