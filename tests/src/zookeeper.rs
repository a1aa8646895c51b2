//! A real ZooKeeper server for tests: Debian's `zookeeper` package (3.8), started by hand as
//! `java … org.apache.zookeeper.server.quorum.QuorumPeerMain` on a free loopback port with a
//! private data directory (the package's own init would take port 2181 and `/var/lib`).
//!
//! One server per test binary is the rule ([`ZooKeeper::shared`]); each test takes its own
//! chroot path with [`ZooKeeper::unique_path`]. A test that stops and restarts ZooKeeper starts
//! its own server with [`ZooKeeper::start`].
//!
//! The JVM is started under a small shell watchdog that kills it when the test process exits,
//! since a server held in a `static` is never dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The jar of Debian's `zookeeper` package; its manifest's class path names its dependencies.
pub const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";

/// A ZooKeeper server on 127.0.0.1 with its own data directory.
#[derive(Debug)]
pub struct ZooKeeper {
    port: u16,
    dir: tempfile::TempDir,
}

/// Whether the server can be started here; prints why not otherwise (`scripts/setup.sh`
/// installs it, so under `scripts/test.sh` this is always true).
pub fn available_or_skip(test: &str) -> bool {
    if Path::new(ZOOKEEPER_JAR).exists() && Path::new("/usr/bin/java").exists() {
        return true;
    }
    eprintln!("SKIPPED {test}: ZooKeeper is not installed (run scripts/setup.sh)");
    false
}

impl ZooKeeper {
    /// The server shared by every test of this binary (started on first use).
    pub fn shared() -> &'static ZooKeeper {
        static ZK: OnceLock<ZooKeeper> = OnceLock::new();
        ZK.get_or_init(ZooKeeper::start)
    }

    /// Starts a new server and waits until it serves requests; panics with its log otherwise.
    pub fn start() -> ZooKeeper {
        let dir = tempfile::Builder::new()
            .prefix("meseta-zk-")
            .tempdir()
            .expect("zookeeper dir");
        let zk = ZooKeeper {
            port: crate::free_port(),
            dir,
        };
        std::fs::create_dir_all(zk.dir.path().join("data")).expect("data dir");
        let cfg = format!(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\n\
             clientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
             4lw.commands.whitelist=srvr,ruok,mntr,stat\nmaxSessionTimeout=40000\n\
             maxClientCnxns=0\n",
            zk.dir.path().join("data").display(),
            zk.port
        );
        std::fs::write(zk.dir.path().join("zoo.cfg"), cfg).expect("zoo.cfg");
        std::fs::write(
            zk.dir.path().join("log4j.properties"),
            "log4j.rootLogger=INFO, F\nlog4j.appender.F=org.apache.log4j.FileAppender\n\
             log4j.appender.F.File=zookeeper.log\n\
             log4j.appender.F.layout=org.apache.log4j.PatternLayout\n\
             log4j.appender.F.layout.ConversionPattern=%d %p %c{1}: %m%n\n",
        )
        .expect("log4j.properties");
        zk.resume();
        zk
    }

    /// Starts the JVM again on the same port and data (after [`ZooKeeper::stop`]) and waits
    /// until it serves.
    pub fn resume(&self) {
        let d = self.dir.path();
        // The watchdog: the JVM dies with the test process (or when `stop` kills it).
        let script = format!(
            "java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
             -Dlog4j.configuration=file:{d}/log4j.properties -Dzookeeper.log.dir={d} \
             -cp /etc/zookeeper/conf:{jar} org.apache.zookeeper.server.quorum.QuorumPeerMain \
             {d}/zoo.cfg >>{d}/stdout.log 2>&1 & j=$!; echo $j >{d}/java.pid; \
             while kill -0 {test} 2>/dev/null && kill -0 $j 2>/dev/null; do sleep 0.5; done; \
             kill -9 $j 2>/dev/null",
            d = d.display(),
            jar = ZOOKEEPER_JAR,
            test = std::process::id()
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start zookeeper");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self
                .four_letter("srvr")
                .is_some_and(|r| r.contains("Mode:"))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "ZooKeeper did not come up on port {}:\n{}",
            self.port,
            self.log()
        );
    }

    /// Kills the server (SIGKILL), keeping its data for [`ZooKeeper::resume`]; waits until the
    /// port no longer answers.
    pub fn stop(&self) {
        let pid_file = self.dir.path().join("java.pid");
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, the connect string ZooKeeper clients take.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `zk://127.0.0.1:<port><path>` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("zk://127.0.0.1:{}{}", self.port, path)
    }

    /// A path no other test of this process uses: `/<prefix>-<pid>-<n>`.
    pub fn unique_path(prefix: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "/{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The server's data and log directory.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// The server's log (for failure messages).
    pub fn log(&self) -> String {
        let d = self.dir.path();
        let mut out = std::fs::read_to_string(d.join("zookeeper.log")).unwrap_or_default();
        out.push_str(&std::fs::read_to_string(d.join("stdout.log")).unwrap_or_default());
        out
    }

    /// Sends a four-letter command (`srvr`, `ruok`, `mntr`, `stat`) and returns the answer.
    pub fn four_letter(&self, cmd: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(cmd.as_bytes()).ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_starts_stops_and_resumes_with_its_data() {
        if !available_or_skip("a_server_starts_stops_and_resumes_with_its_data") {
            return;
        }
        let zk = ZooKeeper::start();
        assert!(zk.four_letter("srvr").unwrap().contains("Mode: standalone"));
        zk.stop();
        assert!(
            zk.four_letter("srvr").is_none(),
            "still answering after stop"
        );
        zk.resume();
        assert!(zk.four_letter("ruok").unwrap().contains("imok"));
        assert!(zk.url("/mesos").starts_with("zk://127.0.0.1:"));
    }
}
