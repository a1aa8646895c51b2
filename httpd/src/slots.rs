//! The connection cap of a listener, and which connection gives way when it is reached.
//!
//! A connection that has not yet sent a complete request head is "fresh". At the cap, the
//! oldest fresh connection is closed to make room (idle sockets opened by a flood go first,
//! the newest client — which is about to send its request — last); only when every connection
//! is busy with a request or an event stream is the newcomer refused.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// A fresh connection: whether it still holds its slot, and how to close it.
type Fresh = (Arc<AtomicBool>, Arc<Notify>);

/// The slots of one listener.
#[derive(Debug)]
pub(crate) struct Slots {
    cap: usize,
    active: AtomicUsize,
    next: AtomicUsize,
    /// Fresh connections by age.
    fresh: Mutex<BTreeMap<usize, Fresh>>,
}

/// One admitted connection: frees its slot when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<Slots>,
    seq: usize,
    counted: Arc<AtomicBool>,
    busy: AtomicBool,
    /// Notified when the connection is evicted.
    pub(crate) evicted: Arc<Notify>,
}

impl Slots {
    pub(crate) fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap,
            active: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            fresh: Mutex::new(BTreeMap::new()),
        })
    }

    fn fresh(&self) -> MutexGuard<'_, BTreeMap<usize, Fresh>> {
        // The map only holds handles; a panic elsewhere cannot leave it inconsistent.
        self.fresh.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new connection, evicting the oldest fresh one at the cap; `None` when
    /// every connection is busy.
    pub(crate) fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut admitted = false;
        for _ in 0..8 {
            if self.active.fetch_add(1, Ordering::AcqRel) < self.cap {
                admitted = true;
                break;
            }
            self.active.fetch_sub(1, Ordering::AcqRel);
            let (counted, evict) = self.fresh().pop_first()?.1;
            evict.notify_one();
            // Its slot passes to the newcomer, unless it ended on its own meanwhile.
            if counted.swap(false, Ordering::AcqRel) {
                admitted = true;
                break;
            }
        }
        if !admitted {
            return None;
        }
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let counted = Arc::new(AtomicBool::new(true));
        let evicted = Arc::new(Notify::new());
        self.fresh()
            .insert(seq, (Arc::clone(&counted), Arc::clone(&evicted)));
        Some(Slot {
            slots: Arc::clone(self),
            seq,
            counted,
            busy: AtomicBool::new(false),
            evicted,
        })
    }
}

impl Slot {
    /// The connection sent a request: it is no longer evicted to make room.
    pub(crate) fn mark_busy(&self) {
        if !self.busy.swap(true, Ordering::Relaxed) {
            self.slots.fresh().remove(&self.seq);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.fresh().remove(&self.seq);
        if self.counted.swap(false, Ordering::AcqRel) {
            self.slots.active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_fresh_connection_gives_way_and_busy_ones_never_do() {
        let slots = Slots::new(2);
        let a = slots.admit().unwrap();
        let b = slots.admit().unwrap();
        b.mark_busy();
        let c = slots.admit().expect("a is fresh: evicted");
        assert!(!a.counted.load(Ordering::Relaxed));
        c.mark_busy();
        assert!(slots.admit().is_none(), "b and c are busy");
        drop(a);
        assert_eq!(slots.active.load(Ordering::Relaxed), 2);
        drop(b);
        let d = slots.admit().unwrap();
        drop((c, d));
        assert_eq!(slots.active.load(Ordering::Relaxed), 0);
        assert!(slots.fresh().is_empty());
    }
}
