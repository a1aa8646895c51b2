//! The OCI runtime spec of a task that runs inside an image (`mesos-containerizer run-task`):
//! the image's root filesystem with a per-container writable layer, the sandbox at
//! `--sandbox_directory`, `/proc`, a minimal `/dev`, `/sys` read-only, the host's `/etc/hosts`
//! and `/etc/resolv.conf`, a generated `/etc/hostname`, Docker's default capabilities and
//! `no_new_privs`, oci-spec's default masked and read-only paths and open-files limit. Only a
//! mount namespace is created: the task shares the executor's pid, network and IPC namespaces
//! and its cgroups (but for the `devices` one of image tasks), as in Mesos. `run_task` applies
//! it.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use meseta_containerizer_api::launch_info::TaskLaunchInfo;
use oci_spec::runtime::{
    Capability, LinuxCapabilitiesBuilder, LinuxNamespaceBuilder, LinuxNamespaceType, Mount,
    MountBuilder, RootBuilder, Spec, UserBuilder,
};

/// Docker's default capability set (moby `oci/caps/defaults.go`).
pub const DOCKER_DEFAULT_CAPS: &[Capability] = &[
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// [`DOCKER_DEFAULT_CAPS`] for the `caps` crate (the supervisor's own launches in an image).
pub fn docker_default_caps() -> caps::CapsHashSet {
    DOCKER_DEFAULT_CAPS
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .filter_map(|v| v.as_str().and_then(|name| name.parse().ok()))
        .collect()
}

/// Why the spec could not be built or the image's user not resolved. The messages end up in
/// the sandbox's `stderr` after `mesos-containerizer: `, so they name the image's files.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// oci-spec refused a part of the spec.
    #[error("building the OCI spec ({what}): {source}")]
    Build {
        /// The part (`capabilities`, `mounts`...).
        what: &'static str,
        /// oci-spec's error.
        source: oci_spec::OciSpecError,
    },
    /// A user name the image's `/etc/passwd` does not have.
    #[error("user '{0}' is not in the image's /etc/passwd")]
    UnknownUser(String),
    /// An `/etc/passwd` entry without numeric ids.
    #[error("malformed /etc/passwd entry for '{0}'")]
    MalformedPasswd(String),
    /// A group name the image's `/etc/group` does not have.
    #[error("group '{0}' is not in the image's /etc/group")]
    UnknownGroup(String),
}

/// The uid and gid the task runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// Builds the spec. `hostname_file` is the generated `/etc/hostname` on the host.
pub fn spec(info: &TaskLaunchInfo, ids: Ids, hostname_file: &Path) -> Result<Spec, OciError> {
    let err = |what: &'static str, source| OciError::Build { what, source };
    let mut spec = Spec::default();
    let caps: HashSet<Capability> = DOCKER_DEFAULT_CAPS.iter().copied().collect();
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(caps.clone())
        .effective(caps.clone())
        .permitted(caps)
        .inheritable(HashSet::new())
        .ambient(HashSet::new())
        .build()
        .map_err(|e| err("capabilities", e))?;
    let user = UserBuilder::default()
        .uid(ids.uid)
        .gid(ids.gid)
        .build()
        .map_err(|e| err("user", e))?;
    let mut process = spec.process().clone().unwrap_or_default();
    process.set_terminal(Some(false));
    process.set_args(Some(info.argv.clone()));
    process.set_env(Some(
        info.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    ));
    process.set_cwd(info.working_dir.clone());
    process.set_user(user);
    process.set_capabilities(Some(capabilities));
    process.set_no_new_privileges(Some(true));
    spec.set_process(Some(process));
    spec.set_root(Some(
        RootBuilder::default()
            .path(info.rootfs.clone())
            .readonly(false)
            .build()
            .map_err(|e| err("root", e))?,
    ));
    // Without a UTS namespace of its own the task keeps the host's hostname.
    spec.set_hostname(None);
    let mut mounts: Vec<Mount> = spec
        .mounts()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.destination() != Path::new("/sys/fs/cgroup"))
        .collect();
    let bind = |src: &Path, dst: &Path, ro: bool| {
        let mode = if ro { "ro" } else { "rw" };
        MountBuilder::default()
            .destination(dst)
            .typ("bind")
            .source(src)
            .options(vec![
                "rbind".to_owned(),
                mode.to_owned(),
                "nosuid".to_owned(),
            ])
            .build()
            .map_err(|e| err("mounts", e))
    };
    mounts.push(bind(&info.sandbox, &info.sandbox_target, false)?);
    for file in ["/etc/hosts", "/etc/resolv.conf"] {
        if Path::new(file).is_file() {
            mounts.push(bind(Path::new(file), Path::new(file), true)?);
        }
    }
    mounts.push(bind(hostname_file, Path::new("/etc/hostname"), true)?);
    spec.set_mounts(Some(mounts));
    let mut linux = spec.linux().clone().unwrap_or_default();
    linux.set_namespaces(Some(vec![LinuxNamespaceBuilder::default()
        .typ(LinuxNamespaceType::Mount)
        .build()
        .map_err(|e| err("namespaces", e))?]));
    linux.set_cgroups_path(Some(PathBuf::from(&info.cgroups_path)));
    // The devices cgroup and its rules are run-task's own (`run_task::cgroup`, shared by all
    // image tasks): the spec carries no resources.
    linux.set_resources(None);
    spec.set_linux(Some(linux));
    Ok(spec)
}

