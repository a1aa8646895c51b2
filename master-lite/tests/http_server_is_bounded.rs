//! The real `mesos-master` and `mesos-agent` binaries under hostile connections: 20,000 idle
//! sockets do not starve `/health`; at the connection cap the oldest silent connection gives
//! way, and when every connection is busy newcomers get a clean `503` with `Connection: close`;
//! header and body read timeouts close slow clients; event streams outlive the timeouts.

#![allow(clippy::tests_outside_test_module)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use meseta_tests::{bin, free_port, http, wait_until, Cluster, ClusterOptions};

/// A master with `env` (the `MESETA_HTTP_*` limits), killed on drop.
struct Master {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Master {
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(bin("mesos-master"))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--work_dir={}", dir.path().join("m").display()))
            .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let up = wait_until(Duration::from_secs(20), || {
            http("GET", port, "/health", None).is_ok_and(|(s, _)| s == 200)
        });
        assert!(up, "master did not come up");
        Self {
            port,
            child,
            _dir: dir,
        }
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn health_within(port: u16, limit: Duration) {
    let t = Instant::now();
    let result = http("GET", port, "/health", None);
    let took = t.elapsed();
    assert!(matches!(result, Ok((200, _))), "/health: {result:?}");
    assert!(took < limit, "/health took {took:?}");
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Whether the server closed `s` (EOF or reset) within `within`.
fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

fn set_nofile(soft: u64, hard: u64) {
    let rl = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct we own.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) };
    assert_eq!(rc, 0, "setrlimit");
}

/// A process holding `n` idle connections to `port` until dropped (python: a process may not
/// hold 20,000 descriptors here, as the hard `RLIMIT_NOFILE` is 20,000 and cannot be raised).
struct Holder(Child);

impl Holder {
    fn start(port: u16, n: usize) -> Self {
        // Non-blocking connects, so a full accept queue delays them all at once, not one by one;
        // 500 per loopback source address (IP_BIND_ADDRESS_NO_PORT), since the kernel's search
        // for a free ephemeral port towards one address grows slow with 20,000 taken.
        let script = "import socket, sys, resource, selectors, time\n\
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n\
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))\n\
            port, n = int(sys.argv[1]), int(sys.argv[2])\n\
            sel = selectors.DefaultSelector()\n\
            socks = []\n\
            for _ in range(n):\n\
            \x20   s = socket.socket()\n\
            \x20   s.setsockopt(socket.IPPROTO_IP, 24, 1)\n\
            \x20   s.bind(('127.0.1.%d' % (1 + len(socks) // 500), 0))\n\
            \x20   s.setblocking(False)\n\
            \x20   s.connect_ex(('127.0.0.1', port))\n\
            \x20   socks.append(s)\n\
            \x20   sel.register(s, selectors.EVENT_WRITE)\n\
            ok, left, deadline = 0, n, time.time() + 120\n\
            while left and time.time() < deadline:\n\
            \x20   for key, _ in sel.select(1):\n\
            \x20       sel.unregister(key.fileobj)\n\
            \x20       left -= 1\n\
            \x20       ok += key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0\n\
            print(ok, flush=True)\n\
            sys.stdin.read()\n";
        let mut child = Command::new("python3")
            .args(["-c", script, &port.to_string(), &n.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert_eq!(
            line.trim(),
            n.to_string(),
            "holder could not open {n} connections"
        );
        Self(child)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn twenty_thousand_idle_connections_do_not_starve_health() {
    // The daemons start with the usual soft limit of 1024 descriptors and raise it themselves.
    let (_, hard) = meseta_httpd::nofile_limit().unwrap();
    set_nofile(1024, hard);
    let mut opts = ClusterOptions::new("cpus:2;mem:1024;disk:1000");
    opts.isolation = "filesystem/posix".into();
    let cluster = Cluster::start_with(&opts);
    set_nofile(hard, hard);
    for (name, port) in [
        ("master", cluster.master_port),
        ("agent", cluster.agent_port),
    ] {
        let t = Instant::now();
        let holders = [Holder::start(port, 10_000), Holder::start(port, 10_000)];
        eprintln!("{name}: 20,000 connections opened in {:?}", t.elapsed());
        std::thread::sleep(Duration::from_secs(1));
        for _ in 0..10 {
            health_within(port, Duration::from_millis(100));
        }
        eprintln!("{name}: /health fast with 20,000 idle connections");
        drop(holders);
    }
}

#[test]
fn at_the_cap_silent_connections_give_way_and_busy_ones_get_503() {
    let master = Master::start(&[
        ("MESETA_HTTP_MAX_CONNECTIONS", "50"),
        ("MESETA_HTTP_HEADER_READ_TIMEOUT_SECS", "3"),
    ]);
    let port = master.port;
    let mut silent: Vec<TcpStream> = (0..50).map(|_| connect(port)).collect();
    std::thread::sleep(Duration::from_millis(300));
    health_within(port, Duration::from_millis(100));
    assert!(
        closed_by_server(&mut silent[0], Duration::from_secs(1)),
        "the oldest silent connection was not closed to make room"
    );
    drop(silent);
    std::thread::sleep(Duration::from_millis(300));

    // Fifty connections that each made a request and keep the connection alive.
    let mut busy: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = connect(port);
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).unwrap();
            assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
            s
        })
        .collect();
    let mut refused = connect(port);
    let _ = refused.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut answer = String::new();
    let _ = refused.read_to_string(&mut answer);
    let lower = answer.to_ascii_lowercase();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(lower.contains("connection: close"), "{answer}");

    // The keep-alive connections are idle: the header read timeout closes them, and the
    // server answers again.
    let t = Instant::now();
    for s in &mut busy {
        assert!(
            closed_by_server(s, Duration::from_secs(6)),
            "idle keep-alive not closed"
        );
    }
    assert!(t.elapsed() < Duration::from_secs(6));
    health_within(port, Duration::from_millis(100));
}

#[test]
fn slow_heads_and_bodies_are_timed_out_but_streams_are_not() {
    let master = Master::start(&[
        ("MESETA_HTTP_HEADER_READ_TIMEOUT_SECS", "2"),
        ("MESETA_HTTP_BODY_READ_TIMEOUT_SECS", "2"),
    ]);
    let port = master.port;
    let mut head = connect(port);
    head.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let t = Instant::now();
    assert!(
        closed_by_server(&mut head, Duration::from_secs(5)),
        "half a head kept open"
    );
    assert!(t.elapsed() >= Duration::from_millis(1500));

    let mut body = connect(port);
    body.write_all(
        b"POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"type\":",
    )
    .unwrap();
    let mut answer = String::new();
    body.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
    let _ = body.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A scheduler's SUBSCRIBE stream outlives both timeouts.
    let mut stream = connect(port);
    let call = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"t"}}}"#;
    write!(
        stream,
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n\r\n{call}",
        call.len()
    )
    .unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut closed = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(!closed, "the SUBSCRIBE stream was closed by a timeout");
}
