//! What the requesting principal may see: with `--acls`, frameworks need `view_frameworks`
//! and their tasks `view_tasks` on the framework's user, as `/state` filters them
//! (`http::authz::filter_state`). Without an authorizer everything is visible.

use http::Request;
use meseta_api::{FrameworkInfo, Resource, TaskState};
use meseta_auth::{Action, HttpAuth, Principal};

use crate::http::Ctx;
use crate::master::{Framework, Master, TaskRec};

/// The requesting principal and the master's authorizer.
#[derive(Debug)]
pub struct Viewer<'a> {
    auth: &'a HttpAuth,
    who: Option<Principal>,
}

impl<'a> Viewer<'a> {
    /// The viewer of `req`.
    pub fn of<B>(req: &Request<B>, ctx: &'a Ctx) -> Viewer<'a> {
        Viewer {
            auth: &ctx.auth,
            who: req.extensions().get::<Principal>().cloned(),
        }
    }

    /// A viewer that sees everything (benchmarks, a master without `--acls`).
    pub fn all(auth: &'a HttpAuth) -> Viewer<'a> {
        Viewer { auth, who: None }
    }

    fn approved(&self, action: Action, user: &str) -> bool {
        self.auth.authorizer().is_none()
            || self.auth.approved(self.who.as_ref(), action, Some(user))
    }

    /// May see this framework.
    pub fn framework(&self, info: &FrameworkInfo) -> bool {
        self.approved(Action::ViewFramework, &info.user)
    }

    /// May see the tasks of this framework.
    pub fn tasks_of(&self, info: &FrameworkInfo) -> bool {
        self.framework(info) && self.approved(Action::ViewTask, &info.user)
    }

    /// May see this role (`view_roles`), as `/roles` and `/weights` filter.
    pub fn role(&self, role: &str) -> bool {
        self.approved(Action::ViewRole, role)
    }

    /// The principal's name, if authenticated.
    pub fn principal(&self) -> Option<&str> {
        self.who.as_ref().map(|p| p.0.as_str())
    }
}

/// Every task of the frameworks `v` may see: live, unreachable and completed.
pub fn visible_tasks<'m, 'v: 'm>(
    m: &'m Master,
    v: &'m Viewer<'v>,
) -> impl Iterator<Item = (&'m Framework, &'m TaskRec)> + 'm {
    m.frameworks
        .values()
        .chain(m.completed_frameworks.iter())
        .filter(|f| v.tasks_of(&f.info))
        .flat_map(|f| {
            f.tasks
                .values()
                .chain(f.unreachable_tasks.values())
                .chain(f.completed_tasks.iter())
                .map(move |t| (f, t))
        })
}

/// Scalar `cpus`, `mem`, `disk`, `gpus` of some resources.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scalars {
    /// CPUs.
    pub cpus: f64,
    /// Memory, MB.
    pub mem: f64,
    /// Disk, MB.
    pub disk: f64,
    /// GPUs.
    pub gpus: f64,
}

impl Scalars {
    /// Adds the scalar resources in `rs`.
    pub fn add(&mut self, rs: &[Resource]) {
        for r in rs {
            let v = r.scalar.as_ref().map_or(0.0, |s| s.value);
            match r.name.as_str() {
                "cpus" => self.cpus += v,
                "mem" => self.mem += v,
                "disk" => self.disk += v,
                "gpus" => self.gpus += v,
                _ => {}
            }
        }
    }

    /// The scalars of `rs`.
    pub fn of(rs: &[Resource]) -> Scalars {
        let mut s = Scalars::default();
        s.add(rs);
        s
    }
}

/// `TASK_RUNNING` etc.
pub fn state_name(s: TaskState) -> &'static str {
    s.as_str()
}

/// When a task started: the time of its first status update (0 if none yet).
pub fn started(t: &TaskRec) -> f64 {
    t.task
        .statuses
        .iter()
        .filter_map(|s| s.timestamp)
        .reduce(f64::min)
        .unwrap_or(0.0)
}

/// The latest status's reason and message, for lists.
pub fn last_reason(t: &TaskRec) -> (String, String) {
    t.task.statuses.last().map_or_else(Default::default, |s| {
        (
            s.reason.map(|r| r.to_string()).unwrap_or_default(),
            s.message.clone().unwrap_or_default(),
        )
    })
}

/// `DRAINING`, `DRAINED` (`UNKNOWN` otherwise).
pub fn drain_state(s: meseta_api::DrainState) -> &'static str {
    match s {
        meseta_api::DrainState::Draining => "DRAINING",
        meseta_api::DrainState::Drained => "DRAINED",
        meseta_api::DrainState::Unknown => "UNKNOWN",
    }
}
