//! Applying a new configuration with as little disturbance as possible. A configuration is
//! split into its *skeleton* (everything but the `server` lines of backends) and its servers;
//! when only servers changed, the running HAProxy is updated through its runtime API — `add
//! server` (dynamic servers, HAProxy ≥ 2.4), `enable server`/`enable health`, and for a removed
//! server `disable server` then `del server` (which HAProxy allows once its connections are
//! gone; until then it stays in maintenance and gets no new request) — and no reload happens.
//! Anything else (a new frontend, a changed backend option) reloads.

use std::collections::{BTreeMap, BTreeSet};

/// A configuration split into skeleton and servers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// The text without the servers of `backend` sections.
    pub skeleton: String,
    /// backend → server name → the server line's arguments after the name.
    pub servers: BTreeMap<String, BTreeMap<String, String>>,
}

/// Splits `config` (see the module doc).
pub fn split(config: &str) -> Split {
    let mut out = Split::default();
    let mut backend: Option<String> = None;
    for line in config.lines() {
        let t = line.trim_start();
        let indented = t.len() != line.len();
        if !indented && !t.is_empty() {
            let mut w = t.split_whitespace();
            backend = match (w.next(), w.next()) {
                (Some("backend"), Some(name)) => Some(name.to_owned()),
                _ => None,
            };
        }
        if let (Some(b), true) = (&backend, indented && t.starts_with("server ")) {
            let mut w = t.splitn(3, char::is_whitespace);
            w.next();
            if let Some(name) = w.next() {
                out.servers
                    .entry(b.clone())
                    .or_default()
                    .insert(name.to_owned(), w.next().unwrap_or("").trim().to_owned());
                continue;
            }
        }
        out.skeleton.push_str(line);
        out.skeleton.push('\n');
    }
    out
}

/// The runtime API commands turning `old`'s servers into `new`'s, or `None` when that needs a
/// reload (the skeletons differ). Also returns the servers to delete later if HAProxy refuses
/// now (connections still open).
pub fn runtime_commands(old: &Split, new: &Split) -> Option<Vec<String>> {
    if old.skeleton != new.skeleton {
        return None;
    }
    let mut cmds = Vec::new();
    let backends: BTreeSet<&String> = old.servers.keys().chain(new.servers.keys()).collect();
    let empty = BTreeMap::new();
    for b in backends {
        let before = old.servers.get(b).unwrap_or(&empty);
        let after = new.servers.get(b).unwrap_or(&empty);
        for (name, args) in before {
            if after.get(name) != Some(args) {
                cmds.push(format!("disable server {b}/{name}"));
                cmds.push(format!("del server {b}/{name}"));
            }
        }
        for (name, args) in after {
            if before.get(name) != Some(args) {
                // `add server` takes the same keywords as a server line; a server added
                // `disabled` (draining) stays in maintenance.
                let draining = args.split_whitespace().any(|w| w == "disabled");
                let args: Vec<&str> = args
                    .split_whitespace()
                    .filter(|w| *w != "disabled")
                    .collect();
                cmds.push(format!("add server {b}/{name} {}", args.join(" ")));
                if !draining {
                    cmds.push(format!("enable server {b}/{name}"));
                    if args.contains(&"check") {
                        cmds.push(format!("enable health {b}/{name}"));
                    }
                }
            }
        }
    }
    Some(cmds)
}

/// Whether a runtime API answer reports a failure (HAProxy answers every command with a line;
/// failures are messages such as "No such server." or start with "Error").
pub fn answer_failed(answer: &str) -> Option<String> {
    answer
        .lines()
        .map(str::trim)
        .find(|l| {
            l.starts_with("Error")
                || l.starts_with("No such")
                || l.contains("not found")
                || l.contains("Unknown command")
                || l.contains("Permission denied")
                || l.contains("Cannot")
                || l.contains("cannot")
                || l.contains("is not")
                || l.contains("must be")
                || l.contains("still has")
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "global\n  maxconn 10\nfrontend f\n  bind *:1\n  use_backend b\n\nbackend b\n  balance roundrobin\n  server s1 1.1.1.1:1 id 5\n  server s2 1.1.1.1:2 id 6 check inter 2s\n";

    #[test]
    fn a_server_only_change_becomes_runtime_commands() {
        let b = A.replace("  server s1 1.1.1.1:1 id 5\n", "").replace(
            "check inter 2s\n",
            "check inter 2s\n  server s3 1.1.1.1:3 id 7 check inter 2s\n",
        );
        let cmds = runtime_commands(&split(A), &split(&b)).unwrap();
        assert_eq!(
            cmds,
            vec![
                "disable server b/s1",
                "del server b/s1",
                "add server b/s3 1.1.1.1:3 id 7 check inter 2s",
                "enable server b/s3",
                "enable health b/s3",
            ]
        );
    }

    #[test]
    fn a_frontend_change_needs_a_reload() {
        let b = A.replace("bind *:1", "bind *:2");
        assert!(runtime_commands(&split(A), &split(&b)).is_none());
        assert_eq!(
            runtime_commands(&split(A), &split(A)).unwrap(),
            Vec::<String>::new()
        );
    }
}
