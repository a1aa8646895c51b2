//! A fake Mesos master for `meseta-bench chronos`: just enough of the v1 scheduler API
//! (SUBSCRIBE stream, ACCEPT, DECLINE, REVIVE, ACKNOWLEDGE) to measure a framework's own
//! scheduling latency without an agent running 166 tasks a second on a 2-core machine.
//! One offer (huge) is outstanding at a time; REVIVE or a consumed offer brings the next;
//! every launched task finishes at once (TASK_FINISHED with a uuid, so acks flow; or any
//! state given to [`FakeMaster::start_reporting`], e.g. TASK_RUNNING for `meseta-bench
//! marathon`). Each ACCEPT's arrival is recorded against the planned instant in the task id.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use serde_json::{json, Value};

#[derive(Default)]
struct State {
    stream: Option<TcpStream>,
    offer_out: bool,
    jitter_ms: Vec<f64>,
}

/// A running fake master (its threads end with the process).
#[derive(Clone)]
pub struct FakeMaster {
    /// Its port on 127.0.0.1.
    pub port: u16,
    state: Arc<Mutex<State>>,
    seq: Arc<AtomicU64>,
    report: &'static str,
}

impl std::fmt::Debug for FakeMaster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeMaster")
            .field("port", &self.port)
            .finish()
    }
}

/// CPU time (user + system) of a process, from `/proc/<pid>/stat`.
pub fn process_cpu(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = stat.rsplit_once(')').context("stat")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>()? + f[12].parse::<u64>()?;
    // SAFETY: sysconf has no memory effects.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100);
    Ok(Duration::from_micros(ticks * 1_000_000 / hz.max(1)))
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

impl FakeMaster {
    /// Listens on a free loopback port; launched tasks finish at once.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_reporting("TASK_FINISHED")
    }

    /// Listens on a free loopback port; each launched task is reported in `state` at once.
    pub fn start_reporting(state: &'static str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let m = Self {
            port: listener.local_addr()?.port(),
            state: Arc::default(),
            seq: Arc::default(),
            report: state,
        };
        let server = m.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = server.clone();
                std::thread::spawn(move || {
                    let _ = s.serve(stream);
                });
            }
        });
        let beat = m.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            beat.push(&json!({"type": "HEARTBEAT"}));
        });
        Ok(m)
    }

    /// Forgets the samples so far.
    pub fn reset(&self) {
        self.lock().jitter_ms.clear();
    }

    /// Planned instant → ACCEPT arrival, in ms, for every launched task since the reset.
    pub fn jitter_ms(&self) -> Vec<f64> {
        self.lock().jitter_ms.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, event: &Value) {
        let record = event.to_string();
        let record = format!("{}\n{record}", record.len());
        let chunk = format!("{:x}\r\n{record}\r\n", record.len());
        let mut st = self.lock();
        if let Some(s) = st.stream.as_mut() {
            if s.write_all(chunk.as_bytes()).is_err() {
                st.stream = None;
            }
        }
    }

    fn offer(&self) {
        {
            let mut st = self.lock();
            if st.offer_out || st.stream.is_none() {
                return;
            }
            st.offer_out = true;
        }
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let scalar = |name: &str, v: f64| json!({"name": name, "type": "SCALAR", "scalar": {"value": v}, "role": "*"});
        self.push(&json!({"type": "OFFERS", "offers": {"offers": [{
            "id": {"value": format!("offer-{n}")},
            "framework_id": {"value": "bench-framework"},
            "agent_id": {"value": "bench-agent"},
            "hostname": "localhost",
            "resources": [scalar("cpus", 1e6), scalar("mem", 1e9), scalar("disk", 1e9)],
        }]}}));
    }

    fn serve(&self, stream: TcpStream) -> anyhow::Result<()> {
        let mut r = BufReader::new(stream.try_clone()?);
        let mut w = stream;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                r.read_line(&mut h)?;
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body)?;
            let call: Value = serde_json::from_slice(&body).unwrap_or_default();
            let at = now_ms();
            match call["type"].as_str().unwrap_or("") {
                "SUBSCRIBE" => {
                    w.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMesos-Stream-Id: bench-stream\r\nTransfer-Encoding: chunked\r\n\r\n")?;
                    {
                        let mut st = self.lock();
                        st.stream = Some(w.try_clone()?);
                        st.offer_out = false;
                    }
                    self.push(&json!({"type": "SUBSCRIBED", "subscribed": {
                        "framework_id": {"value": "bench-framework"},
                        "heartbeat_interval_seconds": 5.0}}));
                    self.offer();
                    return Ok(()); // The stream stays open through the stored clone.
                }
                other => {
                    w.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")?;
                    self.call(other, &call, at);
                }
            }
        }
    }

    fn call(&self, kind: &str, call: &Value, at: f64) {
        match kind {
            "ACCEPT" => {
                let mut finished = Vec::new();
                for op in call["accept"]["operations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    for t in op["launch"]["task_infos"].as_array().into_iter().flatten() {
                        let id = t["task_id"]["value"].as_str().unwrap_or("").to_owned();
                        // ct:<planned ms>:<attempt>:<job>:<args>
                        if let Some(planned) =
                            id.split(':').nth(1).and_then(|p| p.parse::<f64>().ok())
                        {
                            self.lock().jitter_ms.push(at - planned);
                        }
                        finished.push(id);
                    }
                }
                self.lock().offer_out = false;
                for id in finished {
                    let n = self.seq.fetch_add(1, Ordering::Relaxed);
                    let uuid = meseta_api::Bytes(n.to_be_bytes().repeat(2));
                    self.push(&json!({"type": "UPDATE", "update": {"status": {
                        "task_id": {"value": id},
                        "state": self.report,
                        "agent_id": {"value": "bench-agent"},
                        "source": "SOURCE_EXECUTOR",
                        "uuid": uuid,
                        "timestamp": at / 1000.0,
                    }}}));
                }
                self.offer();
            }
            "DECLINE" => self.lock().offer_out = false,
            "REVIVE" => self.offer(),
            _ => {}
        }
    }
}
