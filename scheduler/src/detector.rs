//! Finding the leading master: the [`MasterDetector`] abstraction (Mesos'
//! `mesos::master::detector::MasterDetector`), the [`StaticDetector`] for a fixed
//! `host:port`, and [`detector_for`], which turns a `--master` value into a detector.
//!
//! Mesos accepts `host:port`, `zk://[user:pass@]host1:port1,host2:port2/path` and
//! `file:///path` (a file holding one of the other two); so does [`detector_for`]. ZooKeeper
//! detection plugs in through [`ZkDetectorFactory`]: a crate that implements a ZooKeeper
//! detector registers its constructor with [`register_zk_detector`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use crate::error::{DetectError, Error};

/// A master's HTTP address (`host:port`), as a detector reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MasterAddr {
    /// Host name or IPv4 address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl MasterAddr {
    /// From a host and a port.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }

    /// The address in a `Location` header of a 307 from a non-leading master:
    /// `//host:port/api/v1/scheduler` (Mesos' protocol-relative form) or `http://host:port/...`.
    pub fn from_location(location: &str) -> Option<Self> {
        let rest = location
            .strip_prefix("http://")
            .or_else(|| location.strip_prefix("https://"))
            .or_else(|| location.strip_prefix("//"))?;
        let authority = rest.split('/').next()?;
        authority.parse().ok()
    }
}

impl fmt::Display for MasterAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl FromStr for MasterAddr {
    type Err = String;

    /// `host:port`, optionally prefixed by `http://` and followed by a path.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let s = s.strip_prefix("http://").unwrap_or(s);
        let s = s.split('/').next().unwrap_or_default();
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| "expected host:port".to_string())?;
        if host.is_empty() {
            return Err("empty host".into());
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("invalid port '{port}'"))?;
        Ok(Self::new(host, port))
    }
}

/// What [`MasterDetector::detect`] returns.
pub type DetectFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<MasterAddr>, DetectError>> + Send + 'a>>;

/// Tells the driver which master leads (Mesos' `MasterDetector::detect`).
pub trait MasterDetector: Send + Sync + fmt::Debug {
    /// Resolves when the leading master differs from `previous`: with `None`, as soon as a
    /// leader is known (immediately if one is); `Ok(None)` means "no leader right now".
    /// The driver calls `detect(None)` before each subscription attempt and
    /// `detect(Some(current))` while subscribed, to move to a new leader early.
    fn detect(&self, previous: Option<MasterAddr>) -> DetectFuture<'_>;
}

/// A single, fixed master.
#[derive(Debug, Clone)]
pub struct StaticDetector(pub MasterAddr);

impl MasterDetector for StaticDetector {
    fn detect(&self, previous: Option<MasterAddr>) -> DetectFuture<'_> {
        Box::pin(async move {
            if previous.as_ref() == Some(&self.0) {
                // The leader never changes.
                std::future::pending::<()>().await;
            }
            Ok(Some(self.0.clone()))
        })
    }
}

/// Builds a detector for a `zk://` URL (the whole URL, credentials and path included).
pub type ZkDetectorFactory = fn(&str) -> Result<Arc<dyn MasterDetector>, Error>;

static ZK_FACTORY: OnceLock<ZkDetectorFactory> = OnceLock::new();

/// Makes [`detector_for`] accept `zk://` URLs (first registration wins).
pub fn register_zk_detector(factory: ZkDetectorFactory) {
    let _ = ZK_FACTORY.set(factory);
}

/// A detector for a `--master` value: `host:port`, `http://host:port`, `zk://...` (when a
/// ZooKeeper detector is registered) or `file:///path` holding one of those.
pub fn detector_for(master: &str) -> Result<Arc<dyn MasterDetector>, Error> {
    let master = master.trim();
    if let Some(path) = master.strip_prefix("file://") {
        // Flag parsing happens before the runtime does anything: a blocking read is fine.
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadMasterFile {
            path: path.to_string(),
            source,
        })?;
        let inner = text.trim();
        if inner.starts_with("file://") {
            return Err(Error::InvalidMaster {
                master: master.to_string(),
                reason: "a file:// master file must not name another file".into(),
            });
        }
        return detector_for(inner);
    }
    if master.starts_with("zk://") {
        return match ZK_FACTORY.get() {
            Some(factory) => factory(master),
            None => Err(Error::UnsupportedMaster(master.to_string())),
        };
    }
    let addr = master
        .parse::<MasterAddr>()
        .map_err(|reason| Error::InvalidMaster {
            master: master.to_string(),
            reason,
        })?;
    Ok(Arc::new(StaticDetector(addr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_master_forms() {
        assert_eq!(
            "127.0.0.1:5050".parse::<MasterAddr>().unwrap(),
            MasterAddr::new("127.0.0.1", 5050)
        );
        assert_eq!(
            "http://m1:5050/".parse::<MasterAddr>().unwrap(),
            MasterAddr::new("m1", 5050)
        );
        assert!("m1".parse::<MasterAddr>().is_err());
        assert!(":5050".parse::<MasterAddr>().is_err());
        assert!("m1:99999".parse::<MasterAddr>().is_err());
        assert_eq!(
            MasterAddr::from_location("//m2:5051/api/v1/scheduler"),
            Some(MasterAddr::new("m2", 5051))
        );
        assert_eq!(
            MasterAddr::from_location("http://10.0.0.2:5050/master/api/v1/scheduler"),
            Some(MasterAddr::new("10.0.0.2", 5050))
        );
        assert_eq!(MasterAddr::from_location("/relative"), None);
    }

    #[test]
    fn detector_for_rejects_what_it_cannot_detect() {
        assert!(matches!(
            detector_for("nonsense"),
            Err(Error::InvalidMaster { .. })
        ));
        if ZK_FACTORY.get().is_none() {
            assert!(matches!(
                detector_for("zk://127.0.0.1:2181/mesos"),
                Err(Error::UnsupportedMaster(_))
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("master");
        std::fs::write(&file, "127.0.0.1:5050\n").unwrap();
        assert!(detector_for(&format!("file://{}", file.display())).is_ok());
        assert!(matches!(
            detector_for("file:///nonexistent/master"),
            Err(Error::ReadMasterFile { .. })
        ));
    }

    #[tokio::test]
    async fn static_detector_answers_once() {
        let d = StaticDetector(MasterAddr::new("h", 1));
        assert_eq!(d.detect(None).await.unwrap(), Some(MasterAddr::new("h", 1)));
        let again = d.detect(Some(MasterAddr::new("h", 1)));
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), again).await;
        assert!(waited.is_err(), "a static master never changes");
    }
}
