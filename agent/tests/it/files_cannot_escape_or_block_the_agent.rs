//! `/files/*` against what a task can put in its sandbox, on the real `mesos-agent` binary:
//! a symlink swapped in and out of a read (rename loop) never yields a byte of a root-only file
//! outside the sandbox; a FIFO gets a 4xx at once and never blocks `/health`; a 2 GB sparse file
//! downloads without the agent's RSS growing by more than a chunk's worth; a 100,000-entry
//! directory is browsed a page at a time without blocking `/health`.
//!
//! The test process plays the task: it writes into a sandbox directory under the agent's
//! `--work_dir` exactly what a task could write into `$MESOS_SANDBOX` (faster than a shell loop
//! in a container would, which makes the race harder, not easier, to win for the agent).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meseta_tests::{get_json, http, root_or_skip, Cluster, ClusterOptions};

const SECRET: &str = "TOP-SECRET-3f9a1c";

fn cluster() -> Cluster {
    let mut opts = ClusterOptions::new("cpus:2;mem:1024;disk:1000");
    opts.isolation = "filesystem/posix".into();
    Cluster::start_with(&opts)
}

/// A sandbox directory as the agent lays them out, with its `runs/latest` link.
fn sandbox(cluster: &Cluster) -> PathBuf {
    let id = get_json(cluster.agent_port, "/state")["id"]
        .as_str()
        .expect("agent id")
        .to_owned();
    let runs = cluster.dir.path().join(format!(
        "agent/slaves/{id}/frameworks/fw-t/executors/ex/runs"
    ));
    std::fs::create_dir_all(runs.join("c1")).unwrap();
    symlink("c1", runs.join("latest")).unwrap();
    runs.join("latest")
}

fn encode(path: &std::path::Path) -> String {
    path.display()
        .to_string()
        .replace('%', "%25")
        .replace(' ', "%20")
}

/// `/health` answers 200, within `limit`.
fn assert_health_fast(port: u16, limit: Duration) {
    let t = Instant::now();
    let (status, _) = http("GET", port, "/health", None).unwrap();
    let took = t.elapsed();
    assert_eq!(status, 200);
    assert!(took < limit, "/health took {took:?}");
}

/// A GET returning (status, lower-cased head, body bytes).
fn get_raw(port: u16, path: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head, raw[(split + 4).min(raw.len())..].to_vec())
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        l.strip_prefix(&format!("{name}:"))
            .map(|v| v.trim().to_owned())
    })
}

#[test]
fn a_symlink_swap_race_never_reads_outside_the_sandbox() {
    if !root_or_skip("a_symlink_swap_race_never_reads_outside_the_sandbox") {
        return;
    }
    let cluster = cluster();
    let secret = cluster.dir.path().join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let sb = sandbox(&cluster);
    std::fs::write(sb.join("plain"), "inside").unwrap();
    symlink(&secret, sb.join("link")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (sb, stop) = (sb.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::rename(sb.join("plain"), sb.join("tmp"));
                let _ = std::fs::rename(sb.join("link"), sb.join("plain"));
                let _ = std::fs::rename(sb.join("plain"), sb.join("link"));
                let _ = std::fs::rename(sb.join("tmp"), sb.join("plain"));
            }
        })
    };
    let path = encode(&sb.join("plain"));
    let (mut inside, mut refused) = (0, 0);
    for i in 0..10_000 {
        let url = if i % 2 == 0 {
            format!("/files/read?path={path}&offset=0&length=64")
        } else {
            format!("/files/download?path={path}")
        };
        let (status, body) = http("GET", cluster.agent_port, &url, None).unwrap();
        assert!(
            !body.contains(SECRET),
            "read {i} returned the secret: {body}"
        );
        match status {
            200 if body.contains("inside") => inside += 1,
            200 => {}
            s => {
                assert!((400..500).contains(&s), "read {i}: {s} {body}");
                refused += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    // The race was real: both outcomes happened.
    assert!(
        inside > 100 && refused > 100,
        "inside {inside}, refused {refused}"
    );
}

#[test]
fn a_fifo_is_refused_without_blocking_health() {
    if !root_or_skip("a_fifo_is_refused_without_blocking_health") {
        return;
    }
    let cluster = cluster();
    let sb = sandbox(&cluster);
    nix::unistd::mkfifo(
        &sb.join("pipe"),
        nix::sys::stat::Mode::from_bits_truncate(0o666),
    )
    .unwrap();
    let port = cluster.agent_port;
    let url = format!(
        "/files/read?path={}&offset=0&length=10",
        encode(&sb.join("pipe"))
    );
    let reader = std::thread::spawn(move || http("GET", port, &url, None));
    for _ in 0..20 {
        assert_health_fast(port, Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(25));
    }
    let (status, body) = reader.join().unwrap().expect("the read answered");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("FIFO"), "{body}");
    let url = format!("/files/download?path={}", encode(&sb.join("pipe")));
    assert_eq!(http("GET", port, &url, None).unwrap().0, 400);
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} of {pid}"))
}

