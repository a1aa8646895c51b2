//! Crafted tar layers: every escape the unpacker must refuse, and the special files it must
//! strip, reject or keep. Ownership and whiteout devices need root; these tests run as root
//! here and in CI and skip with a message otherwise.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use oci_bundles::{unpack_layer, Limits, SpecialFiles, UnpackError};

/// Builds a tar by hand, so names the `tar` crate would refuse can be written.
#[derive(Default)]
struct RawTar(Vec<u8>);

impl RawTar {
    fn entry(
        mut self,
        name: &[u8],
        kind: tar::EntryType,
        data: &[u8],
        link: &[u8],
        mode: u32,
    ) -> Self {
        let mut h = tar::Header::new_gnu();
        {
            let old = h.as_old_mut();
            old.name[..name.len()].copy_from_slice(name);
            old.linkname[..link.len()].copy_from_slice(link);
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        if matches!(kind, tar::EntryType::Char | tar::EntryType::Block) {
            h.set_device_major(1).unwrap();
            h.set_device_minor(3).unwrap();
        }
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        self
    }
    fn file(self, name: &str, data: &[u8], mode: u32) -> Self {
        self.entry(name.as_bytes(), tar::EntryType::Regular, data, b"", mode)
    }
    fn dir(self, name: &str) -> Self {
        self.entry(name.as_bytes(), tar::EntryType::Directory, b"", b"", 0o755)
    }
    fn symlink(self, name: &str, target: &str) -> Self {
        self.entry(
            name.as_bytes(),
            tar::EntryType::Symlink,
            b"",
            target.as_bytes(),
            0o777,
        )
    }
    fn hardlink(self, name: &str, target: &str) -> Self {
        self.entry(
            name.as_bytes(),
            tar::EntryType::Link,
            b"",
            target.as_bytes(),
            0o644,
        )
    }
    fn finish(mut self) -> Vec<u8> {
        self.0.extend(std::iter::repeat_n(0u8, 1024));
        self.0
    }
}

struct Dirs {
    _tmp: tempfile::TempDir,
    layer: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let layer = tmp.path().join("store/layer");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&layer).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "do not touch").unwrap();
    Dirs {
        _tmp: tmp,
        layer,
        outside,
    }
}

fn unpack(tar: Vec<u8>, dest: &Path, limits: &Limits) -> Result<oci_bundles::Stats, UnpackError> {
    unpack_layer(&tar[..], dest, limits)
}

fn outside_untouched(d: &Dirs) {
    let names: Vec<_> = std::fs::read_dir(&d.outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec!["secret"],
        "something was written outside the layer"
    );
    assert_eq!(
        std::fs::read_to_string(d.outside.join("secret")).unwrap(),
        "do not touch"
    );
    let store_parent = d.layer.parent().unwrap().parent().unwrap();
    assert!(!store_parent.join("evil").exists());
}

fn root() -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    eprintln!("SKIPPED: needs root (chown, device nodes, trusted.* xattrs)");
    false
}

#[test]
fn dot_dot_and_absolute_names_are_rejected() {
    let d = dirs();
    let err = unpack(
        RawTar::default().file("../../evil", b"x", 0o644).finish(),
        &d.layer,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, UnpackError::DotDot(_)), "{err}");
    let err = unpack(
        RawTar::default()
            .file("a/../../../evil", b"x", 0o644)
            .finish(),
        &d.layer,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, UnpackError::DotDot(_)), "{err}");
    let abs = format!("{}/evil", d.outside.display());
    let err = unpack(
        RawTar::default().file(&abs, b"x", 0o644).finish(),
        &d.layer,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, UnpackError::Absolute(_)), "{err}");
    outside_untouched(&d);
}

#[test]
fn writing_through_a_previously_written_symlink_is_rejected() {
    if !root() {
        return;
    }
    let d = dirs();
    for target in [
        d.outside.display().to_string(),
        "../../outside".to_string(),
        "/".to_string(),
    ] {
        let tar = RawTar::default()
            .symlink("link", &target)
            .file("link/secret", b"pwned", 0o644)
            .finish();
        let err = unpack(tar, &d.layer, &Limits::default()).unwrap_err();
        assert!(
            matches!(err, UnpackError::ThroughSymlink(_)),
            "{target}: {err}"
        );
        // A directory entry through the symlink is no better.
        let tar = RawTar::default()
            .symlink("l2", &target)
            .dir("l2/sub")
            .finish();
        assert!(matches!(
            unpack(tar, &d.layer, &Limits::default()),
            Err(UnpackError::ThroughSymlink(_))
        ));
    }
    outside_untouched(&d);
}

