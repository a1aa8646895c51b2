//! Test helpers: an in-process master, a raw HTTP/1.1 client that reads
//! chunked RecordIO streams with `meseta_api::recordio::Decoder`, a scheduler
//! and a fake agent speaking `meseta_api::internal`.

#![allow(dead_code)]

pub mod operator;
pub mod pymesos;
pub mod real;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use master_lite::flags::MasterConfig;
use master_lite::server::{start, Running};
use meseta_api::recordio::Decoder;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for one event.
pub const WAIT: Duration = Duration::from_secs(5);

/// A master running in this process, with its work dir.
pub struct TestMaster {
    pub running: Running,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

/// Starts a master on 127.0.0.1:<free port>; `tune` adjusts the config.
pub async fn master(tune: impl FnOnce(&mut MasterConfig)) -> TestMaster {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = MasterConfig::for_tests(dir.path());
    cfg.allocation_interval = Duration::from_millis(100);
    tune(&mut cfg);
    let running = start(cfg).await.unwrap();
    let addr = running.addr;
    TestMaster { running, addr, dir }
}

/// A complete HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn request_bytes(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut v = out.into_bytes();
    v.extend_from_slice(body);
    v
}

/// Reads up to the end of the headers; returns (status, headers, rest).
async fn read_head(s: &mut TcpStream) -> Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..pos]).into_owned();
            let rest = buf[pos + 4..].to_vec();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().ok_or_else(|| anyhow!("no status line"))?;
            let status: u16 = status_line
                .split(' ')
                .nth(1)
                .ok_or_else(|| anyhow!("bad status line {status_line}"))?
                .parse()?;
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            return Ok((status, headers, rest));
        }
        let n = tokio::time::timeout(WAIT, s.read(&mut tmp)).await??;
        if n == 0 {
            bail!("connection closed before headers");
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// One request on a fresh connection (`Connection: close`).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Resp> {
    let mut s = TcpStream::connect(addr).await?;
    let mut h = headers.to_vec();
    h.push(("Connection", "close"));
    s.write_all(&request_bytes(method, path, &h, body)).await?;
    let (status, headers, mut rest) = read_head(&mut s).await?;
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await??;
    let body = if chunked {
        let mut d = Dechunker::default();
        d.feed(&rest)?
    } else {
        rest
    };
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// GET returning JSON.
pub async fn get_json(addr: SocketAddr, path: &str) -> Value {
    request(addr, "GET", path, &[], b"").await.unwrap().json()
}

/// POST a JSON body to the scheduler API.
pub async fn post_call(addr: SocketAddr, stream_id: Option<&str>, body: &Value) -> Resp {
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(s) = stream_id {
        h.push(("Mesos-Stream-Id", s));
    }
    request(
        addr,
        "POST",
        "/api/v1/scheduler",
        &h,
        body.to_string().as_bytes(),
    )
    .await
    .unwrap()
}

/// Incremental `Transfer-Encoding: chunked` decoder.
#[derive(Default)]
pub struct Dechunker {
    buf: Vec<u8>,
    done: bool,
}

impl Dechunker {
    /// Feeds bytes, returns the payload bytes completed so far.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        while let Some(eol) = self.buf.windows(2).position(|w| w == b"\r\n") {
            let size_text = String::from_utf8_lossy(&self.buf[..eol]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .with_context(|| format!("bad chunk size {size_text:?}"))?;
            if self.buf.len() < eol + 2 + size + 2 {
                break;
            }
            if size == 0 {
                self.done = true;
                self.buf.clear();
                break;
            }
            out.extend_from_slice(&self.buf[eol + 2..eol + 2 + size]);
            self.buf.drain(..eol + 2 + size + 2);
        }
        Ok(out)
    }
}

/// An open RecordIO event stream (scheduler or agent).
pub struct EventStream {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    sock: TcpStream,
    dechunk: Dechunker,
    decoder: Decoder,
    pending: std::collections::VecDeque<Value>,
    pub closed: bool,
}

impl EventStream {
    /// POSTs `body` to `path` and keeps the response open.
    pub async fn open(addr: SocketAddr, path: &str, body: &Value) -> Result<EventStream> {
        Self::open_with(addr, path, &[], body).await
    }

    /// As [`Self::open`], with extra headers (e.g. `Authorization`).
    pub async fn open_with(
        addr: SocketAddr,
        path: &str,
        extra: &[(&str, &str)],
        body: &Value,
    ) -> Result<EventStream> {
        let mut sock = TcpStream::connect(addr).await?;
        let mut h = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ];
        h.extend_from_slice(extra);
        sock.write_all(&request_bytes(
            "POST",
            path,
            &h,
            body.to_string().as_bytes(),
        ))
        .await?;
        let (status, headers, rest) = read_head(&mut sock).await?;
        let mut s = EventStream {
            status,
            headers,
            sock,
            dechunk: Dechunker::default(),
            decoder: Decoder::new(),
            pending: Default::default(),
            closed: false,
        };
        s.push(&rest)?;
        Ok(s)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    fn push(&mut self, data: &[u8]) -> Result<()> {
        let payload = self.dechunk.feed(data)?;
        for rec in self.decoder.decode(&payload)? {
            self.pending.push_back(serde_json::from_slice(&rec)?);
        }
        if self.dechunk.done {
            self.closed = true;
        }
        Ok(())
    }

