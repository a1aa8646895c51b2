//! How much a listener lets clients take: timeouts, the connection cap, and the process's
//! file-descriptor limit that the cap must stay under.
//!
//! Each limit has a default and an environment variable (the same for every Meseta server,
//! since Mesos has no flags for them): `MESETA_HTTP_HEADER_READ_TIMEOUT_SECS`,
//! `MESETA_HTTP_BODY_READ_TIMEOUT_SECS`, `MESETA_HTTP_MAX_CONNECTIONS`.

use std::time::Duration;

/// Default time to wait for a request's head: from the moment a connection (new, or idle
/// after a response) waits for a request until its headers are complete.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Default time a request's body may take to arrive, counted from its head.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Default connection cap when the file-descriptor limit allows it.
pub const MAX_CONNECTIONS: usize = 65_536;

/// File descriptors kept out of the connection cap for everything else a server opens.
pub const FD_RESERVE: u64 = 1_024;

/// The limits of one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Closes a connection whose next request head is not complete in time. hyper starts this
    /// timer whenever the connection waits for a request, so it is also the keep-alive idle
    /// timeout; it never runs while a response (an event stream) is being written.
    pub header_read_timeout: Duration,
    /// Fails a request body that has not fully arrived in time (the handler gets an error and
    /// answers 400 or closes the connection).
    pub body_read_timeout: Duration,
    /// Connections served at once; the next ones get `503` and `Connection: close`.
    pub max_connections: usize,
}

impl Default for Limits {
    /// The defaults, the cap at most three quarters of the soft `RLIMIT_NOFILE` and
    /// [`FD_RESERVE`] below it.
    fn default() -> Self {
        let nofile = nofile_limit().map_or(MAX_CONNECTIONS as u64, |(soft, _)| soft);
        let by_fds = (nofile / 4 * 3)
            .min(nofile.saturating_sub(FD_RESERVE))
            .max(64);
        Self {
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            max_connections: usize::try_from(by_fds)
                .unwrap_or(MAX_CONNECTIONS)
                .min(MAX_CONNECTIONS),
        }
    }
}

/// A variable that is set but is not a positive number.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value} is not a positive whole number")]
pub struct LimitError {
    /// The variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
}

impl Limits {
    /// The defaults, overridden by the `MESETA_HTTP_*` variables of `env`.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, LimitError> {
        let mut limits = Self::default();
        let num = |name: &'static str| -> Result<Option<u64>, LimitError> {
            env(name)
                .map(|value| match value.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(LimitError { name, value }),
                })
                .transpose()
        };
        if let Some(s) = num("MESETA_HTTP_HEADER_READ_TIMEOUT_SECS")? {
            limits.header_read_timeout = Duration::from_secs(s);
        }
        if let Some(s) = num("MESETA_HTTP_BODY_READ_TIMEOUT_SECS")? {
            limits.body_read_timeout = Duration::from_secs(s);
        }
        if let Some(n) = num("MESETA_HTTP_MAX_CONNECTIONS")? {
            limits.max_connections = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Ok(limits)
    }

    /// [`Limits::from_env`] on the process environment.
    pub fn from_process_env() -> Result<Self, LimitError> {
        Self::from_env(|name| std::env::var(name).ok())
    }
}

/// The (soft, hard) `RLIMIT_NOFILE`.
pub fn nofile_limit() -> Option<(u64, u64)> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
    (rc == 0).then_some((rl.rlim_cur, rl.rlim_max))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, as servers do at start (the default soft
/// limit of 1024 is far below what thousands of clients need); returns the new soft limit.
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    let (_, hard) = nofile_limit().ok_or_else(std::io::Error::last_os_error)?;
    let rl = libc::rlimit {
        rlim_cur: hard,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(hard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_and_rejects_garbage() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let l = Limits::from_env(env(&[
            ("MESETA_HTTP_MAX_CONNECTIONS", "100"),
            ("MESETA_HTTP_HEADER_READ_TIMEOUT_SECS", "2"),
        ]))
        .unwrap();
        assert_eq!(l.max_connections, 100);
        assert_eq!(l.header_read_timeout, Duration::from_secs(2));
        assert_eq!(l.body_read_timeout, BODY_READ_TIMEOUT);
        for bad in ["0", "-1", "lots", ""] {
            let pairs: &'static [(&str, &str)] =
                Box::leak(vec![("MESETA_HTTP_MAX_CONNECTIONS", bad)].into_boxed_slice());
            assert!(Limits::from_env(env(pairs)).is_err(), "{bad}");
        }
        assert!(Limits::default().max_connections >= 64);
    }
}
