//! [`BlockingScheduler`]: the driver for synchronous code (benchmarks, tests, small tools),
//! on a private one-thread tokio runtime.

use std::future::Future;
use std::time::{Duration, Instant};

use meseta_api::FrameworkId;

use crate::config::Config;
use crate::error::Error;
use crate::event::{Event, Events};
use crate::handle::Scheduler;

/// A driver owned by synchronous code. Dropping it stops the driver (no TEARDOWN).
#[derive(Debug)]
pub struct BlockingScheduler {
    scheduler: Scheduler,
    events: Events,
    /// Last field: dropped after the handles, it cancels the driver task.
    runtime: tokio::runtime::Runtime,
}

impl BlockingScheduler {
    /// Starts a driver and waits up to `timeout` for SUBSCRIBED; returns the framework id.
    /// Events before SUBSCRIBED (failed attempts) are consumed.
    pub fn connect(config: Config, timeout: Duration) -> Result<(Self, FrameworkId), Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("scheduler-driver")
            .enable_all()
            .build()
            .map_err(|e| Error::Http {
                master: config.master.clone(),
                source: Box::new(e),
            })?;
        let (scheduler, mut events) = runtime.block_on(async { crate::start(config) })?;
        let waited = runtime.block_on(async {
            let mut reason = String::from("no answer yet");
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Err(_) => return Err(Error::NotConnected { timeout, reason }),
                    Ok(None) => return Err(Error::Stopped),
                    Ok(Some(Event::Subscribed { framework_id, .. })) => return Ok(framework_id),
                    Ok(Some(Event::Error(message))) => return Err(Error::Refused(message)),
                    Ok(Some(Event::Disconnected { reason: r })) => reason = r,
                    Ok(Some(_)) => {}
                }
            }
        });
        let framework_id = match waited {
            Ok(id) => id,
            Err(e) => {
                scheduler.stop();
                return Err(e);
            }
        };
        Ok((
            Self {
                scheduler,
                events,
                runtime,
            },
            framework_id,
        ))
    }

    /// The next event with its arrival instant, `Ok(None)` after `timeout`,
    /// [`Error::Stopped`] once the driver has stopped and every event was read.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<(Instant, Event)>, Error> {
        let events = &mut self.events;
        self.runtime.block_on(async {
            match tokio::time::timeout(timeout, events.recv_timed()).await {
                Err(_) => Ok(None),
                Ok(None) => Err(Error::Stopped),
                Ok(Some(e)) => Ok(Some(e)),
            }
        })
    }

    /// The async handle, e.g. `b.block_on(b.scheduler().kill(id, None))`.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// Runs a future (usually a [`Scheduler`] call) to completion.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl Drop for BlockingScheduler {
    fn drop(&mut self) {
        self.scheduler.stop();
    }
}
