//! Containers waiting for their image, and how that wait is cancelled (KILL_TASK of the
//! last queued task, SHUTDOWN_FRAMEWORK / SHUTDOWN_EXECUTOR, the agent shut down by the
//! master): as in Mesos, a container still provisioning is destroyed at once, and its
//! image's pull is dropped unless another waiting container still wants the same image.
//!
//! Each waiting container is registered with its image (a [`Waiting`] guard, owned by the
//! blocking fetch job, so the entry lives exactly as long as that job); a pull is abandoned
//! when every container registered for its image is cancelled.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

struct Waiter {
    image: String,
    cancel: watch::Sender<bool>,
}

static WAITERS: LazyLock<Mutex<BTreeMap<String, Waiter>>> = LazyLock::new(Mutex::default);

fn waiters() -> MutexGuard<'static, BTreeMap<String, Waiter>> {
    WAITERS.lock().unwrap_or_else(|p| p.into_inner())
}

/// A container registered as waiting for an image; unregistered on drop.
#[derive(Debug)]
pub(super) struct Waiting {
    container_id: String,
}

impl Waiting {
    /// Registers `container_id` as waiting for `image` (a normalized reference); the
    /// receiver turns `true` when the wait is cancelled.
    pub(super) fn register(container_id: &str, image: &str) -> (Self, watch::Receiver<bool>) {
        let (cancel, rx) = watch::channel(false);
        waiters().insert(
            container_id.to_owned(),
            Waiter {
                image: image.to_owned(),
                cancel,
            },
        );
        let guard = Self {
            container_id: container_id.to_owned(),
        };
        (guard, rx)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        waiters().remove(&self.container_id);
        ONE_FETCH.1.notify_all();
    }
}

/// Cancels the image wait of `container_id`; `false` when it was not waiting for one.
pub fn cancel(container_id: &str) -> bool {
    let found = waiters()
        .get(container_id)
        .map(|w| w.cancel.send_replace(true))
        .is_some();
    // Wake a cancelled container queued behind another's fetch of the same image.
    ONE_FETCH.1.notify_all();
    found
}

/// Whether the wait of `container_id` was cancelled (never, for one not registered).
pub(super) fn cancelled(container_id: &str) -> bool {
    waiters()
        .get(container_id)
        .is_some_and(|w| *w.cancel.borrow())
}

/// Whether the fetch `container_id` does for its image is wanted by nobody: it is registered
/// and every container registered for the same image is cancelled.
pub(super) fn abandoned(container_id: &str) -> bool {
    let all = waiters();
    let Some(me) = all.get(container_id) else {
        return false;
    };
    all.values()
        .filter(|w| w.image == me.image)
        .all(|w| *w.cancel.borrow())
}

/// The containers waiting for the same image as `container_id` (itself included).
pub(super) fn sharing(container_id: &str) -> Vec<String> {
    let all = waiters();
    match all.get(container_id) {
        None => vec![container_id.to_owned()],
        Some(me) => all
            .iter()
            .filter(|(_, w)| w.image == me.image)
            .map(|(id, _)| id.clone())
            .collect(),
    }
}

/// Images being fetched, and a condition signalled when one is done or a wait is cancelled.
static ONE_FETCH: LazyLock<(Mutex<BTreeSet<String>>, Condvar)> = LazyLock::new(Default::default);

/// The right to fetch one image: one fetch per image at a time, so the containers behind the
/// first find it in the store. Released on drop.
#[derive(Debug)]
pub(super) struct FetchTurn {
    image: String,
}

impl FetchTurn {
    /// Waits for the turn to fetch `image`; `None` once the wait of `container_id` is
    /// cancelled meanwhile (checked at least every 100 ms).
    pub(super) fn take(image: &str, container_id: &str) -> Option<Self> {
        let (lock, changed) = &*ONE_FETCH;
        let mut busy = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if cancelled(container_id) {
                return None;
            }
            if busy.insert(image.to_owned()) {
                return Some(Self {
                    image: image.to_owned(),
                });
            }
            busy = changed
                .wait_timeout(busy, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for FetchTurn {
    fn drop(&mut self) {
        let (lock, changed) = &*ONE_FETCH;
        lock.lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.image);
        changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_is_abandoned_only_when_every_container_waiting_for_its_image_is_cancelled() {
        let (a, _ra) = Waiting::register("wt-a", "img:1");
        let (b, rb) = Waiting::register("wt-b", "img:1");
        let (other, _ro) = Waiting::register("wt-other", "img:2");
        assert!(!abandoned("wt-a"));
        assert!(cancel("wt-a"));
        assert!(
            cancelled("wt-a") && !abandoned("wt-a"),
            "wt-b still wants img:1"
        );
        let mut shared = sharing("wt-a");
        shared.sort();
        assert_eq!(shared, ["wt-a", "wt-b"]);
        assert!(cancel("wt-b") && *rb.borrow());
        assert!(abandoned("wt-a") && abandoned("wt-b"));
        assert!(!abandoned("wt-other"), "another image is unaffected");
        drop((a, b, other));
        // Not registered: never cancelled, never abandoned (agentctl, tests).
        assert!(!cancel("wt-a") && !cancelled("wt-a") && !abandoned("wt-a"));
    }

    #[test]
    fn a_cancelled_container_stops_waiting_for_another_ones_fetch() {
        let turn = FetchTurn::take("img:turn", "wt-first").expect("free turn");
        let (waiting, _rx) = Waiting::register("wt-second", "img:turn");
        let waiter = std::thread::spawn(|| FetchTurn::take("img:turn", "wt-second").is_none());
        std::thread::sleep(Duration::from_millis(50));
        cancel("wt-second");
        assert!(waiter.join().unwrap(), "took the turn while it was held");
        drop((turn, waiting));
        assert!(
            FetchTurn::take("img:turn", "wt-third").is_some(),
            "released"
        );
    }
}
