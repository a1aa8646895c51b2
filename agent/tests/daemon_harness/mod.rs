//! Test doubles for the agent daemon: a fake master speaking `meseta_api::internal` over
//! 127.0.0.1, an HTTP client, and an in-process agent.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use meseta_api::internal::{Call, CallType, Event, EventType, Registered};
use meseta_api::{AgentId, MasterInfo};
use tokio::sync::mpsc;

/// A body fed by a channel.
pub struct ChanBody(pub mpsc::UnboundedReceiver<Bytes>);

impl Body for ChanBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

/// The fake master: records calls, lets the test push events on the agent's stream.
pub struct FakeMaster {
    pub addr: SocketAddr,
    pub calls: tokio::sync::Mutex<mpsc::UnboundedReceiver<Call>>,
    stream: Arc<Mutex<Option<mpsc::UnboundedSender<Bytes>>>>,
    /// `connection.total_ping_timeout_seconds` in REGISTERED (none: the agent waits three
    /// heartbeat intervals).
    pub total_ping_timeout: Arc<Mutex<Option<f64>>>,
}

impl FakeMaster {
    pub async fn start() -> Arc<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (calls_tx, calls_rx) = mpsc::unbounded_channel();
        let stream: Arc<Mutex<Option<mpsc::UnboundedSender<Bytes>>>> = Arc::default();
        let s2 = stream.clone();
        let total_ping_timeout: Arc<Mutex<Option<f64>>> = Arc::default();
        let t2 = total_ping_timeout.clone();
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                let calls_tx = calls_tx.clone();
                let stream = s2.clone();
                let ping_timeout = t2.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let calls_tx = calls_tx.clone();
                        let stream = stream.clone();
                        let connection = ping_timeout.lock().unwrap().map(|t| {
                            meseta_api::internal::Connection {
                                total_ping_timeout_seconds: t,
                            }
                        });
                        async move {
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            // The agent sends the calls it has queued as one JSON array.
                            if body.first() == Some(&b'[') {
                                let calls: Vec<Call> = serde_json::from_slice(&body).unwrap();
                                assert!(calls.iter().all(|c| c.r#type != CallType::Subscribe));
                                for call in calls {
                                    let _ = calls_tx.send(call);
                                }
                                let mut r = Response::new(Full::new(Bytes::new()).boxed());
                                *r.status_mut() = StatusCode::ACCEPTED;
                                return Ok::<_, Infallible>(r);
                            }
                            let call: Call = serde_json::from_slice(&body).unwrap();
                            let resp: Response<BoxBody<Bytes, Infallible>> =
                                if call.r#type == CallType::Subscribe {
                                    let (tx, rx) = mpsc::unbounded_channel();
                                    let reg = Event {
                                        r#type: EventType::Registered,
                                        registered: Some(Registered {
                                            agent_id: AgentId::new("m1-S0"),
                                            master_info: MasterInfo {
                                                id: "m1".into(),
                                                hostname: Some("fake-master".into()),
                                                ..MasterInfo::default()
                                            },
                                            heartbeat_interval_seconds: 15.0,
                                            connection,
                                        }),
                                        ..Event::default()
                                    };
                                    tx.send(Bytes::from(
                                        meseta_api::recordio::encode_json(&reg).unwrap(),
                                    ))
                                    .unwrap();
                                    *stream.lock().unwrap() = Some(tx);
                                    let _ = calls_tx.send(call);
                                    Response::new(ChanBody(rx).boxed())
                                } else {
                                    let _ = calls_tx.send(call);
                                    let mut r = Response::new(Full::new(Bytes::new()).boxed());
                                    *r.status_mut() = StatusCode::ACCEPTED;
                                    r
                                };
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(sock), svc)
                        .await;
                });
            }
        });
        Arc::new(Self {
            addr,
            calls: tokio::sync::Mutex::new(calls_rx),
            stream,
            total_ping_timeout,
        })
    }

    /// Sends an event on the agent's stream (waits for the stream to exist).
    pub async fn send(&self, event: &Event) {
        for _ in 0..200 {
            if let Some(tx) = self.stream.lock().unwrap().as_ref() {
                tx.send(Bytes::from(
                    meseta_api::recordio::encode_json(event).unwrap(),
                ))
                .unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the agent never subscribed");
    }

    /// Closes the agent's event stream (the agent must re-subscribe).
    pub fn drop_stream(&self) {
        self.stream.lock().unwrap().take();
    }

    /// Acknowledges a status update, as the master does once the scheduler has.
    pub async fn acknowledge(&self, update: &meseta_api::internal::StatusUpdate) {
        self.send(&Event {
            r#type: meseta_api::internal::EventType::Acknowledge,
            acknowledge: Some(meseta_api::internal::Acknowledge {
                framework_id: update.framework_id.clone(),
                task_id: update.status.task_id.clone(),
                uuid: update.uuid.clone(),
            }),
            ..Event::default()
        })
        .await;
    }

    /// The next call matching `pred`, within `secs`.
    pub async fn next_call(&self, secs: u64, pred: impl Fn(&Call) -> bool) -> Call {
        self.try_next_call(secs, pred)
            .await
            .expect("expected call did not arrive")
    }

    /// The next call matching `pred`, or `None` after `secs`.
    pub async fn try_next_call(&self, secs: u64, pred: impl Fn(&Call) -> bool) -> Option<Call> {
        let mut rx = self.calls.lock().await;
        tokio::time::timeout(Duration::from_secs(secs), async {
            loop {
                let c = rx.recv().await.unwrap();
                if pred(&c) {
                    return c;
                }
            }
        })
        .await
        .ok()
    }
}

/// Sends a request, returns status and body.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, Bytes) {
    let resp = send(addr, method, path, body).await;
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

/// Sends a request, returns the streaming response.
pub async fn send(addr: SocketAddr, method: &str, path: &str, body: Vec<u8>) -> Response<Incoming> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("Host", addr.to_string())
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    sender.send_request(req).await.unwrap()
}