#[test]
fn a_sparse_2gb_download_streams_in_bounded_memory() {
    if !root_or_skip("a_sparse_2gb_download_streams_in_bounded_memory") {
        return;
    }
    const SIZE: u64 = 2 << 30;
    let cluster = cluster();
    let sb = sandbox(&cluster);
    std::fs::File::create(sb.join("big"))
        .unwrap()
        .set_len(SIZE)
        .unwrap();
    let before = status_kib(cluster.agent_pid, "VmRSS");
    let mut s = TcpStream::connect(("127.0.0.1", cluster.agent_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let path = encode(&sb.join("big"));
    write!(
        s,
        "GET /files/download?path={path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let (mut total, mut next_probe) = (0u64, 256u64 << 20);
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(
            buf[..n].iter().all(|&b| b == 0) || total < 4096,
            "non-zero data"
        );
        total += n as u64;
        if total > next_probe {
            next_probe += 512 << 20;
            assert_health_fast(cluster.agent_port, Duration::from_millis(100));
        }
    }
    assert!(
        total > SIZE,
        "received {total} bytes (headers included), want {SIZE}"
    );
    let peak = status_kib(cluster.agent_pid, "VmHWM");
    assert!(
        peak < before + 64 * 1024,
        "agent RSS peaked at {peak} KiB, {before} KiB before the download"
    );
}

#[test]
fn a_100k_entry_directory_is_browsed_in_pages() {
    if !root_or_skip("a_100k_entry_directory_is_browsed_in_pages") {
        return;
    }
    let cluster = cluster();
    let dir = sandbox(&cluster).join("many");
    std::fs::create_dir(&dir).unwrap();
    for i in 0..100_000 {
        std::fs::File::create(dir.join(format!("f{i:06}"))).unwrap();
    }
    let port = cluster.agent_port;
    let path = encode(&dir);
    let url = format!("/files/browse?path={path}");
    let browser = std::thread::spawn(move || get_raw(port, &url));
    for _ in 0..10 {
        assert_health_fast(port, Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, head, body) = browser.join().unwrap();
    assert_eq!(status, 200);
    let page: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(page.len(), 10_000);
    assert!(page[0]["path"].as_str().unwrap().ends_with("/f000000"));
    assert_eq!(
        header(&head, "x-meseta-total-entries").as_deref(),
        Some("100000")
    );
    assert_eq!(
        header(&head, "x-meseta-next-offset").as_deref(),
        Some("10000")
    );
    let (status, head, body) = get_raw(
        port,
        &format!("/files/browse?path={path}&offset=99990&limit=50"),
    );
    assert_eq!(status, 200);
    let page: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(page.len(), 10);
    assert!(page[9]["path"].as_str().unwrap().ends_with("/f099999"));
    assert_eq!(header(&head, "x-meseta-next-offset"), None);
}
