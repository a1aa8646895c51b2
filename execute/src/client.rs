//! A minimal blocking v1 scheduler client: one connection holds the SUBSCRIBE
//! RecordIO stream (read on a thread that timestamps every event on arrival), another,
//! kept alive, carries the calls. JSON is handled as `serde_json::Value` so the benchmark
//! measures the cluster, not a client library.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use meseta_api::recordio::Decoder;
use serde_json::{json, Value};

/// A subscribed framework.
#[derive(Debug)]
pub struct SchedulerClient {
    addr: String,
    stream_id: String,
    /// The framework id the master gave.
    pub framework_id: String,
    events: Receiver<(Instant, Value)>,
    conn: Option<TcpStream>,
}

fn read_head(r: &mut BufReader<TcpStream>) -> Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("bad status line")?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    Ok((status, headers))
}

impl SchedulerClient {
    /// Subscribes a framework named `name` (user root) to the master on 127.0.0.1:`port`.
    pub fn subscribe(port: u16, name: &str) -> Result<Self> {
        Self::subscribe_to(
            &format!("127.0.0.1:{port}"),
            json!({"user": "root", "name": name}),
        )
    }

    /// Subscribes `framework_info` to the master at `addr` (`host:port`) and waits for
    /// SUBSCRIBED.
    pub fn subscribe_to(addr: &str, framework_info: Value) -> Result<Self> {
        let mut body =
            json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}});
        // Re-subscribing (framework_info.id set): Mesos wants the id on the call too.
        if let Some(id) = body["subscribe"]["framework_info"].get("id").cloned() {
            body["framework_id"] = id;
        }
        let body = body.to_string();
        let mut s = TcpStream::connect(addr)
            .with_context(|| format!("connecting to the master at {addr}"))?;
        s.set_nodelay(true)?;
        write!(s, "POST /api/v1/scheduler HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())?;
        let mut r = BufReader::new(s);
        let (status, headers) = read_head(&mut r)?;
        if status != 200 {
            let mut body = String::new();
            let _ = r.read_to_string(&mut body);
            bail!("SUBSCRIBE answered {status}: {}", body.trim());
        }
        let stream_id = headers
            .iter()
            .find(|(k, _)| k == "mesos-stream-id")
            .map(|(_, v)| v.clone())
            .context("no Mesos-Stream-Id")?;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut dec = Decoder::new();
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let Ok(n) = usize::from_str_radix(line.trim(), 16) else {
                    return;
                };
                if n == 0 {
                    return;
                }
                let mut chunk = vec![0u8; n + 2];
                if r.read_exact(&mut chunk).is_err() {
                    return;
                }
                let now = Instant::now();
                for rec in dec.decode(&chunk[..n]).unwrap_or_default() {
                    if let Ok(v) = serde_json::from_slice::<Value>(&rec) {
                        if tx.send((now, v)).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut c = Self {
            addr: addr.to_owned(),
            stream_id,
            framework_id: String::new(),
            events: rx,
            conn: None,
        };
        let (_, ev) = c.next_event_of("SUBSCRIBED", Duration::from_secs(10))?;
        c.framework_id = ev["subscribed"]["framework_id"]["value"]
            .as_str()
            .context("no framework id")?
            .to_owned();
        Ok(c)
    }

    /// The next event (any type), or `None` after `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Result<Option<(Instant, Value)>> {
        match self.events.recv_timeout(timeout) {
            Ok(e) => Ok(Some(e)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => bail!("the master closed the event stream"),
        }
    }

    /// Skips events until one of `kind` arrives.
    pub fn next_event_of(&self, kind: &str, timeout: Duration) -> Result<(Instant, Value)> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left)? {
                Some((t, v)) if v["type"] == kind => return Ok((t, v)),
                Some(_) => {}
                None => bail!("no {kind} event within {timeout:?}"),
            }
        }
    }

    /// Sends a call (framework_id filled in); returns the HTTP status.
    pub fn call(&mut self, mut body: Value) -> Result<u16> {
        body["framework_id"] = json!({"value": self.framework_id});
        let body = body.to_string();
        for _attempt in 0..2 {
            if self.conn.is_none() {
                let s = TcpStream::connect(&self.addr)?;
                s.set_nodelay(true)?;
                self.conn = Some(s);
            }
            let Some(s) = self.conn.as_mut() else {
                continue;
            };
            let req = format!(
                "POST /api/v1/scheduler HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nMesos-Stream-Id: {}\r\nContent-Length: {}\r\n\r\n{body}",
                self.addr,
                self.stream_id,
                body.len()
            );
            if s.write_all(req.as_bytes()).is_err() {
                self.conn = None;
                continue;
            }
            let mut r = BufReader::new(s.try_clone()?);
            match read_head(&mut r) {
                Ok((status, headers)) => {
                    let len: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    let mut sink = vec![0u8; len];
                    r.read_exact(&mut sink)?;
                    if headers
                        .iter()
                        .any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close"))
                    {
                        self.conn = None;
                    }
                    return Ok(status);
                }
                Err(_) => self.conn = None,
            }
        }
        bail!("call failed twice")
    }

    /// Acknowledges an UPDATE event when it carries a uuid.
    pub fn ack(&mut self, update: &Value) -> Result<()> {
        let status = &update["update"]["status"];
        if let Some(uuid) = status["uuid"].as_str() {
            self.call(json!({"type": "ACKNOWLEDGE", "acknowledge": {
                "agent_id": status["agent_id"], "task_id": status["task_id"], "uuid": uuid}}))?;
        }
        Ok(())
    }

    /// Accepts `offer` with LAUNCH of `tasks`, refusing nothing afterwards.
    pub fn launch(&mut self, offer: &Value, tasks: Vec<Value>) -> Result<u16> {
        self.call(json!({"type": "ACCEPT", "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
            "filters": {"refuse_seconds": 0.0}}}))
    }

    /// Kills a task.
    pub fn kill(&mut self, task_id: &str, agent_id: &Value) -> Result<u16> {
        self.call(
            json!({"type": "KILL", "kill": {"task_id": {"value": task_id}, "agent_id": agent_id}}),
        )
    }

    /// Ends the framework (its tasks are killed).
    pub fn teardown(&mut self) -> Result<u16> {
        self.call(json!({"type": "TEARDOWN"}))
    }
}

/// A command task for `offer`'s agent.
pub fn task(id: &str, offer: &Value, command: &str, cpus: f64, mem: f64) -> Value {
    json!({
        "name": id, "task_id": {"value": id}, "agent_id": offer["agent_id"],
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}}],
        "command": {"value": command, "shell": true}
    })
}

/// A scalar resource of an offer.
pub fn offered(offer: &Value, name: &str) -> f64 {
    offer["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == name)
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}
