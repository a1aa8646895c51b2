//! An in-test stand-in for the agent's `/api/v1/executor` endpoint, and helpers to run the
//! real `mesos-executor` binary against it.
//!
//! SUBSCRIBE opens a chunked RecordIO stream carrying SUBSCRIBED and, on the first
//! subscription, LAUNCH of the configured task. UPDATE calls are recorded and answered
//! `202`; with `auto_ack` an ACKNOWLEDGED follows on the stream. `drop_stream_on` closes
//! the stream (without acknowledging) when an update of that state arrives, once.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use meseta_api::executor::{Call, CallType, Event, EventType, Subscribe, Subscribed};
use meseta_api::{
    AgentInfo, CommandInfo, ExecutorId, ExecutorInfo, FrameworkCapabilityType, FrameworkId,
    FrameworkInfo, TaskId, TaskInfo, TaskState, TaskStatus,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub const FRAMEWORK: &str = "fw-1";
pub const EXECUTOR: &str = "ex-1";
pub const TASK: &str = "task-1";

/// How the fake agent behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub auto_ack: bool,
    pub drop_stream_on: Option<TaskState>,
    /// Whether SUBSCRIBED's framework_info declares TASK_KILLING_STATE.
    pub killing_capable: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            auto_ack: true,
            drop_stream_on: None,
            killing_capable: true,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    calls: Vec<Call>,
    stream: Option<mpsc::UnboundedSender<Event>>,
    subscriptions: usize,
    dropped: bool,
    /// Answer every call 503, as an agent that is not (yet) recovered.
    unavailable: bool,
}

/// The running fake agent.
#[derive(Debug, Clone)]
pub struct FakeAgent {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

/// A task running `command` through the shell.
pub fn shell_task(command: &str) -> TaskInfo {
    TaskInfo {
        name: "test task".into(),
        task_id: TaskId::new(TASK),
        command: Some(CommandInfo::shell(command)),
        ..TaskInfo::default()
    }
}

impl FakeAgent {
    /// Starts serving on 127.0.0.1:<free port>; the first SUBSCRIBE gets LAUNCH of `task`.
    pub async fn start(task: TaskInfo, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let agent = Self {
            addr,
            state: Arc::default(),
        };
        let server = agent.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let agent = server.clone();
                let task = task.clone();
                let behaviour = behaviour.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let agent = agent.clone();
                        let task = task.clone();
                        let behaviour = behaviour.clone();
                        async move { agent.handle(req, &task, &behaviour).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        agent
    }

    async fn handle(
        &self,
        req: Request<Incoming>,
        task: &TaskInfo,
        behaviour: &Behaviour,
    ) -> Result<Response<BoxBody<Bytes, Infallible>>, Infallible> {
        assert_eq!(req.uri().path(), "/api/v1/executor");
        let body = req.into_body().collect().await.expect("body").to_bytes();
        let call: Call = serde_json::from_slice(&body).expect("executor call JSON");
        call.validate().expect("valid call");
        assert_eq!(call.framework_id, FrameworkId::new(FRAMEWORK));
        assert_eq!(call.executor_id, ExecutorId::new(EXECUTOR));
        let mut state = self.state.lock().unwrap();
        if state.unavailable {
            let response = Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .body(Full::new(Bytes::from("Agent has not finished recovery")).boxed())
                .expect("response");
            return Ok(response);
        }
        state.calls.push(call.clone());
        match call.r#type {
            CallType::Subscribe => {
                state.subscriptions += 1;
                let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
                let _ = tx.send(subscribed(behaviour.killing_capable));
                if state.subscriptions == 1 {
                    let _ = tx.send(Event::launch(task.clone()));
                } else if behaviour.auto_ack {
                    for update in call
                        .subscribe
                        .iter()
                        .flat_map(|s| &s.unacknowledged_updates)
                    {
                        let _ = tx.send(ack(&update.status));
                    }
                }
                state.stream = Some(tx);
                let (frames, body) = mpsc::unbounded_channel::<Bytes>();
                tokio::spawn(async move {
                    while let Some(event) = rx.recv().await {
                        let frame = meseta_api::recordio::encode_json(&event).expect("encode");
                        if frames.send(Bytes::from(frame)).is_err() {
                            return;
                        }
                    }
                });
                let response = Response::builder()
                    .status(StatusCode::OK)
                    .header("Content-Type", "application/json")
                    .body(EventBody(body).boxed())
                    .expect("response");
                Ok(response)
            }
            CallType::Update => {
                let status = call.update.expect("update").status;
                if behaviour.drop_stream_on == Some(status.state) && !state.dropped {
                    state.dropped = true;
                    state.stream = None;
                } else if behaviour.auto_ack {
                    if let Some(stream) = &state.stream {
                        let _ = stream.send(ack(&status));
                    }
                }
                Ok(accepted())
            }
            _ => Ok(accepted()),
        }
    }

    /// Pushes `event` onto the current stream.
    pub fn send(&self, event: Event) {
        let state = self.state.lock().unwrap();
        state
            .stream
            .as_ref()
            .expect("a subscribed executor")
            .send(event)
            .expect("stream open");
    }