    /// The next event, or an error after `WAIT` / on EOF.
    pub async fn next(&mut self) -> Result<Value> {
        self.next_within(WAIT).await
    }

    /// The next event within `d`.
    pub async fn next_within(&mut self, d: Duration) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + d;
        let mut tmp = vec![0u8; 65536];
        loop {
            if let Some(v) = self.pending.pop_front() {
                return Ok(v);
            }
            if self.closed {
                bail!("stream closed");
            }
            let n = tokio::time::timeout_at(deadline, self.sock.read(&mut tmp))
                .await
                .map_err(|_| anyhow!("timed out waiting for an event"))??;
            if n == 0 {
                self.closed = true;
                bail!("stream closed");
            }
            self.push(&tmp[..n])?;
        }
    }

    /// The next event of `kind`, skipping HEARTBEATs and others.
    pub async fn next_of(&mut self, kind: &str) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = self.next_within(left).await?;
            if e["type"] == kind {
                return Ok(e);
            }
        }
    }
}

/// A subscribed scheduler.
pub struct Scheduler {
    pub addr: SocketAddr,
    pub events: EventStream,
    pub stream_id: String,
    pub framework_id: String,
}

impl Scheduler {
    /// SUBSCRIBE with `framework_info` (merged over a default).
    pub async fn subscribe(addr: SocketAddr, extra: Value) -> Result<Scheduler> {
        let mut info = json!({"user": "root", "name": "test-framework", "failover_timeout": 100});
        if let (Some(i), Some(e)) = (info.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                i.insert(k.clone(), v.clone());
            }
        }
        let mut call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}});
        if let Some(id) = info.get("id") {
            call["framework_id"] = id.clone();
        }
        let mut events = EventStream::open(addr, "/api/v1/scheduler", &call).await?;
        if events.status != 200 {
            bail!("SUBSCRIBE answered {}", events.status);
        }
        let stream_id = events
            .header("Mesos-Stream-Id")
            .ok_or_else(|| anyhow!("no Mesos-Stream-Id"))?;
        let e = events.next().await?;
        if e["type"] != "SUBSCRIBED" {
            bail!("first event is {e}");
        }
        let framework_id = e["subscribed"]["framework_id"]["value"]
            .as_str()
            .ok_or_else(|| anyhow!("no framework id in {e}"))?
            .to_string();
        Ok(Scheduler {
            addr,
            events,
            stream_id,
            framework_id,
        })
    }

    /// Sends a call (`framework_id` filled in).
    pub async fn call(&self, mut call: Value) -> Resp {
        call["framework_id"] = json!({"value": self.framework_id});
        post_call(self.addr, Some(&self.stream_id), &call).await
    }

    /// Waits for an OFFERS event and returns its offers.
    pub async fn offers(&mut self) -> Result<Vec<Value>> {
        let e = self.events.next_of("OFFERS").await?;
        Ok(e["offers"]["offers"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Waits for the next UPDATE and returns its status.
    pub async fn update(&mut self) -> Result<Value> {
        let e = self.events.next_of("UPDATE").await?;
        Ok(e["update"]["status"].clone())
    }

    /// ACCEPT `offer` launching `tasks`.
    pub async fn launch(&self, offer: &Value, tasks: Vec<Value>) -> Resp {
        self.call(json!({
            "type": "ACCEPT",
            "accept": {
                "offer_ids": [offer["id"]],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
                "filters": {"refuse_seconds": 0.0}
            }
        }))
        .await
    }
}

/// A command task for `offer`'s agent.
pub fn command_task(id: &str, offer: &Value, cpus: f64, mem: f64) -> Value {
    json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": offer["agent_id"],
        "command": {"value": "sleep 1"},
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}}
        ]
    })
}

/// A fake agent: the internal channel's agent side.
pub struct FakeAgent {
    pub addr: SocketAddr,
    pub events: EventStream,
    pub agent_id: String,
}

impl FakeAgent {
    /// Subscribes with cpus:4;mem:4096;disk:1000;ports:[31000-31009].
    pub async fn subscribe(addr: SocketAddr, id: Option<&str>) -> Result<FakeAgent> {
        Self::subscribe_with(addr, id, 4.0, 4096.0).await
    }

