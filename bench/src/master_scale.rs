//! `meseta-bench master-scale`: thousands of simulated agents speaking the real agent↔master
//! protocol (`meseta_api::internal`: SUBSCRIBE, then the RecordIO event stream) over loopback
//! against one release `mesos-master`; reports the time for all to register, then the
//! master's CPU and RSS while every agent is PINGed each second and answers with a PONG.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Default)]
struct Counters {
    registered: AtomicU64,
    heartbeats: AtomicU64,
    failed: AtomicU64,
}

fn count(hay: &[u8], needle: &[u8]) -> u64 {
    hay.windows(needle.len()).filter(|w| *w == needle).count() as u64
}

async fn agent(port: u16, i: usize, c: Arc<Counters>) {
    let body = json!({"type": "SUBSCRIBE", "subscribe": {"version": "meseta-bench", "agent_info": {
        "hostname": format!("sim-{i}"), "port": 5051,
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 24.0}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 4096.0}},
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 32000}]}}]}}})
    .to_string();
    let mut stream = None;
    for _ in 0..50 {
        match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let Some(mut s) = stream else {
        c.failed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let req = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        meseta_api::internal::PATH,
        body.len()
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        c.failed.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut buf = vec![0u8; 16 << 10];
    let mut pong: Option<(TcpStream, Vec<u8>)> = None;
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let chunk = &buf[..n];
                if pong.is_none() && count(chunk, b"\"REGISTERED\"") > 0 {
                    c.registered.fetch_add(1, Ordering::Relaxed);
                    let Some(id) = agent_id(chunk) else {
                        c.failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    };
                    let Ok(conn) = TcpStream::connect(("127.0.0.1", port)).await else {
                        c.failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    };
                    pong = Some((conn, pong_request(&id)));
                }
                let pings = count(chunk, b"\"PING\"");
                c.heartbeats.fetch_add(pings, Ordering::Relaxed);
                if let Some((conn, req)) = pong.as_mut() {
                    for _ in 0..pings {
                        if answer(conn, req).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// The agent id in a REGISTERED event.
fn agent_id(chunk: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(chunk);
    let at = text.find("\"agent_id\"")?;
    let rest = &text[at..];
    let start = rest.find("\"value\":\"")? + "\"value\":\"".len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_owned())
}

/// A keep-alive `PONG` request for agent `id`.
fn pong_request(id: &str) -> Vec<u8> {
    let body = json!({"type": "PONG", "agent_id": {"value": id}}).to_string();
    format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        meseta_api::internal::PATH,
        body.len()
    )
    .into_bytes()
}

/// Sends a PONG and reads the (body-less) `202` answer.
async fn answer(conn: &mut TcpStream, req: &[u8]) -> std::io::Result<()> {
    conn.write_all(req).await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 256];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut byte).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&byte[..n]);
    }
    Ok(())
}

/// `utime + stime` in seconds and `VmRSS` in KiB of `pid`.
fn cpu_and_rss(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100.0, |v| v as f64);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    (ticks as f64 / hz, rss)
}

/// Runs the scale test with `agents` simulated agents, measuring over `window`.
pub async fn run(agents: usize, window: Duration) -> Result<String> {
    let dir = tempfile::Builder::new()
        .prefix("meseta-master-scale-")
        .tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let master_bin = meseta_tests::bin_dir().join("mesos-master");
    let mut master = tokio::process::Command::new(&master_bin)
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--work_dir={}", dir.path().display()))
        .arg("--agent_ping_timeout=1secs")
        .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", master_bin.display()))?;
    let pid = master.id().context("master pid")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if Instant::now() > deadline {
            bail!("mesos-master did not start");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    for i in 0..agents {
        tokio::spawn(agent(port, i, counters.clone()));
        if i % 100 == 99 {
            tokio::task::yield_now().await;
        }
    }
    while counters.registered.load(Ordering::Relaxed) < agents as u64 {
        if start.elapsed() > Duration::from_secs(120) {
            bail!(
                "only {} of {agents} agents registered in 120 s ({} failed to connect)",
                counters.registered.load(Ordering::Relaxed),
                counters.failed.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let register = start.elapsed();
    // Registry group commit: how many fsync'ed registry writes the registrations took.
    let metrics = tokio::task::spawn_blocking(move || {
        meseta_tests::http("GET", port, "/metrics/snapshot", None)
            .ok()
            .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
            .unwrap_or_default()
    })
    .await
    .unwrap_or_default();
    let writes = metrics["registrar/state_store_ms/count"]
        .as_f64()
        .unwrap_or(0.0);
    let store_ms = metrics["registrar/state_store_ms"].as_f64().unwrap_or(0.0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cpu0, _) = cpu_and_rss(pid);
    let hb0 = counters.heartbeats.load(Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(window).await;
    let elapsed = t0.elapsed().as_secs_f64();
    let (cpu1, rss) = cpu_and_rss(pid);
    let hb = (counters.heartbeats.load(Ordering::Relaxed) - hb0) as f64 / elapsed;
    let cpu_percent = (cpu1 - cpu0) / elapsed * 100.0;
    let _ = master.kill().await;
    let mut out = format!(
        "{agents} simulated agents (tokio tasks in the benchmark process) subscribe over loopback with the real agent↔master protocol; \
         the release `mesos-master` PINGs each one every second (`--agent_ping_timeout=1secs`) and each answers with a PONG on its own keep-alive connection.\n\n\
         | measure | value |\n|---|---|\n\
         | all {agents} agents registered after | {:.2} s |\n\
         | master CPU while pinging (one core = 100%) | {cpu_percent:.1} % |\n\
         | master RSS | {:.1} MiB |\n\
         | PINGs delivered (each answered) | {hb:.0} /s |\n\
         | registry writes for the registrations (group commit) | {writes:.0} (mean {store_ms:.1} ms each) |\n\n\
         A registration is acknowledged (REGISTERED) only once the registry write that holds it is \
         fsync'ed; one write covers every registration queued while the previous one ran.\n",
        register.as_secs_f64(),
        rss as f64 / 1024.0,
    );
    out.push_str(&format!(
        "\nRESULT master-scale agents={agents} register_s={:.2} cpu_percent={cpu_percent:.1} rss_mib={:.1} heartbeats_per_s={hb:.0} registry_writes={writes:.0}\n",
        register.as_secs_f64(),
        rss as f64 / 1024.0
    ));
    Ok(out)
}