    /// From now on answer 503 to everything, and close the current event stream.
    pub fn go_away(&self) {
        let mut state = self.state.lock().unwrap();
        state.unavailable = true;
        state.stream = None;
    }

    /// Every UPDATE's status, in arrival order.
    pub fn updates(&self) -> Vec<TaskStatus> {
        let state = self.state.lock().unwrap();
        state
            .calls
            .iter()
            .filter_map(|c| c.update.as_ref().map(|u| u.status.clone()))
            .collect()
    }

    /// States of [`Self::updates`].
    pub fn states(&self) -> Vec<TaskState> {
        self.updates().iter().map(|s| s.state).collect()
    }

    /// Every SUBSCRIBE body, in arrival order.
    pub fn subscribes(&self) -> Vec<Subscribe> {
        let state = self.state.lock().unwrap();
        state
            .calls
            .iter()
            .filter(|c| c.r#type == CallType::Subscribe)
            .map(|c| c.subscribe.clone().unwrap_or_default())
            .collect()
    }

    /// Waits until an update with `state` arrived.
    pub async fn wait_for_state(&self, wanted: TaskState, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.states().contains(&wanted) {
            assert!(
                Instant::now() < deadline,
                "no {wanted:?} within {timeout:?}; got {:?}",
                self.states()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A streaming response body fed by a channel; ends when the sender is dropped.
struct EventBody(mpsc::UnboundedReceiver<Bytes>);

impl Body for EventBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}

fn subscribed(killing_capable: bool) -> Event {
    Event {
        r#type: EventType::Subscribed,
        subscribed: Some(Subscribed {
            executor_info: ExecutorInfo {
                executor_id: ExecutorId::new(EXECUTOR),
                ..ExecutorInfo::default()
            },
            framework_info: FrameworkInfo {
                id: Some(FrameworkId::new(FRAMEWORK)),
                capabilities: if killing_capable {
                    vec![FrameworkCapabilityType::TaskKillingState.into()]
                } else {
                    Vec::new()
                },
                ..FrameworkInfo::default()
            },
            agent_info: AgentInfo {
                hostname: "localhost".into(),
                ..AgentInfo::default()
            },
            container_id: None,
        }),
        ..Event::default()
    }
}

fn ack(status: &TaskStatus) -> Event {
    Event::acknowledged(
        status.task_id.clone(),
        status.uuid.clone().expect("update uuid"),
    )
}

fn accepted() -> Response<BoxBody<Bytes, Infallible>> {
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .body(Full::new(Bytes::new()).boxed())
        .expect("response")
}

/// The real binary, started as the agent would with `sandbox` as its sandbox; its stdout
/// (and the task's) go to `<sandbox>/stdout`, its log to `<sandbox>/stderr`.
pub fn spawn_executor(agent: SocketAddr, sandbox: &Path) -> tokio::process::Child {
    spawn_executor_with_args(agent, sandbox, &[])
}

/// [`spawn_executor`] with command-line flags.
pub fn spawn_executor_with_args(
    agent: SocketAddr,
    sandbox: &Path,
    args: &[&str],
) -> tokio::process::Child {
    spawn_executor_with(agent, sandbox, args, &[])
}

/// [`spawn_executor`] with command-line flags and extra (overriding) environment variables.
pub fn spawn_executor_with(
    agent: SocketAddr,
    sandbox: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> tokio::process::Child {
    let stdout = std::fs::File::create(sandbox.join("stdout")).expect("stdout file");
    let stderr = std::fs::File::create(sandbox.join("stderr")).expect("stderr file");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_mesos-executor"))
        .args(args)
        .env("MESOS_AGENT_ENDPOINT", agent.to_string())
        .env("MESOS_FRAMEWORK_ID", FRAMEWORK)
        .env("MESOS_EXECUTOR_ID", EXECUTOR)
        .env("MESOS_DIRECTORY", sandbox)
        .env("MESOS_SANDBOX", sandbox)
        .env("MESOS_CHECKPOINT", "1")
        .env("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "3secs")
        .env("MESOS_SUBSCRIPTION_BACKOFF_MAX", "500ms")
        .env("MESOS_RECOVERY_TIMEOUT", "30secs")
        .env("RUST_LOG", "debug")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mesos-executor")
}

/// Waits for the executor to exit; panics with its log if it takes longer than `timeout`.
pub async fn wait_exit(
    child: &mut tokio::process::Child,
    sandbox: &Path,
    timeout: Duration,
) -> std::process::ExitStatus {
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => status.expect("wait"),
        Err(_) => panic!(
            "executor still running after {timeout:?}; log:\n{}",
            log(sandbox)
        ),
    }
}

/// The executor's stderr log.
pub fn log(sandbox: &Path) -> String {
    std::fs::read_to_string(sandbox.join("stderr")).unwrap_or_default()
}

/// A fresh sandbox directory.
pub fn sandbox() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    (dir, path)
}