#[test]
fn hardlinks_out_of_the_layer_are_rejected() {
    if !root() {
        return;
    }
    let d = dirs();
    let outside_secret = d.outside.join("secret").display().to_string();
    for target in [
        outside_secret.as_str(),
        "../../outside/secret",
        "../outside/secret",
    ] {
        let err = unpack(
            RawTar::default().hardlink("h", target).finish(),
            &d.layer,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, UnpackError::BadHardlink { .. }),
            "{target}: {err}"
        );
    }
    // Through a symlink planted first.
    let tar = RawTar::default()
        .symlink("s", &d.outside.display().to_string())
        .hardlink("h", "s/secret")
        .finish();
    assert!(matches!(
        unpack(tar, &d.layer, &Limits::default()),
        Err(UnpackError::BadHardlink { .. })
    ));
    assert_eq!(
        std::fs::metadata(d.outside.join("secret")).unwrap().nlink(),
        1,
        "a link to the outside file exists"
    );
    outside_untouched(&d);
}

#[test]
fn a_regular_layer_unpacks_with_modes_links_and_owners() {
    if !root() {
        return;
    }
    let d = dirs();
    let tar = RawTar::default()
        .dir("./usr/")
        .dir("usr/bin")
        .file("usr/bin/tool", b"#!/bin/sh\necho hi\n", 0o755)
        .hardlink("usr/bin/tool2", "usr/bin/tool")
        .symlink("bin", "usr/bin")
        .symlink("usr/bin/abs", "/etc/passwd")
        .file("etc/config", b"k=v", 0o600)
        .finish();
    let stats = unpack(tar, &d.layer, &Limits::default()).unwrap();
    assert_eq!(stats.entries, 7);
    let tool = d.layer.join("usr/bin/tool");
    assert_eq!(
        std::fs::read_to_string(&tool).unwrap(),
        "#!/bin/sh\necho hi\n"
    );
    assert_eq!(
        std::fs::metadata(&tool).unwrap().permissions().mode() & 0o7777,
        0o755
    );
    assert_eq!(
        std::fs::metadata(&tool).unwrap().ino(),
        std::fs::metadata(d.layer.join("usr/bin/tool2"))
            .unwrap()
            .ino()
    );
    assert_eq!(
        std::fs::read_link(d.layer.join("bin")).unwrap(),
        Path::new("usr/bin")
    );
    // Absolute symlink targets are fine: they resolve inside the container's root.
    assert_eq!(
        std::fs::read_link(d.layer.join("usr/bin/abs")).unwrap(),
        Path::new("/etc/passwd")
    );
    assert_eq!(
        std::fs::metadata(d.layer.join("etc/config"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn device_nodes_are_stripped_rejected_or_kept() {
    if !root() {
        return;
    }
    let d = dirs();
    let tar = || {
        RawTar::default()
            .entry(b"dev/mem", tar::EntryType::Char, b"", b"", 0o600)
            .file("ok", b"x", 0o644)
            .finish()
    };
    let stats = unpack(tar(), &d.layer, &Limits::default()).unwrap();
    assert_eq!(stats.devices_skipped, 1);
    assert!(!d.layer.join("dev/mem").exists());
    let reject = Limits {
        special: SpecialFiles::Reject,
        ..Limits::default()
    };
    assert!(matches!(
        unpack(tar(), &d.layer, &reject),
        Err(UnpackError::Device(_))
    ));
    let keep = Limits {
        special: SpecialFiles::Keep,
        ..Limits::default()
    };
    unpack(tar(), &d.layer, &keep).unwrap();
    assert_eq!(
        std::fs::metadata(d.layer.join("dev/mem")).unwrap().rdev(),
        nix::sys::stat::makedev(1, 3)
    );
}

#[test]
fn setuid_bits_are_stripped_rejected_or_kept() {
    if !root() {
        return;
    }
    let d = dirs();
    let tar = || {
        RawTar::default()
            .file("bin/su", b"\x7fELF", 0o4755)
            .file("bin/wall", b"\x7fELF", 0o2755)
            .finish()
    };
    let stats = unpack(tar(), &d.layer, &Limits::default()).unwrap();
    assert_eq!(stats.setuid_stripped, 2);
    assert_eq!(
        std::fs::metadata(d.layer.join("bin/su"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o755
    );
    let reject = Limits {
        special: SpecialFiles::Reject,
        ..Limits::default()
    };
    assert!(matches!(
        unpack(tar(), &d.layer, &reject),
        Err(UnpackError::Setuid(_))
    ));
    let keep = Limits {
        special: SpecialFiles::Keep,
        ..Limits::default()
    };
    unpack(tar(), &d.layer, &keep).unwrap();
    assert_eq!(
        std::fs::metadata(d.layer.join("bin/su"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o4755
    );
}

#[test]
fn size_and_entry_limits_stop_bombs() {
    let d = dirs();
    let big = vec![0u8; 2 << 20];
    let limits = Limits {
        max_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = unpack(
        RawTar::default().file("zeros", &big, 0o644).finish(),
        &d.layer,
        &limits,
    )
    .unwrap_err();
    assert!(matches!(err, UnpackError::TooLarge(_)), "{err}");
    let mut many = RawTar::default();
    for i in 0..50 {
        many = many.file(&format!("f{i}"), b"", 0o644);
    }
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    assert!(matches!(
        unpack(many.finish(), &d.layer, &limits),
        Err(UnpackError::TooManyEntries(10))
    ));
    // A gzip bomb: 64 MiB of zeros compresses to ~64 KiB; unpacking stops at the limit.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(
        &mut gz,
        &RawTar::default()
            .file("bomb", &vec![0u8; 64 << 20], 0o644)
            .finish(),
    )
    .unwrap();
    let compressed = gz.finish().unwrap();
    assert!(compressed.len() < 1 << 20);
    let limits = Limits {
        max_bytes: 4 << 20,
        ..Limits::default()
    };
    let err = unpack_layer(
        flate2::read::GzDecoder::new(&compressed[..]),
        &d.layer,
        &limits,
    )
    .unwrap_err();
    assert!(matches!(err, UnpackError::TooLarge(_)), "{err}");
    let written = std::fs::metadata(d.layer.join("bomb"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(written <= (4 << 20) + 1, "wrote {written} bytes");
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    if !root() {
        return;
    }
    let d = dirs();
    let tar = RawTar::default()
        .dir("etc")
        .file("etc/.wh.motd", b"", 0o644)
        .dir("var/cache")
        .file("var/cache/.wh..wh..opq", b"", 0o644)
        .finish();
    let stats = unpack(tar, &d.layer, &Limits::default()).unwrap();
    assert_eq!(stats.whiteouts, 2);
    let meta = std::fs::symlink_metadata(d.layer.join("etc/motd")).unwrap();
    assert!(oci_bundles::unpack::is_whiteout(&meta));
    let mut buf = [0u8; 8];
    let path = std::ffi::CString::new(d.layer.join("var/cache").to_str().unwrap()).unwrap();
    // SAFETY: NUL-terminated path and name; buf outlives the call.
    let n = unsafe {
        libc::getxattr(
            path.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    assert_eq!(n, 1);
    assert_eq!(buf[0], b'y');
}

#[test]
fn later_entries_replace_earlier_ones() {
    if !root() {
        return;
    }
    let d = dirs();
    let tar = RawTar::default()
        .dir("x")
        .file("x/inner", b"1", 0o644)
        .file("x", b"now a file", 0o644)
        .symlink("y", "x")
        .file("y", b"replaced the symlink", 0o644)
        .finish();
    unpack(tar, &d.layer, &Limits::default()).unwrap();
    assert_eq!(
        std::fs::read_to_string(d.layer.join("x")).unwrap(),
        "now a file"
    );
    assert_eq!(
        std::fs::read_to_string(d.layer.join("y")).unwrap(),
        "replaced the symlink"
    );
    assert!(!std::fs::symlink_metadata(d.layer.join("y"))
        .unwrap()
        .file_type()
        .is_symlink());
}