    /// Subscribes with `cpus` and `mem` (plus disk and ports).
    pub async fn subscribe_with(
        addr: SocketAddr,
        id: Option<&str>,
        cpus: f64,
        mem: f64,
    ) -> Result<FakeAgent> {
        let mut info = json!({
            "hostname": "agent1.test",
            "port": 5051,
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
                {"name": "disk", "type": "SCALAR", "scalar": {"value": 1000.0}},
                {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31009}]}}
            ],
            "attributes": [{"name": "rack", "type": "TEXT", "text": {"value": "r1"}}]
        });
        if let Some(id) = id {
            info["id"] = json!({"value": id});
        }
        let call =
            json!({"type": "SUBSCRIBE", "subscribe": {"agent_info": info, "version": "test"}});
        let mut events = EventStream::open(addr, meseta_api::internal::PATH, &call).await?;
        if events.status != 200 {
            bail!("agent SUBSCRIBE answered {}", events.status);
        }
        let e = events.next().await?;
        if e["type"] != "REGISTERED" {
            bail!("first agent event is {e}");
        }
        let agent_id = e["registered"]["agent_id"]["value"]
            .as_str()
            .ok_or_else(|| anyhow!("no agent id"))?
            .to_string();
        Ok(FakeAgent {
            addr,
            events,
            agent_id,
        })
    }

    /// Sends STATUS_UPDATE for `task_id` in `state` with a fresh uuid; returns
    /// the uuid (base64).
    pub async fn update(&self, framework_id: &str, task_id: &str, state: &str) -> String {
        let uuid = meseta_api::Bytes::random_uuid().to_base64();
        self.send_update(framework_id, task_id, state, &uuid, None)
            .await;
        uuid
    }

    /// Sends STATUS_UPDATE with a given uuid (a retry resends an earlier one) and, if given,
    /// the task's `latest_state` at the agent.
    pub async fn send_update(
        &self,
        framework_id: &str,
        task_id: &str,
        state: &str,
        uuid: &str,
        latest_state: Option<&str>,
    ) {
        let mut call = json!({
            "type": "STATUS_UPDATE",
            "agent_id": {"value": self.agent_id},
            "status_update": {
                "framework_id": {"value": framework_id},
                "status": {
                    "task_id": {"value": task_id},
                    "state": state,
                    "source": "SOURCE_EXECUTOR",
                    "uuid": uuid,
                    "agent_id": {"value": self.agent_id},
                },
                "timestamp": 1.0,
                "uuid": uuid,
            }
        });
        if let Some(latest) = latest_state {
            call["status_update"]["latest_state"] = json!(latest);
        }
        let r = request(
            self.addr,
            "POST",
            meseta_api::internal::PATH,
            &[("Content-Type", "application/json")],
            call.to_string().as_bytes(),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 202, "{}", r.text());
    }
}

/// Answers the master's health checks for `agent_id` (a PONG every `every`) until dropped,
/// as a live agent does; a FakeAgent without one is a hung agent.
pub struct Ponger(tokio::task::JoinHandle<()>);

impl Ponger {
    pub fn start(addr: SocketAddr, agent_id: &str, every: Duration) -> Ponger {
        let call = json!({"type": "PONG", "agent_id": {"value": agent_id}});
        Ponger(tokio::spawn(async move {
            loop {
                let _ = request(
                    addr,
                    "POST",
                    meseta_api::internal::PATH,
                    &[("Content-Type", "application/json")],
                    call.to_string().as_bytes(),
                )
                .await;
                tokio::time::sleep(every).await;
            }
        }))
    }
}

impl Drop for Ponger {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A keep-alive HTTP/1.1 connection for many small POSTs.
pub struct KeepAlive {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl KeepAlive {
    pub async fn connect(addr: SocketAddr) -> KeepAlive {
        let sock = TcpStream::connect(addr).await.unwrap();
        sock.set_nodelay(true).unwrap();
        KeepAlive {
            sock,
            buf: Vec::new(),
        }
    }

    /// POSTs JSON and returns the status (the response must have a length).
    pub async fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &Value) -> u16 {
        let mut h = headers.to_vec();
        h.push(("Content-Type", "application/json"));
        self.sock
            .write_all(&request_bytes(
                "POST",
                path,
                &h,
                body.to_string().as_bytes(),
            ))
            .await
            .unwrap();
        let mut tmp = [0u8; 4096];
        loop {
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
                let len: usize = head
                    .split("\r\n")
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .map(|(_, v)| v.trim().parse().unwrap())
                    .unwrap_or(0);
                while self.buf.len() < pos + 4 + len {
                    let n = self.sock.read(&mut tmp).await.unwrap();
                    assert!(n > 0, "connection closed");
                    self.buf.extend_from_slice(&tmp[..n]);
                }
                self.buf.drain(..pos + 4 + len);
                return status;
            }
            let n = tokio::time::timeout(WAIT, self.sock.read(&mut tmp))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }
}