/// GET a JSON document.
pub async fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let (status, body) = request(addr, "GET", path, Vec::new()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

/// Reads RecordIO events from a streaming response.
pub struct EventReader {
    body: Incoming,
    decoder: meseta_api::recordio::Decoder,
    buffered: std::collections::VecDeque<Vec<u8>>,
}

impl EventReader {
    pub fn new(resp: Response<Incoming>) -> Self {
        Self {
            body: resp.into_body(),
            decoder: meseta_api::recordio::Decoder::new(),
            buffered: Default::default(),
        }
    }

    /// The next event, as JSON, within `secs`.
    pub async fn next(&mut self, secs: u64) -> serde_json::Value {
        tokio::time::timeout(Duration::from_secs(secs), async {
            loop {
                if let Some(r) = self.buffered.pop_front() {
                    return serde_json::from_slice(&r).unwrap();
                }
                let frame = self.body.frame().await.expect("stream ended").unwrap();
                if let Ok(data) = frame.into_data() {
                    self.buffered.extend(self.decoder.decode(&data).unwrap());
                }
            }
        })
        .await
        .expect("no event in time")
    }

    /// The next event that is not a HEARTBEAT.
    pub async fn next_non_heartbeat(&mut self, secs: u64) -> serde_json::Value {
        loop {
            let e = self.next(secs).await;
            if e["type"] != "HEARTBEAT" {
                return e;
            }
        }
    }
}

/// An agent running in this process against `master`.
pub struct TestAgent {
    pub addr: SocketAddr,
    pub agent: Arc<meseta_agent::daemon::Agent>,
    pub dir: tempfile::TempDir,
}

impl TestAgent {
    pub async fn start(master: SocketAddr, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let launcher = meseta_tests::bin("mesos-containerizer");
        let mut args: Vec<String> = vec![
            "mesos-agent".into(),
            format!("--master={master}"),
            format!("--work_dir={}", dir.path().join("work").display()),
            format!("--runtime_dir={}", dir.path().join("run").display()),
            format!("--launcher_dir={}", launcher.parent().unwrap().display()),
            "--ip=127.0.0.1".into(),
            "--port=0".into(),
            "--resources=cpus:4;mem:4096;disk:1000;ports:[31000-32000]".into(),
            "--attributes=rack:r1".into(),
            "--http_heartbeat_interval=1secs".into(),
            "--registration_backoff_factor=100ms".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let flags = meseta_agent::flags::parse(
            &dir.path().join("no-conf"),
            Vec::new(),
            args.into_iter().map(Into::into),
        )
        .unwrap();
        let mut config = flags.into_config().unwrap();
        config.status_update_retry_interval = Duration::from_millis(500);
        let started = meseta_agent::daemon::start(config).await.unwrap();
        let addr = started.addr;
        let agent = started.agent.clone();
        tokio::spawn(started.run());
        Self { addr, agent, dir }
    }
}

impl Drop for TestAgent {
    /// The agent's supervisors, executors and tasks outlive it (without cgroup isolation they
    /// are in no cgroup anyone empties): kill them when the test ends, passed or failed.
    fn drop(&mut self) {
        meseta_tests::kill_supervised(&self.dir.path().join("run"));
    }
}

/// True when running as root; else prints why the test is skipped.
pub fn root_or_skip(test: &str) -> bool {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED {test}: needs root (the containerizer's supervisor)");
        return false;
    }
    true
}

/// A RUN_TASK event for a custom executor running `script`.
pub fn run_task(task: &str, executor: &str, script: &str, user: &str) -> Event {
    let json = serde_json::json!({
        "type": "RUN_TASK",
        "run_task": {
            "framework": {"user": user, "name": "fw", "id": {"value": "fw-0000"}},
            "task": {
                "name": task, "task_id": {"value": task}, "agent_id": {"value": "m1-S0"},
                "resources": [
                    {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}},
                    {"name": "mem", "type": "SCALAR", "scalar": {"value": 64}}
                ],
                "executor": {
                    "executor_id": {"value": executor},
                    "name": "test executor",
                    "command": {"value": script}
                }
            }
        }
    });
    serde_json::from_value(json).unwrap()
}

/// A RUN_TASK event for a command task (cpus 0.1, mem 32, and `disk_mb` when given) of
/// framework `fw`, checkpointing or not.
pub fn command_task(
    fw: &str,
    task: &str,
    command: &str,
    checkpoint: bool,
    disk_mb: Option<f64>,
) -> Event {
    let mut resources = vec![
        serde_json::json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}),
        serde_json::json!({"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}),
    ];
    if let Some(mb) = disk_mb {
        resources
            .push(serde_json::json!({"name": "disk", "type": "SCALAR", "scalar": {"value": mb}}));
    }
    serde_json::from_value(serde_json::json!({
        "type": "RUN_TASK",
        "run_task": {
            "framework": {"user": "root", "name": "fw", "id": {"value": fw}, "checkpoint": checkpoint},
            "task": {
                "name": task, "task_id": {"value": task}, "agent_id": {"value": "m1-S0"},
                "resources": resources,
                "command": {"value": command}
            }
        }
    }))
    .unwrap()
}
