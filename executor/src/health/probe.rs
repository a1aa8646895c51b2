//! One check of each kind. HTTP: a GET of `http://<host>:<port><path>`, healthy on 2xx/3xx
//! (Mesos runs `curl -L`; `https` still goes through `curl -k`, as in Mesos, since the
//! executor has no TLS stack). TCP: a connection to `<host>:<port>`. COMMAND: the command
//! (through `/bin/sh -c` unless `shell` is false), healthy on exit 0; its output goes to the
//! executor's stderr, as in Mesos. Every probe is bounded by the check's timeout.

use std::future::Future;
use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use meseta_api::CommandInfo;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::net::TcpStream;
use tokio::process::Command;

/// What a check probes.
#[derive(Debug, Clone)]
pub enum Probe {
    /// Run a command.
    Command {
        /// The check's command.
        command: CommandInfo,
        /// Put before the command (e.g. `docker exec <container>`), empty to run it directly.
        wrapper: Vec<String>,
        /// Run in the mount namespace of this process's task (a task inside an image).
        namespace_of: Option<i32>,
    },
    /// GET a URL.
    Http {
        /// `https` (through curl) rather than `http`.
        https: bool,
        /// Address probed.
        host: IpAddr,
        /// Port.
        port: u16,
        /// Path (may be empty).
        path: String,
    },
    /// Connect.
    Tcp {
        /// Address probed.
        host: IpAddr,
        /// Port.
        port: u16,
    },
}

/// Awaits `f` for at most `timeout` (`None`: no limit).
async fn bounded<T>(
    timeout: Option<Duration>,
    f: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match timeout {
        None => f.await,
        Some(limit) => tokio::time::timeout(limit, f)
            .await
            .unwrap_or_else(|_| Err(format!("has not returned after {limit:?}; aborting"))),
    }
}

impl Probe {
    /// Runs one check; `Err` says why it failed.
    pub async fn run(&self, timeout: Option<Duration>) -> Result<(), String> {
        match self {
            Probe::Tcp { host, port } => {
                bounded(timeout, async {
                    TcpStream::connect((*host, *port))
                        .await
                        .map(drop)
                        .map_err(|e| format!("TCP connection to {host}:{port} failed: {e}"))
                })
                .await
            }
            Probe::Http {
                https: false,
                host,
                port,
                path,
            } => bounded(timeout, http_get(*host, *port, path)).await,
            Probe::Http {
                https: true,
                host,
                port,
                path,
            } => {
                let url = format!("https://{}{path}", socket(*host, *port));
                let argv = [
                    "curl",
                    "-s",
                    "-S",
                    "-L",
                    "-k",
                    "-w",
                    "%{http_code}",
                    "-o",
                    "/dev/null",
                ]
                .map(String::from)
                .into_iter()
                .chain([url])
                .collect();
                let output = run_command(argv, &[], timeout, true, None).await?;
                let code: u16 = output
                    .trim()
                    .parse()
                    .map_err(|_| format!("unexpected output from curl: {output}"))?;
                healthy_code(code)
            }
            Probe::Command {
                command,
                wrapper,
                namespace_of,
            } => {
                let mut argv = wrapper.clone();
                let value = command.value.clone().unwrap_or_default();
                if command.is_shell() {
                    if wrapper.is_empty() {
                        argv.push("/bin/sh".into());
                    } else {
                        argv.push("sh".into());
                    }
                    argv.extend(["-c".to_string(), value]);
                } else {
                    argv.push(value);
                    // argv[0] is `arguments[0]` in Mesos; the program is `value`.
                    argv.extend(command.arguments.iter().skip(1).cloned());
                }
                let env: Vec<(String, String)> = command
                    .environment
                    .iter()
                    .flat_map(|e| &e.variables)
                    .filter_map(|v| Some((v.name.clone(), v.value.clone()?)))
                    .collect();
                let ns = match namespace_of {
                    None => None,
                    // Never run it on the host's filesystem instead of the image's.
                    Some(pid) => Some(
                        super::namespace::task_mount_namespace(*pid)
                            .ok_or("the task's mount namespace is not there (yet)".to_string())?,
                    ),
                };
                run_command(argv, &env, timeout, false, ns).await.map(drop)
            }
        }
    }
}

fn socket(host: IpAddr, port: u16) -> String {
    match host {
        IpAddr::V4(ip) => format!("{ip}:{port}"),
        IpAddr::V6(ip) => format!("[{ip}]:{port}"),
    }
}