/// Resolves an image `User` (`uid`, `uid:gid`, `name`, `name:group`) against the image's
/// `/etc/passwd` and `/etc/group`; `None` is root.
pub fn resolve_user(rootfs: &Path, user: Option<&str>) -> Result<Ids, OciError> {
    let Some(user) = user.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(Ids { uid: 0, gid: 0 });
    };
    let (name, group) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = read_image_file(rootfs, "etc/passwd");
    let (uid, mut gid) = match name.parse::<u32>() {
        Ok(uid) => {
            let gid = lookup(&passwd, |f| f.get(2) == Some(&name))
                .and_then(|f| f.get(3).and_then(|g| g.parse().ok()));
            (uid, gid.unwrap_or(0))
        }
        Err(_) if name == "root" && lookup(&passwd, |f| f.first() == Some(&name)).is_none() => {
            (0, 0)
        }
        Err(_) => {
            let f = lookup(&passwd, |f| f.first() == Some(&name))
                .ok_or_else(|| OciError::UnknownUser(name.to_owned()))?;
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<u32>().ok());
            match (num(2), num(3)) {
                (Some(u), Some(g)) => (u, g),
                _ => return Err(OciError::MalformedPasswd(name.to_owned())),
            }
        }
    };
    if let Some(group) = group {
        gid = match group.parse::<u32>() {
            Ok(g) => g,
            Err(_) => {
                let groups = read_image_file(rootfs, "etc/group");
                lookup(&groups, |f| f.first() == Some(&group))
                    .and_then(|f| f.get(2).and_then(|g| g.parse().ok()))
                    .ok_or_else(|| OciError::UnknownGroup(group.to_owned()))?
            }
        };
    }
    Ok(Ids { uid, gid })
}

/// The home directory of `uid` in the image's `/etc/passwd`, `/` when it has none.
pub fn home_dir(rootfs: &Path, uid: u32) -> String {
    let passwd = read_image_file(rootfs, "etc/passwd");
    let uid = uid.to_string();
    lookup(&passwd, |f| f.get(2) == Some(&uid.as_str()))
        .and_then(|f| f.get(5).map(|h| (*h).to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "/".to_owned())
}

fn lookup<'a>(text: &'a str, pred: impl Fn(&Vec<&'a str>) -> bool) -> Option<Vec<&'a str>> {
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| pred(f))
}

/// Reads a file of the image, refusing any path through a symlink (which could point out of
/// the root filesystem); a missing or unreadable file reads as empty.
fn read_image_file(rootfs: &Path, rel: &str) -> String {
    match no_symlinks(rootfs, Path::new(rel)) {
        Some(p) => std::fs::read_to_string(p).unwrap_or_default(),
        None => String::new(),
    }
}

/// `rootfs/rel` when no existing component of `rel` is a symlink.
pub fn no_symlinks(rootfs: &Path, rel: &Path) -> Option<PathBuf> {
    let mut p = rootfs.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(n) => p.push(n),
            Component::RootDir | Component::CurDir => continue,
            Component::ParentDir | Component::Prefix(_) => return None,
        }
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
            return None;
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockers_default_caps_convert_one_to_one() {
        let converted = docker_default_caps();
        assert_eq!(converted.len(), DOCKER_DEFAULT_CAPS.len());
        assert!(converted.contains(&caps::Capability::CAP_NET_BIND_SERVICE));
        assert!(!converted.contains(&caps::Capability::CAP_SYS_ADMIN));
    }

    #[test]
    fn users_resolve_through_the_images_passwd() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65533::/:/bin/false\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/group"), "users:x:100:\n").unwrap();
        let r = |u| resolve_user(dir.path(), Some(u)).map_err(|e| e.to_string());
        let ids = |uid, gid| Ok(Ids { uid, gid });
        assert_eq!(r("nobody"), ids(65534, 65533));
        assert_eq!(r("65534"), ids(65534, 65533));
        assert_eq!(r("1000:7"), ids(1000, 7));
        assert_eq!(r("nobody:users"), ids(65534, 100));
        assert_eq!(r("root"), ids(0, 0));
        assert_eq!(home_dir(dir.path(), 0), "/root");
        assert_eq!(home_dir(dir.path(), 4242), "/");
        assert_eq!(
            r("ghost"),
            Err("user 'ghost' is not in the image's /etc/passwd".into())
        );
        assert_eq!(
            r("nobody:wheel"),
            Err("group 'wheel' is not in the image's /etc/group".into())
        );
        assert_eq!(
            resolve_user(dir.path(), None).map_err(|e| e.to_string()),
            ids(0, 0)
        );
    }
}
