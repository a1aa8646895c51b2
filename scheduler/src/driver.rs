//! The driver task: detect the leader → SUBSCRIBE (following 307s) → read the stream under
//! a heartbeat watchdog → on any loss, `Disconnected`, back off (jittered, doubling) and
//! start over with the framework id, so the master keeps the framework's tasks.
//!
//! ```text
//!  ┌──────────┐ leader ┌─────────────┐ 200 + SUBSCRIBED ┌────────────┐
//!  │ detect   ├───────►│ subscribing ├─────────────────►│ subscribed │──ERROR──► stop
//!  └──────────┘        └──────┬──────┘                  └─────┬──────┘
//!       ▲     backoff         │ refused/5xx/timeout            │ EOF / silence / new leader
//!       └─────────────────────┴────────────────────────────────┘
//! ```

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::detector::{detector_for, MasterAddr, MasterDetector};
use crate::error::Error;
use crate::event::{Event, Events};
use crate::handle::{Scheduler, Shared, State};
use crate::http::Transport;
use crate::stream::{run_session, subscribe, Outcome};

/// Starts a driver on the current tokio runtime: it subscribes in the background and keeps
/// the subscription alive until [`Scheduler::stop`], [`Scheduler::teardown`], an ERROR
/// event, or until [`Events`] is dropped.
///
/// Fails only on a `master` that cannot be detected (bad address, unreadable file, `zk://`
/// without a registered detector). Must be called within a tokio runtime.
pub fn start(config: Config) -> Result<(Scheduler, Events), Error> {
    let detector = match &config.detector {
        Some(d) => Arc::clone(d),
        None => detector_for(&config.master)?,
    };
    let mut framework_info = config.framework_info.clone();
    if let (Some(c), None) = (&config.credential, &framework_info.principal) {
        framework_info.principal = Some(c.principal.clone());
    }
    let (stop, _) = watch::channel(false);
    let shared = Arc::new(Shared {
        transport: Transport::new(config.credential.as_ref(), config.request_timeout),
        state: Mutex::new(State {
            framework_info,
            suppressed_roles: config.suppressed_roles.clone(),
            session: None,
        }),
        stop,
    });
    let (tx, rx) = mpsc::channel(config.event_buffer.max(1));
    let driver = Driver {
        config,
        detector,
        shared: Arc::clone(&shared),
        tx,
    };
    tokio::spawn(driver.run());
    Ok((Scheduler { shared }, Events { rx }))
}

/// The state of one running driver task.
pub(crate) struct Driver {
    pub(crate) config: Config,
    pub(crate) detector: Arc<dyn MasterDetector>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) tx: mpsc::Sender<(Instant, Event)>,
}

impl Driver {
    async fn run(self) {
        let mut stop = self.shared.stop.subscribe();
        let mut backoff = Backoff::new(self.config.backoff_min, self.config.backoff_max);
        loop {
            if *stop.borrow_and_update() {
                break;
            }
            let outcome = tokio::select! {
                o = self.attempt(&mut backoff) => o,
                _ = stop.changed() => Outcome::Stopped,
            };
            self.shared.state().session = None;
            match outcome {
                Outcome::Stopped => break,
                Outcome::Fatal(message) => {
                    warn!(%message, "scheduler driver stops");
                    let _ = self.tx.send((Instant::now(), Event::Error(message))).await;
                    break;
                }
                Outcome::Lost(reason) => {
                    info!(%reason, "not subscribed; retrying");
                    if !self.emit(Event::Disconnected { reason }).await {
                        break;
                    }
                }
            }
            let delay = backoff.next_delay();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.changed() => break,
            }
        }
        self.shared.stop.send_replace(true);
        self.shared.state().session = None;
    }

    /// One detection + subscription + session.
    async fn attempt(&self, backoff: &mut Backoff) -> Outcome {
        let master = match self.detector.detect(None).await {
            Ok(Some(m)) => m,
            Ok(None) => return Outcome::Lost("no leading master".into()),
            Err(e) => return Outcome::Lost(e.to_string()),
        };
        let (master, resp) = match subscribe(self, master).await {
            Ok(ok) => ok,
            Err(outcome) => return outcome,
        };
        run_session(self, master, resp, backoff).await
    }

    /// Hands an event to the framework; false when nobody listens any more.
    pub(crate) async fn emit(&self, event: Event) -> bool {
        self.emit_at(Instant::now(), event).await
    }

    pub(crate) async fn emit_at(&self, at: Instant, event: Event) -> bool {
        self.tx.send((at, event)).await.is_ok()
    }

    /// Watches the detector for a leader other than `current`.
    pub(crate) async fn leader_change(&self, current: &MasterAddr) -> String {
        match self.detector.detect(Some(current.clone())).await {
            Ok(Some(m)) => format!("the leading master is now {m}"),
            Ok(None) => "the leading master is gone".into(),
            Err(e) => e.to_string(),
        }
    }
}