fn healthy_code(code: u16) -> Result<(), String> {
    if (200..400).contains(&code) {
        Ok(())
    } else {
        Err(format!("Unexpected HTTP response code: {code}"))
    }
}

/// One GET on a fresh connection; only the status line matters.
async fn http_get(host: IpAddr, port: u16, path: &str) -> Result<(), String> {
    let authority = socket(host, port);
    let stream = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connecting to {authority}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(format!("invalid health check path {path:?}"));
    }
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: mesos-health-check\r\n\r\n"
    );
    let mut conn = crate::http1::Connection::new(stream);
    conn.send(request.as_bytes())
        .await
        .map_err(|e| format!("GET from {authority}: {e}"))?;
    let head = conn
        .read_head()
        .await
        .map_err(|e| format!("GET from {authority}: {e}"))?;
    healthy_code(head.status)
}

/// Runs `argv` in its own process group with `env` added; Ok(stdout) on exit 0. On timeout
/// the whole group is killed.
async fn run_command(
    argv: Vec<String>,
    env: &[(String, String)],
    timeout: Option<Duration>,
    capture: bool,
    mount_namespace: Option<std::fs::File>,
) -> Result<String, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("empty health check command".into());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .stderr(if capture {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .process_group(0)
        .kill_on_drop(true);
    if let Some(ns) = mount_namespace {
        super::namespace::enter_before_exec(&mut command, ns);
    }
    let child = command
        .spawn()
        .map_err(|e| format!("Failed to create subprocess {program}: {e}"))?;
    let pgid = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .map(Pid::from_raw);
    let output = bounded(timeout, async {
        child
            .wait_with_output()
            .await
            .map_err(|e| format!("waiting for {program}: {e}"))
    })
    .await;
    let output = match output {
        Ok(output) => output,
        Err(message) => {
            if let Some(pgid) = pgid {
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            return Err(format!("Command {message}"));
        }
    };
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "Command returned {}: {}",
            output.status,
            stderr.trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    /// Answers every connection with `status`.
    async fn server(status: u16) -> u16 {
        let listener = TcpListener::bind((LOCAL, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let _ = conn.read(&mut buf).await;
                let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
                let _ = conn.write_all(reply.as_bytes()).await;
            }
        });
        port
    }

    fn http(port: u16) -> Probe {
        Probe::Http {
            https: false,
            host: LOCAL,
            port,
            path: "health".into(),
        }
    }

    #[tokio::test]
    async fn http_is_healthy_on_2xx_and_3xx_only() {
        let limit = Some(Duration::from_secs(5));
        assert!(http(server(200).await).run(limit).await.is_ok());
        assert!(http(server(302).await).run(limit).await.is_ok());
        let err = http(server(503).await).run(limit).await.unwrap_err();
        assert!(err.contains("503"), "{err}");
        let closed = meseta_free_port();
        assert!(http(closed).run(limit).await.is_err());
        assert!(Probe::Tcp {
            host: LOCAL,
            port: closed
        }
        .run(limit)
        .await
        .is_err());
        assert!(Probe::Tcp {
            host: LOCAL,
            port: server(200).await
        }
        .run(limit)
        .await
        .is_ok());
    }

    fn meseta_free_port() -> u16 {
        std::net::TcpListener::bind((LOCAL, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[tokio::test]
    async fn commands_pass_on_exit_zero_and_time_out() {
        let cmd = |value: &str| Probe::Command {
            command: CommandInfo::shell(value),
            wrapper: Vec::new(),
            namespace_of: None,
        };
        let limit = Some(Duration::from_millis(500));
        assert!(cmd("true").run(limit).await.is_ok());
        let err = cmd("exit 3").run(limit).await.unwrap_err();
        assert!(err.contains("exit status: 3"), "{err}");
        let started = std::time::Instant::now();
        let err = cmd("sleep 30").run(limit).await.unwrap_err();
        assert!(err.contains("has not returned"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let direct = Probe::Command {
            command: CommandInfo {
                shell: Some(false),
                value: Some("/bin/test".into()),
                arguments: vec!["test".into(), "-d".into(), "/".into()],
                ..CommandInfo::default()
            },
            wrapper: Vec::new(),
            namespace_of: None,
        };
        assert!(direct.run(limit).await.is_ok());
    }
}
