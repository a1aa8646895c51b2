//! The v1 `devices` rules of a container run from an image: deny everything (as `runc spec`
//! and Docker do), then allow the devices every container gets, written the way libcgroups'
//! v1 devices controller writes them.

use std::path::Path;

use super::CgroupError;

/// The devices libcgroups 0.7 always allows (`default_devices` then `default_allow_devices`
/// in its `common.rs`; both are crate-private, so the list is repeated here and a test checks
/// it against libcgroups' own result): null, zero, full, tty, urandom, random; mknod of any
/// char or block device; console, ptys, ptmx, tun.
const ALWAYS_ALLOWED: &[&str] = &[
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 5:0 rwm",
    "c 1:9 rwm",
    "c 1:8 rwm",
    "c *:* m",
    "b *:* m",
    "c 5:1 rwm",
    "c 136:* rwm",
    "c 5:2 rwm",
    "c 10:200 rwm",
];

/// Restricts the v1 devices cgroup `dir` to the always-allowed devices: denies all, then
/// allows each of them.
pub fn restrict_to_defaults(dir: &Path) -> Result<(), CgroupError> {
    let deny_all = std::iter::once(("devices.deny", "a *:* rwm"));
    let always = ALWAYS_ALLOWED.iter().map(|r| ("devices.allow", *r));
    for (file, rule) in deny_all.chain(always) {
        let file = dir.join(file);
        std::fs::write(&file, rule).map_err(|source| CgroupError::Io { path: file, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use libcgroups::common::{CgroupManager, ControllerOpt};
    use oci_spec::runtime::{LinuxDeviceCgroupBuilder, LinuxResourcesBuilder};

    use super::*;

    #[test]
    fn the_rules_are_those_libcgroups_writes() {
        let mount = Path::new("/sys/fs/cgroup/devices");
        if !nix::unistd::geteuid().is_root() || !mount.join("devices.list").exists() {
            eprintln!("SKIPPED: needs root and a cgroup v1 devices hierarchy");
            return;
        }
        let base = format!("meseta-devices-test-{}", std::process::id());
        let ours = mount.join(&base).join("ours");
        let theirs = mount.join(&base).join("theirs");
        std::fs::create_dir_all(&ours).unwrap();
        std::fs::create_dir_all(&theirs).unwrap();
        // libcgroups given `runc spec`'s one device rule, deny all, adds the defaults itself.
        let deny_all = LinuxDeviceCgroupBuilder::default()
            .allow(false)
            .access("rwm")
            .build()
            .unwrap();
        let resources = LinuxResourcesBuilder::default()
            .devices(vec![deny_all])
            .build()
            .unwrap();
        let result = restrict_to_defaults(&ours);
        let manager = libcgroups::v1::Manager::new(&Path::new("/").join(&base).join("theirs"));
        let applied = manager.map(|m| {
            m.apply(&ControllerOpt {
                resources: &resources,
                disable_oom_killer: false,
                oom_score_adj: None,
                freezer_state: None,
            })
            .map_err(|e| e.to_string())
        });
        let list = |d: &Path| std::fs::read_to_string(d.join("devices.list")).unwrap();
        let (ours_list, theirs_list) = (list(&ours), list(&theirs));
        for d in [&ours, &theirs, &mount.join(&base)] {
            let _ = std::fs::remove_dir(d);
        }
        result.unwrap();
        applied.unwrap().unwrap();
        assert_eq!(ours_list, theirs_list);
        assert!(!ours_list.contains("a *:* rwm"), "{ours_list}");
        assert!(ours_list.contains("c 1:3 rwm"), "{ours_list}");
    }
}
