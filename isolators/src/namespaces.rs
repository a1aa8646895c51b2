//! Linux namespaces a container gets, and the in-namespace setup that has no crate: bringing
//! the loopback interface up in a fresh network namespace.

use nix::sched::CloneFlags;

use crate::isolation::Isolation;

/// The namespaces to create for a container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Namespaces {
    /// New pid namespace: the task is pid 1.
    pub pid: bool,
    /// New mount namespace.
    pub mount: bool,
    /// New UTS namespace: private hostname.
    pub uts: bool,
    /// New IPC namespace.
    pub ipc: bool,
    /// New network namespace with only `lo`.
    pub net: bool,
}

impl Namespaces {
    /// The namespaces implied by the agent's isolators.
    pub fn from_isolation(iso: &Isolation) -> Self {
        Self {
            pid: iso.pid_namespace,
            mount: iso.mount_namespace(),
            uts: iso.uts_namespace,
            ipc: iso.ipc_namespace,
            net: iso.net_namespace,
        }
    }

    /// The `clone(2)` flags for these namespaces.
    pub fn clone_flags(&self) -> CloneFlags {
        let mut f = CloneFlags::empty();
        f.set(CloneFlags::CLONE_NEWPID, self.pid);
        f.set(CloneFlags::CLONE_NEWNS, self.mount);
        f.set(CloneFlags::CLONE_NEWUTS, self.uts);
        f.set(CloneFlags::CLONE_NEWIPC, self.ipc);
        f.set(CloneFlags::CLONE_NEWNET, self.net);
        f
    }
}

/// Brings `lo` up in the current network namespace. A new namespace starts with it down
/// (runc and crun bring it up; libcontainer does not). Hand-written: one `SIOCSIFFLAGS` ioctl
/// is all it takes, where a netlink crate would pull in a whole stack.
pub fn bring_up_loopback() -> std::io::Result<()> {
    // SAFETY: plain socket(2) call; the result is checked below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // ioctl's request is an unsigned long in glibc and an int in musl; both values fit either.
    #[allow(clippy::cast_possible_truncation, clippy::unnecessary_cast)]
    const SIOCGIFFLAGS: libc::Ioctl = libc::SIOCGIFFLAGS as libc::Ioctl;
    #[allow(clippy::cast_possible_truncation, clippy::unnecessary_cast)]
    const SIOCSIFFLAGS: libc::Ioctl = libc::SIOCSIFFLAGS as libc::Ioctl;
    let raw = std::os::fd::AsRawFd::as_raw_fd(&sock);
    // SAFETY: SIOCGIFFLAGS reads into `req`, a valid ifreq that outlives the call.
    if unsafe { libc::ioctl(raw, SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the union member `ifru_flags` is the one SIOCGIFFLAGS just filled in.
    // IFF_UP | IFF_RUNNING is 0x41: it fits a c_short.
    #[allow(clippy::cast_possible_truncation)]
    unsafe {
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    }
    // SAFETY: SIOCSIFFLAGS reads `req`, valid for the duration of the call.
    if unsafe { libc::ioctl(raw, SIOCSIFFLAGS, &req) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_isolation() {
        let iso = Isolation::parse("namespaces/pid,namespaces/ipc,namespaces/uts").unwrap();
        let ns = Namespaces::from_isolation(&iso);
        let f = ns.clone_flags();
        assert!(f.contains(CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS));
        assert!(f.contains(CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWUTS));
        assert!(!f.contains(CloneFlags::CLONE_NEWNET));
    }
}
