//! Which processes belong to a container, and whether one of them holds a given socket.
//!
//! A container's processes are those of its cgroup (`cgroup.procs` of the hierarchy the
//! containerizer uses) or, on an agent without cgroup isolators, the process tree under the
//! container's supervisor (the executor and everything it started; read from the kernel's
//! `children` lists first, all of `/proc/*/stat` only to confirm a miss). A socket is held by a
//! process when one of its `/proc/<pid>/fd/*` links reads `socket:[<inode>]`. Blocking: call
//! from a blocking thread. The `/proc` root is a parameter so tests can point it elsewhere.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;

/// Whether any of `pids` has `socket:[inode]` open.
pub fn holds_socket(proc_root: &Path, pids: &[i32], inode: u32) -> Option<i32> {
    let wanted = format!("socket:[{inode}]");
    pids.iter().copied().find(|pid| {
        let Ok(entries) = std::fs::read_dir(proc_root.join(pid.to_string()).join("fd")) else {
            return false;
        };
        entries.flatten().any(|e| {
            std::fs::read_link(e.path()).is_ok_and(|target| target.as_os_str() == wanted.as_str())
        })
    })
}

/// `root` and its descendants as the kernel's `/proc/<pid>/task/<tid>/children` lists show
/// them: cheap (only the tree is read) but, per proc(5), possibly missing a child forked or
/// reparented meanwhile — so a miss here is confirmed with [`process_tree`].
pub fn process_tree_fast(proc_root: &Path, root: i32) -> Vec<i32> {
    if root <= 0 {
        return Vec::new();
    }
    let mut tree = vec![root];
    let mut seen = HashSet::from([root]);
    let mut i = 0;
    while let Some(&pid) = tree.get(i) {
        i += 1;
        let Ok(tasks) = std::fs::read_dir(proc_root.join(pid.to_string()).join("task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in text
                .split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok())
            {
                if seen.insert(child) {
                    tree.push(child);
                }
            }
        }
    }
    tree
}

/// `root` and every process descending from it, from the parent pids in `/proc/*/stat`.
pub fn process_tree(proc_root: &Path, root: i32) -> Vec<i32> {
    if root <= 0 {
        return Vec::new();
    }
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir(proc_root) {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = parent_pid(proc_root, pid) {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut tree = vec![root];
    let mut seen = HashSet::from([root]);
    let mut queue = VecDeque::from([root]);
    while let Some(pid) = queue.pop_front() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(child) {
                tree.push(child);
                queue.push_back(child);
            }
        }
    }
    tree
}

/// The fourth field of `/proc/<pid>/stat`; the command name (field 2) may hold spaces and
/// parentheses, so parsing starts after its last `)`.
fn parent_pid(proc_root: &Path, pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn finds_a_socket_among_the_fds_of_a_process_tree() {
        let proc_root = Path::new("/proc");
        let me = i32::try_from(std::process::id()).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let child_pid = i32::try_from(child.id()).unwrap();
        let tree = process_tree(proc_root, me);
        assert!(tree.contains(&me) && tree.contains(&child_pid), "{tree:?}");
        let fast = process_tree_fast(proc_root, me);
        assert!(fast.contains(&me) && fast.contains(&child_pid), "{fast:?}");
        assert!(!process_tree_fast(proc_root, child_pid).contains(&me));
        assert!(!process_tree(proc_root, child_pid).contains(&me));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let link = std::fs::read_link(format!("/proc/self/fd/{}", client.as_raw_fd())).unwrap();
        let inode: u32 = link.to_str().unwrap()[8..]
            .trim_end_matches(']')
            .parse()
            .unwrap();
        assert_eq!(holds_socket(proc_root, &[child_pid, me], inode), Some(me));
        assert_eq!(holds_socket(proc_root, &[child_pid], inode), None);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn parent_pid_survives_odd_command_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("42")).unwrap();
        std::fs::write(dir.path().join("42/stat"), "42 (a) b ) (c) S 7 42 42 0").unwrap();
        assert_eq!(parent_pid(dir.path(), 42), Some(7));
    }
}
