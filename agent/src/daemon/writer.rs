//! A background thread for the checkpoint writes that must not hold up the agent's
//! single-threaded runtime: fsync can take hundreds of milliseconds on a busy disk, and while
//! it runs no executor can (re-)subscribe and no HTTP request is answered. Jobs run one at a
//! time in submission order (acknowledgement records, `slave.info` at registration, removal of
//! settled runs), so a run is never removed before its last record is written. Writes the
//! agent needs durable before acting on them (a status update before it is forwarded) stay
//! synchronous in `checkpoint`.

use std::sync::mpsc;

/// One write.
type Job = Box<dyn FnOnce() + Send>;

/// The writer thread's queue (cheap to clone).
#[derive(Debug, Clone)]
pub struct Writer {
    tx: Option<mpsc::Sender<Job>>,
}

impl Writer {
    /// Starts the thread; when it cannot start, jobs run inline.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("checkpoint-writer".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                }
            });
        match spawned {
            Ok(_) => Self { tx: Some(tx) },
            Err(err) => {
                tracing::warn!(%err, "no checkpoint writer thread; writing inline");
                Self { tx: None }
            }
        }
    }

    /// Runs `job` after every job submitted before it.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        let job: Job = Box::new(job);
        match &self.tx {
            Some(tx) => {
                if let Err(mpsc::SendError(job)) = tx.send(job) {
                    job();
                }
            }
            None => job(),
        }
    }

    /// Waits until every job submitted so far has run.
    pub fn flush(&self) {
        let (done, wait) = mpsc::channel();
        self.submit(move || {
            let _ = done.send(());
        });
        let _ = wait.recv();
    }
}
