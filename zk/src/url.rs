//! `zk://[user:pass@]host1:port1,host2:port2/path` URLs, as Mesos parses them
//! (src/zookeeper/url.cpp), and `file:///etc/mesos/zk` indirection (a file whose content is such
//! a URL, as Mesos's `--zk=file://...` and `/etc/mesos/zk` of the packages).
//!
//! Stricter than Mesos where Mesos would only fail later: every host needs a name and a numeric
//! port (ZooKeeper's 2181 when omitted), and the path may not hold empty, `.` or `..` components,
//! which ZooKeeper rejects at the first create with a less readable error.

use std::fmt;
use std::path::Path;

use crate::error::UrlError;

/// ZooKeeper's client port when a host names none.
pub const DEFAULT_PORT: u16 = 2181;

/// Digest credentials carried by a URL (`user:pass@`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name of the digest identity.
    pub user: String,
    /// Password of the digest identity.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password never reaches a log line.
        write!(f, "Credentials({}:***)", self.user)
    }
}

/// A parsed `zk://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkUrl {
    /// Digest credentials, when the URL carries `user:pass@`.
    pub credentials: Option<Credentials>,
    /// `(host, port)` of every server, in URL order.
    pub servers: Vec<(String, u16)>,
    /// Absolute znode path, without a trailing `/` (except the root itself).
    pub path: String,
}

impl ZkUrl {
    /// Parses a `zk://` URL, or reads one from the file a `file://` URL names.
    ///
    /// File reads are blocking; call this at start-up, before serving.
    pub fn parse_or_read(text: &str) -> Result<ZkUrl, UrlError> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("file://") {
            return ZkUrl::read_file(Path::new(path));
        }
        text.parse()
    }

    /// Reads a URL from a file such as `/etc/mesos/zk` (surrounding whitespace ignored).
    pub fn read_file(path: &Path) -> Result<ZkUrl, UrlError> {
        let content = std::fs::read_to_string(path).map_err(|source| UrlError::File {
            path: path.display().to_string(),
            source,
        })?;
        let content = content.trim();
        if content.starts_with("file://") {
            return Err(UrlError::NestedFile(path.display().to_string()));
        }
        content.parse().map_err(|err| UrlError::InFile {
            path: path.display().to_string(),
            source: Box::new(err),
        })
    }

    /// The connect string for the client: `h1:p1,h2:p2` (the path is used absolutely, no chroot).
    pub fn connect_string(&self) -> String {
        self.servers
            .iter()
            .map(|(host, port)| {
                if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `path/child`, joining without doubling the `/` at the root.
    pub fn child(&self, name: &str) -> String {
        if self.path == "/" {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.path)
        }
    }
}

impl fmt::Display for ZkUrl {
    /// The URL with the password masked, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zk://")?;
        if let Some(credentials) = &self.credentials {
            write!(f, "{}:***@", credentials.user)?;
        }
        write!(f, "{}{}", self.connect_string(), self.path)
    }
}

impl std::str::FromStr for ZkUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<ZkUrl, UrlError> {
        let rest = text
            .strip_prefix("zk://")
            .ok_or_else(|| UrlError::Scheme(text.to_string()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (credentials, hosts) = match authority.rfind('@') {
            Some(i) => (
                Some(parse_credentials(&authority[..i])?),
                &authority[i + 1..],
            ),
            None => (None, authority),
        };
        if hosts.is_empty() {
            return Err(UrlError::NoServers);
        }
        let servers = hosts
            .split(',')
            .map(parse_server)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ZkUrl {
            credentials,
            servers,
            path: normalize_path(path)?,
        })
    }
}

fn parse_credentials(text: &str) -> Result<Credentials, UrlError> {
    match text.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok(Credentials {
            user: user.to_string(),
            password: password.to_string(),
        }),
        _ => Err(UrlError::Credentials),
    }
}

fn parse_server(text: &str) -> Result<(String, u16), UrlError> {
    let bad = || UrlError::Server(text.to_string());
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        // [v6]:port or [v6]
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if !valid_host {
        return Err(bad());
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(bad)?,
    };
    Ok((host.to_string(), port))
}

fn normalize_path(path: &str) -> Result<String, UrlError> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok("/".to_string());
    }
    let bad_component = trimmed[1..]
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == ".." || c.chars().any(char::is_control));
    if bad_component || trimmed.contains(char::is_whitespace) {
        return Err(UrlError::Path(path.to_string()));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn parse(text: &str) -> ZkUrl {
        text.parse().unwrap()
    }

    #[test]
    fn mesos_shapes_parse() {
        let url = parse("zk://127.0.0.1:2181/mesos");
        assert_eq!(url.servers, vec![("127.0.0.1".to_string(), 2181)]);
        assert_eq!(url.path, "/mesos");
        assert_eq!(url.credentials, None);

        let url = parse("zk://alice:s3cr:et@h1:2181,h2:2182,h3/a/b/");
        let creds = url.credentials.clone().unwrap();
        assert_eq!(
            (creds.user.as_str(), creds.password.as_str()),
            ("alice", "s3cr:et")
        );
        assert_eq!(url.servers.len(), 3);
        assert_eq!(url.servers[2], ("h3".to_string(), DEFAULT_PORT));
        assert_eq!(url.path, "/a/b");
        assert_eq!(url.connect_string(), "h1:2181,h2:2182,h3:2181");
        assert_eq!(
            url.to_string(),
            "zk://alice:***@h1:2181,h2:2182,h3:2181/a/b"
        );
        assert!(!format!("{url:?}").contains("s3cr"));

        assert_eq!(parse("zk://localhost:2181").path, "/");
        assert_eq!(parse("zk://[::1]:2181/m").connect_string(), "[::1]:2181");
        assert_eq!(parse("zk://h:1/m").child("json.info_"), "/m/json.info_");
        assert_eq!(parse("zk://h:1/").child("x"), "/x");
    }

    #[test]
    fn malformed_urls_are_readable_one_liners() {
        for (text, needle) in [
            ("http://h:2181/mesos", "zk://"),
            ("zk:///mesos", "no server"),
            ("zk://h:abc/mesos", "'h:abc'"),
            ("zk://h:0/mesos", "'h:0'"),
            ("zk://h:99999/mesos", "'h:99999'"),
            ("zk://h1:2181,,h2/mesos", "''"),
            ("zk://user@h:2181/mesos", "user:password"),
            ("zk://:pw@h:2181/mesos", "user:password"),
            ("zk://h:2181/me//sos", "path"),
            ("zk://h:2181/a/../b", "path"),
            ("zk://h:2181/a b", "path"),
            ("zk://h!:2181/a", "'h!:2181'"),
        ] {
            let err = text.parse::<ZkUrl>().unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
            assert!(!err.contains('\n'), "{text}: {err}");
        }
    }

    #[test]
    fn file_urls_read_the_file() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "  zk://h1:2181,h2:2181/mesos  ").unwrap();
        let url = ZkUrl::parse_or_read(&format!("file://{}", file.path().display())).unwrap();
        assert_eq!(url.path, "/mesos");
        assert_eq!(url.servers.len(), 2);

        let err = ZkUrl::parse_or_read("file:///nonexistent/zk")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/zk"), "{err}");

        let mut bad = tempfile::NamedTempFile::new().unwrap();
        write!(bad, "localhost:2181").unwrap();
        let err = ZkUrl::parse_or_read(&format!("file://{}", bad.path().display()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&bad.path().display().to_string()) && err.contains("zk://"),
            "{err}"
        );
    }
}
