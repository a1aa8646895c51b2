//! `--master`, as Mesos's `MasterDetector::create` (src/master/detector/detector.cpp) reads
//! it: `host:port` (also `http://host:port` or a `master@host:port` pid), `zk://[user:pass@]
//! host1:port1,host2:port2/path` (the leader is detected in ZooKeeper), or `file:///path` whose
//! content is one of those. With no `--master`, `/etc/mesos/zk` is used when it exists, as the
//! Mesos packages' `mesos-init-wrapper` does (`--master=$(cat /etc/mesos/zk)`).

use std::path::{Path, PathBuf};

use meseta_zk::ZkUrl;

/// Where the packages keep the cluster's ZooKeeper URL.
pub const DEFAULT_ZK_FILE: &str = "/etc/mesos/zk";

/// Names another file than [`DEFAULT_ZK_FILE`]; empty: none (tests, side-by-side installs).
pub const ZK_FILE_ENV: &str = "MESETA_MESOS_ZK_FILE";

/// How the agent finds its master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterSource {
    /// One master at `host:port`.
    Fixed(String),
    /// The leader of the masters electing themselves under this ZooKeeper path.
    ZooKeeper(ZkUrl),
}

impl MasterSource {
    /// Parses a `--master` value; `file://` is read (blocking: call at start-up).
    pub fn parse(text: &str) -> Result<MasterSource, String> {
        Self::parse_nested(text, true)
    }

    fn parse_nested(text: &str, allow_file: bool) -> Result<MasterSource, String> {
        let text = text.trim();
        if text.starts_with("zk://") {
            return ZkUrl::parse_or_read(text)
                .map(MasterSource::ZooKeeper)
                .map_err(|e| e.to_string());
        }
        if let Some(path) = text.strip_prefix("file://") {
            if !allow_file {
                return Err(format!("'{text}' names another file:// URL"));
            }
            let content = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the master from '{path}': {e}"))?;
            return Self::parse_nested(&content, false)
                .map_err(|e| format!("the master in '{path}': {e}"));
        }
        let addr = text.trim_start_matches("http://").trim_end_matches('/');
        // A libprocess pid, `master@10.0.0.1:5050`.
        let addr = addr.rsplit_once('@').map_or(addr, |(_, a)| a);
        match addr.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
                Ok(MasterSource::Fixed(addr.to_owned()))
            }
            _ => Err(format!(
                "'{text}' is not host:port, zk://host:port[,host:port...]/path or file:///path"
            )),
        }
    }

    /// An address on the master's network, to find which local IP to advertise: the master,
    /// or the first ZooKeeper server.
    pub fn route_target(&self) -> String {
        match self {
            MasterSource::Fixed(addr) => addr.clone(),
            MasterSource::ZooKeeper(url) => url
                .servers
                .first()
                .map(|(h, p)| format!("{h}:{p}"))
                .unwrap_or_default(),
        }
    }
}

/// The file to take `--master` from when none is given: `MESETA_MESOS_ZK_FILE` if set (empty:
/// none), else [`DEFAULT_ZK_FILE`] unless the agent was given its own configuration directory
/// (`MESETA_AGENT_CONF_DIR`, as tests do), so a stray system file cannot change where a test
/// agent registers. Only a file that exists counts.
pub fn default_master_file(
    env_value: Option<&std::ffi::OsStr>,
    own_conf_dir: bool,
) -> Option<PathBuf> {
    let path = match env_value {
        Some(p) if p.is_empty() => return None,
        Some(p) => PathBuf::from(p),
        None if own_conf_dir => return None,
        None => PathBuf::from(DEFAULT_ZK_FILE),
    };
    Path::new(&path).exists().then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_mesos_accepts() {
        let fixed = |s: &str| MasterSource::Fixed(s.to_owned());
        assert_eq!(
            MasterSource::parse("10.0.0.1:5050").unwrap(),
            fixed("10.0.0.1:5050")
        );
        assert_eq!(
            MasterSource::parse("http://m:5050/").unwrap(),
            fixed("m:5050")
        );
        assert_eq!(
            MasterSource::parse("master@10.0.0.1:5050").unwrap(),
            fixed("10.0.0.1:5050")
        );
        let MasterSource::ZooKeeper(url) =
            MasterSource::parse("zk://u:p@z1:2181,z2:2182/mesos").unwrap()
        else {
            panic!("not zk");
        };
        assert_eq!(url.path, "/mesos");
        assert_eq!(url.servers.len(), 2);
        assert_eq!(
            MasterSource::parse("zk://z1:2181,z2:2182/mesos")
                .unwrap()
                .route_target(),
            "z1:2181"
        );
    }

    #[test]
    fn reads_files_once() {
        let d = tempfile::tempdir().unwrap();
        let zk = d.path().join("zk");
        std::fs::write(&zk, "zk://127.0.0.1:2181/mesos\n").unwrap();
        let from_file = MasterSource::parse(&format!("file://{}", zk.display())).unwrap();
        assert!(matches!(from_file, MasterSource::ZooKeeper(u) if u.path == "/mesos"));
        let plain = d.path().join("plain");
        std::fs::write(&plain, "m:5050").unwrap();
        let m = MasterSource::parse(&format!("file://{}", plain.display())).unwrap();
        assert_eq!(m, MasterSource::Fixed("m:5050".into()));
        let nested = d.path().join("nested");
        std::fs::write(&nested, format!("file://{}", plain.display())).unwrap();
        assert!(MasterSource::parse(&format!("file://{}", nested.display())).is_err());
        let e = MasterSource::parse("file:///nonexistent/zk").unwrap_err();
        assert!(e.contains("/nonexistent/zk"), "{e}");
    }

    #[test]
    fn malformed_values_are_one_readable_line() {
        for bad in [
            "zk://",
            "zk:///mesos",
            "zk://h:notaport/mesos",
            "nohost",
            "h:0",
            ":5050",
        ] {
            let e = MasterSource::parse(bad).unwrap_err();
            assert!(!e.contains('\n') && !e.is_empty(), "{bad}: {e}");
        }
    }

    #[test]
    fn default_file_is_overridable_and_off_for_own_conf_dirs() {
        let d = tempfile::tempdir().unwrap();
        let zk = d.path().join("zk");
        std::fs::write(&zk, "zk://127.0.0.1:2181/mesos").unwrap();
        assert_eq!(
            default_master_file(Some(zk.as_os_str()), true),
            Some(zk.clone())
        );
        assert_eq!(default_master_file(Some("".as_ref()), false), None);
        assert_eq!(default_master_file(None, true), None);
        let missing = d.path().join("missing");
        assert_eq!(default_master_file(Some(missing.as_os_str()), false), None);
    }
}
