//! An async (tokio) driver for the Mesos v1 scheduler API (`POST /api/v1/scheduler`,
//! HTTP+JSON, RecordIO event stream), for Meseta's frameworks (`marathon`, `chronos`,
//! `mesos-execute`, the benchmarks) and any other Rust framework.
//!
//! What it does for the framework:
//! * finds the leading master ([`MasterDetector`]: a fixed `host:port`, `zk://` once a
//!   ZooKeeper detector is registered with [`register_zk_detector`], `file:///path`) and
//!   follows `307` redirects from non-leading masters;
//! * subscribes, and after any loss (stream closed, master restarted, no HEARTBEAT nor event
//!   for `missed_heartbeats × heartbeat_interval_seconds`, a new leader detected)
//!   re-subscribes **with the framework id** after an exponential, jittered backoff, so the
//!   master keeps the framework's tasks for `failover_timeout`;
//! * keeps the `Mesos-Stream-Id` and framework id and puts them on every call;
//! * acknowledges status updates itself unless [`Config::implicit_acknowledgements`] is off;
//! * sends HTTP basic credentials ([`Credential`]) on every request.
//!
//! The shape: [`start`] returns a [`Scheduler`] (a `Clone` handle that sends calls) and
//! [`Events`] (the event channel). Events are [`Event::Subscribed`] (again after each
//! reconnection), `Offers`, `Rescind`, `Update`, `Message`, `Failure`, `Heartbeat`,
//! [`Event::Disconnected`] (the driver is retrying; calls fail with
//! [`Error::NotSubscribed`] meanwhile) and [`Event::Error`] (the master refused the
//! framework; the channel ends after it). Synchronous code uses [`BlockingScheduler`].
//!
//! ```no_run
//! use meseta_api::{FrameworkInfo, TaskState};
//! use meseta_scheduler::{command_task, scalar, Config, Event};
//!
//! # async fn run() -> Result<(), meseta_scheduler::Error> {
//! let framework = FrameworkInfo {
//!     user: "root".into(),
//!     name: "example".into(),
//!     failover_timeout: Some(3600.0),
//!     checkpoint: Some(true),
//!     ..FrameworkInfo::default()
//! };
//! let (sched, mut events) = meseta_scheduler::start(Config::new("127.0.0.1:5050", framework))?;
//! let mut launched = false;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         Event::Subscribed { framework_id, .. } => println!("subscribed as {}", framework_id.value),
//!         Event::Offers(offers) => {
//!             for offer in offers {
//!                 if !launched && scalar(&offer, "cpus") >= 0.1 {
//!                     let task = command_task("hello", &offer, "echo hello", 0.1, 32.0);
//!                     sched.launch(&offer.id, vec![task]).await?;
//!                     launched = true;
//!                 } else {
//!                     sched.decline(vec![offer.id], Some(60.0)).await?;
//!                 }
//!             }
//!         }
//!         // Acknowledged by the driver (implicit acknowledgements are on by default).
//!         Event::Update(status) if status.state == TaskState::Finished => {
//!             sched.teardown().await?;
//!         }
//!         Event::Disconnected { reason } => eprintln!("reconnecting: {reason}"),
//!         Event::Error(message) => eprintln!("refused: {message}"),
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod backoff;
mod blocking;
mod calls;
mod config;
mod detector;
mod driver;
mod error;
mod event;
mod handle;
mod http;
mod offers;
mod stream;

pub use blocking::BlockingScheduler;
pub use config::{Config, Credential};
pub use detector::{
    detector_for, register_zk_detector, DetectFuture, MasterAddr, MasterDetector, StaticDetector,
    ZkDetectorFactory,
};
pub use driver::start;
pub use error::{DetectError, Error};
pub use event::{Event, Events};
pub use handle::Scheduler;
pub use offers::{command_task, scalar};
