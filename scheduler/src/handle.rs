//! [`Scheduler`]: the cloneable handle that sends calls on the current subscription.

use std::sync::{Arc, Mutex, MutexGuard};

use meseta_api::scheduler::{Call, CallType, Subscribe};
use meseta_api::{FrameworkId, FrameworkInfo};
use tokio::sync::watch;

use crate::detector::MasterAddr;
use crate::error::Error;
use crate::http::Transport;

/// The subscription calls go to.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) master: MasterAddr,
    pub(crate) stream_id: String,
}

/// What the driver task and the handles share.
#[derive(Debug)]
pub(crate) struct State {
    /// The framework as it (re-)subscribes: `id` is set after the first SUBSCRIBED.
    pub(crate) framework_info: FrameworkInfo,
    pub(crate) suppressed_roles: Vec<String>,
    /// `None` while connecting.
    pub(crate) session: Option<Session>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) transport: Transport,
    pub(crate) state: Mutex<State>,
    /// `true` once the driver should stop.
    pub(crate) stop: watch::Sender<bool>,
}

impl Shared {
    /// The state; its critical sections are single assignments that cannot panic half-way.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("scheduler driver state lock poisoned")
    }

    /// The SUBSCRIBE call for the current framework info.
    pub(crate) fn subscribe_call(&self) -> Call {
        let st = self.state();
        Call {
            framework_id: st.framework_info.id.clone(),
            r#type: CallType::Subscribe,
            subscribe: Some(Subscribe {
                framework_info: st.framework_info.clone(),
                suppressed_roles: st.suppressed_roles.clone(),
                offer_constraints: None,
            }),
            ..Call::default()
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        *self.stop.borrow()
    }
}

/// Sends calls for the framework. Cheap to clone; every clone talks on the driver's
/// current subscription (framework id and `Mesos-Stream-Id` filled in).
#[derive(Debug, Clone)]
pub struct Scheduler {
    pub(crate) shared: Arc<Shared>,
}

impl Scheduler {
    /// The framework id, once the master gave one (or the one configured).
    pub fn framework_id(&self) -> Option<FrameworkId> {
        self.shared.state().framework_info.id.clone()
    }

    /// The framework info the driver (re-)subscribes with.
    pub fn framework_info(&self) -> FrameworkInfo {
        self.shared.state().framework_info.clone()
    }

    /// The master of the current subscription, if subscribed.
    pub fn master(&self) -> Option<MasterAddr> {
        self.shared
            .state()
            .session
            .as_ref()
            .map(|s| s.master.clone())
    }

    /// Whether calls can be sent now.
    pub fn is_subscribed(&self) -> bool {
        // A stopped driver is not subscribed, even before its loop has dropped the session.
        !self.shared.stopped() && self.shared.state().session.is_some()
    }

    /// Stops the driver without TEARDOWN: the master keeps the framework and its tasks for
    /// `failover_timeout`, so another scheduler instance can take over with the same id.
    pub fn stop(&self) {
        self.shared.stop.send_replace(true);
    }

    /// Sends `call` on the current subscription (its `framework_id` is filled in).
    /// `Ok` on any 2xx answer; [`Error::Status`] carries the master's reason otherwise.
    pub async fn call(&self, mut call: Call) -> Result<(), Error> {
        if self.shared.stopped() {
            return Err(Error::Stopped);
        }
        let (session, framework_id) = {
            let st = self.shared.state();
            (st.session.clone(), st.framework_info.id.clone())
        };
        let session = session.ok_or(Error::NotSubscribed)?;
        call.framework_id = framework_id;
        let body = serde_json::to_vec(&call)?;
        let (status, body) = self
            .shared
            .transport
            .post_call(&session.master, &session.stream_id, body)
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(Error::Status {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).trim().to_string(),
            })
        }
    }
}
