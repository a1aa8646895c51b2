//! Being told when the kernel OOM-kills in a container's memory cgroup, so the supervisor can
//! end the whole container at once (Mesos's memory limitation) instead of letting the task
//! carry on without the process that died.
//!
//! v1: an eventfd registered on `memory.oom_control` through `cgroup.event_control`.
//! v2: inotify on `memory.events`, which the kernel touches on every memory event (the caller
//! then checks the `oom_kill` counter, since `max`/`high` events also wake it).

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use super::{CgroupError, CgroupVersion, ContainerCgroup};

/// A pollable source of OOM notifications for one container.
#[derive(Debug)]
pub enum OomWatch {
    /// v1: the eventfd, and `memory.oom_control` kept open while registered.
    V1 {
        /// Readable on every OOM.
        event: EventFd,
        /// Must stay open for the registration to last.
        _control: OwnedFd,
    },
    /// v2: inotify on `memory.events`.
    V2(Inotify),
}

impl OomWatch {
    /// The fd to poll for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        match self {
            OomWatch::V1 { event, .. } => event.as_fd(),
            OomWatch::V2(inotify) => inotify.as_fd(),
        }
    }

    /// Consumes pending notifications (non-blocking).
    pub fn drain(&self) {
        match self {
            OomWatch::V1 { event, .. } => {
                let _ = event.read();
            }
            OomWatch::V2(inotify) => while inotify.read_events().is_ok_and(|e| !e.is_empty()) {},
        }
    }
}

impl ContainerCgroup {
    /// Whether a notification from [`ContainerCgroup::watch_oom`] means the cgroup ran out of
    /// memory. On v1 the eventfd fires only for OOM (its victim may not be killed yet, so the
    /// `oom_kill` counter can still read 0, as Mesos's memory isolator also assumes); on v2
    /// `memory.events` also changes for `max`/`high`, so its `oom` counter decides.
    pub fn oom_notified(&self) -> bool {
        match self.cgroups.version {
            CgroupVersion::V1 => true,
            CgroupVersion::V2 => self
                .cgroups
                .path("memory", &self.id)
                .ok()
                .and_then(|p| super::read_counter(&p.join("memory.events"), "oom"))
                .is_some_and(|n| n > 0),
        }
    }

    /// Starts watching the container's memory cgroup for OOM events.
    pub fn watch_oom(&self) -> Result<OomWatch, CgroupError> {
        let dir = self.cgroups.path("memory", &self.id)?;
        let io = |path: std::path::PathBuf| {
            move |source: std::io::Error| CgroupError::Io { path, source }
        };
        match self.cgroups.version {
            CgroupVersion::V1 => {
                let control_path = dir.join("memory.oom_control");
                let control = std::fs::File::open(&control_path)
                    .map(OwnedFd::from)
                    .map_err(io(control_path.clone()))?;
                let event = EventFd::from_value_and_flags(
                    0,
                    EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK,
                )
                .map_err(|e| io(control_path.clone())(e.into()))?;
                let registration = format!("{} {}", event.as_fd().as_raw_fd(), control.as_raw_fd());
                let ec = dir.join("cgroup.event_control");
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&ec)
                    .and_then(|mut f| f.write_all(registration.as_bytes()))
                    .map_err(io(ec))?;
                Ok(OomWatch::V1 {
                    event,
                    _control: control,
                })
            }
            CgroupVersion::V2 => {
                let events = dir.join("memory.events");
                let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
                    .map_err(|e| io(events.clone())(e.into()))?;
                inotify
                    .add_watch(&events, AddWatchFlags::IN_MODIFY)
                    .map_err(|e| io(events.clone())(e.into()))?;
                Ok(OomWatch::V2(inotify))
            }
        }
    }
}
