//! Sandbox disk usage for the `disk/du` isolator: what `du -k -s -x` reports, computed in
//! process (Mesos forks `du` every `--container_disk_watch_interval`; a walk with `statx`
//! costs less than a fork on a busy agent). Allocated blocks, not apparent sizes; a file
//! hard-linked several times counts once; symlinks are not followed; other filesystems
//! mounted below the sandbox are not entered.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes allocated under `root`.
pub fn usage(root: &Path) -> std::io::Result<u64> {
    let top = std::fs::symlink_metadata(root)?;
    let dev = top.dev();
    let mut seen = HashSet::new();
    let mut total = top.blocks() * 512;
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            // Removed while walking (a task cleaning up): not an error for a usage sample.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.dev() != dev {
                continue;
            }
            if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            total += meta.blocks() * 512;
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_blocks_once_per_inode_and_does_not_follow_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("sandbox");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let empty = usage(&root).unwrap();
        std::fs::write(root.join("sub/data"), vec![1u8; 1 << 20]).unwrap();
        let with_file = usage(&root).unwrap();
        assert!(with_file - empty >= 1 << 20, "{empty} -> {with_file}");
        // A hard link adds nothing; a symlink to a big file outside adds only itself.
        std::fs::hard_link(root.join("sub/data"), root.join("link")).unwrap();
        std::fs::write(tmp.path().join("outside"), vec![1u8; 4 << 20]).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside"), root.join("sym")).unwrap();
        let after = usage(&root).unwrap();
        assert!(after - with_file < 64 << 10, "{with_file} -> {after}");
        // A sparse file uses no blocks for its hole.
        let f = std::fs::File::create(root.join("sparse")).unwrap();
        f.set_len(1 << 30).unwrap();
        assert!(usage(&root).unwrap() - after < 64 << 10);
    }

    #[test]
    fn missing_root_is_an_error() {
        assert!(usage(Path::new("/nonexistent/meseta/sandbox")).is_err());
    }
}
