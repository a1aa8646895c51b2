//! `meseta-bench lb`: the real `marathon-lb` binary (`--sse`) and a real HAProxy, fed by a
//! Marathon stand-in that serves `/v2/apps?embed=apps.tasks` and `/v2/events` for 100 apps ×
//! 10 instances (1,000 backends, each a real listener on loopback). Measured, from the
//! instant the event is sent: a server-only change live in HAProxy (the new server in
//! `show servers state`, through the runtime API) and a frontend change live (a new app's
//! service port answering through HAProxy, after a reload); and failed requests from a client
//! loop during 20 consecutive reconfigurations of both kinds.
//!
//! The stand-in is bench scaffolding only (the tests drive marathon-lb with the real
//! `marathon`); it answers what marathon-lb asks for and nothing else.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;

use crate::report::{ms, summarize};

/// The benchmark's shape.
#[derive(Debug, Clone)]
pub struct Options {
    /// Apps.
    pub apps: usize,
    /// Instances per app.
    pub instances: usize,
    /// Changes of each kind measured.
    pub samples: usize,
}

struct Cluster {
    apps: Vec<(String, u16, Vec<u16>)>,
}

impl Cluster {
    fn json(&self) -> Value {
        let apps: Vec<Value> = self
            .apps
            .iter()
            .map(|(id, sp, ports)| {
                let tasks: Vec<Value> = ports
                    .iter()
                    .map(|p| json!({"id": format!("{}.{p}", &id[1..]), "host": "127.0.0.1", "ports": [p], "state": "TASK_RUNNING"}))
                    .collect();
                json!({"id": id, "instances": ports.len(), "portDefinitions": [{"port": sp}],
                       "labels": {"HAPROXY_GROUP": "external", "HAPROXY_0_BIND_ADDR": "127.0.0.1", "HAPROXY_0_MODE": "http"},
                       "tasks": tasks})
            })
            .collect();
        json!({ "apps": apps })
    }
}

/// A backend listener answering `200 ok` to every request.
async fn backend() -> anyhow::Result<u16> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = l.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = c
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    Ok(port)
}

/// The Marathon stand-in: `/v2/apps` from `state`, `/v2/events` from `events`.
async fn marathon(
    state: Arc<Mutex<Cluster>>,
    events: broadcast::Sender<String>,
) -> anyhow::Result<u16> {
    use http_body_util::{BodyExt, Full, StreamBody};
    use hyper::body::Frame;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = l.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((c, _)) = l.accept().await {
            let (state, events) = (state.clone(), events.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (state, events) = (state.clone(), events.clone());
                        async move {
                            type Body =
                                http_body_util::combinators::BoxBody<bytes::Bytes, Infallible>;
                            let resp: hyper::Response<Body> = if req.uri().path() == "/v2/events" {
                                let rx = events.subscribe();
                                let stream = futures_stream(rx);
                                hyper::Response::builder()
                                    .header("Content-Type", "text/event-stream")
                                    .body(BodyExt::boxed(StreamBody::new(stream)))
                                    .unwrap_or_default()
                            } else {
                                let body = serde_json::to_vec(
                                    &state.lock().map(|s| s.json()).unwrap_or_default(),
                                )
                                .unwrap_or_default();
                                hyper::Response::builder()
                                    .header("Content-Type", "application/json")
                                    .body(BodyExt::boxed(Full::new(bytes::Bytes::from(body))))
                                    .unwrap_or_default()
                            };
                            Ok::<_, Infallible>(resp)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(c), svc)
                    .await;
            });
        }
    });

    fn futures_stream(
        rx: broadcast::Receiver<String>,
    ) -> impl futures_util::Stream<Item = Result<Frame<bytes::Bytes>, Infallible>> {
        futures_util::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(e) => return Some((Ok(Frame::data(bytes::Bytes::from(e))), rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return None,
                }
            }
        })
    }
    Ok(port)
}

fn event(kind: &str) -> String {
    format!("event: {kind}\r\ndata: {{\"eventType\":\"{kind}\"}}\r\n\r\n")
}

fn runtime(socket: &std::path::Path, cmd: &str) -> String {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return String::new();
    };
    let _ = s.write_all(format!("{cmd}\n").as_bytes());
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn get_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut out = String::new();
    s.read_to_string(&mut out).is_ok() && out.starts_with("HTTP/1.1 200")
}

fn wait(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while !f() {
        if Instant::now() > deadline {
            anyhow::bail!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    Ok(())
}

struct Guard(Child, std::path::PathBuf);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        if let Some(pid) = std::fs::read_to_string(&self.1)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
}

/// Runs the benchmark; returns the table and the `RESULT` line.
pub async fn run(o: &Options) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let mut cluster = Cluster { apps: Vec::new() };
    for i in 0..o.apps {
        let mut ports = Vec::new();
        for _ in 0..o.instances {
            ports.push(backend().await?);
        }
        cluster.apps.push((
            format!("/bench/app{i:03}"),
            meseta_tests::free_port(),
            ports,
        ));
    }
    let spare: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..(o.samples * 2 + 2) {
            v.push(backend().await?);
        }
        v
    };
    let state = Arc::new(Mutex::new(cluster));
    let (events, _) = broadcast::channel(1024);
    let mport = marathon(state.clone(), events.clone()).await?;
    let (stats, appid, control) = (
        meseta_tests::free_port(),
        meseta_tests::free_port(),
        meseta_tests::free_port(),
    );
    let socket = dir.path().join("sock");
    let head = format!(
        "global\n  maxconn 4096\n  stats socket {} mode 600 level admin expose-fd listeners\n  hard-stop-after 30s\n\
         defaults\n  timeout connect 3s\n  timeout client 30s\n  timeout server 30s\n  option redispatch\n  retries 3\n\
         listen stats\n  bind 127.0.0.1:{stats}\n  mode http\n  monitor-uri /_haproxy_health_check\n",
        socket.display()
    );
    let pid_file = dir.path().join("haproxy.pid");
    let child = Command::new(meseta_tests::bin("marathon-lb"))
        .args([
            "--sse",
            "--group",
            "external",
            "--dont-bind-http-https",
            "--log-level",
            "WARNING",
        ])
        .arg(format!("--marathon=http://127.0.0.1:{mport}"))
        .arg(format!(
            "--haproxy-config={}",
            dir.path().join("haproxy.cfg").display()
        ))
        .arg(format!("--haproxy-pid-file={}", pid_file.display()))
        .arg(format!("--control-address=127.0.0.1:{control}"))
        .env("HAPROXY_HEAD", head)
        .env(
            "HAPROXY_HTTP_FRONTEND_APPID_HEAD",
            format!("\nfrontend marathon_http_appid_in\n  bind 127.0.0.1:{appid}\n  mode http\n"),
        )
        .stdin(Stdio::null())
        .spawn()
        .context("start marathon-lb")?;
    let _guard = Guard(child, pid_file);
    let first_port = state.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.apps[0].1;
    let last_port = state.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.apps[o.apps - 1].1;
    let t0 = Instant::now();
    wait("the first configuration", Duration::from_secs(60), || {
        get_ok(first_port) && get_ok(last_port)
    })?;
    let initial = t0.elapsed();

    // Server-only changes: app i's first instance moves to a spare backend.
    let mut server_only = Vec::new();
    for (k, &new_port) in spare.iter().enumerate().take(o.samples) {
        let backend_name = {
            let mut s = state.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            let app = &mut s.apps[k % o.apps];
            app.2[0] = new_port;
            format!("bench_app{:03}_{}", k % o.apps, app.1)
        };
        let t = Instant::now();
        let _ = events.send(event("status_update_event"));
        let needle = format!(" {new_port} ");
        wait("a server-only change", Duration::from_secs(30), || {
            runtime(&socket, &format!("show servers state {backend_name}"))
                .lines()
                .any(|l| l.contains(&needle) && l.split_whitespace().nth(6) == Some("0"))
        })?;
        server_only.push(t.elapsed());
    }
    // Frontend changes: a new app appears (a new service port: a reload).
    let mut frontend = Vec::new();
    for k in 0..o.samples {
        let sp = meseta_tests::free_port();
        state
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .apps
            .push((format!("/bench/new{k:03}"), sp, vec![spare[o.samples + k]]));
        let t = Instant::now();
        let _ = events.send(event("api_post_event"));
        wait("a frontend change", Duration::from_secs(30), || get_ok(sp))?;
        frontend.push(t.elapsed());
    }
    // 20 reconfigurations under load: alternate kinds; count failed requests.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let ports: Vec<u16> = state
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .apps
        .iter()
        .take(10)
        .map(|a| a.1)
        .collect();
    let loaders: Vec<_> = (0..4)
        .map(|w| {
            let (stop, ok, failed, ports) =
                (stop.clone(), ok.clone(), failed.clone(), ports.clone());
            std::thread::spawn(move || {
                let mut i = w;
                // Bounded: 20,000 requests per loader at most.
                while !stop.load(Ordering::Relaxed) && i < 80_000 {
                    if get_ok(ports[i % ports.len()]) {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    i += 4;
                }
            })
        })
        .collect();
    for r in 0..20 {
        {
            let mut s = state.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            if r % 2 == 0 {
                // Swap two instances' order of an app: a server set change on a loaded app.
                let app = &mut s.apps[(r / 2) % 10];
                app.2.rotate_left(1);
                let last = app.2.len() - 1;
                app.2[last] = spare[(r / 2) % spare.len()];
            } else {
                let sp = meseta_tests::free_port();
                s.apps
                    .push((format!("/bench/load{r:03}"), sp, vec![spare[0]]));
            }
        }
        let _ = events.send(event(if r % 2 == 0 {
            "status_update_event"
        } else {
            "api_post_event"
        }));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        let _ = l.join();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    let metrics = {
        let mut s = TcpStream::connect(("127.0.0.1", control))?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        out
    };
    let metric = |name: &str| -> String {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let (s, f) = (summarize(&server_only), summarize(&frontend));
    let mut out = format!(
        "{} apps × {} instances ({} backends), marathon-lb `--sse` with a real HAProxy {}; times from the Marathon event \
         being sent to the change being live.\n\n\
         | change | n | p50 (ms) | p90 (ms) | min (ms) |\n|---|---|---|---|---|\n\
         | server only (runtime API, no reload) | {} | {} | {} | {} |\n\
         | new frontend (checked config + reload) | {} | {} | {} | {} |\n\n\
         First configuration of all {} backends live after {} ms. Under load (4 client loops over 10 apps, \
         20 reconfigurations alternating both kinds): {} requests, **{} failed**. marathon-lb counted {} reloads and \
         {} runtime-API updates.\n\n",
        o.apps,
        o.instances,
        o.apps * o.instances,
        haproxy_version(),
        s.n,
        ms(s.p50),
        ms(s.p90),
        ms(s.min),
        f.n,
        ms(f.p50),
        ms(f.p90),
        ms(f.min),
        o.apps * o.instances,
        ms(initial),
        ok + failed,
        failed,
        metric("marathon_lb_reloads_total"),
        metric("marathon_lb_runtime_updates_total"),
    );
    out.push_str(&format!(
        "RESULT lb event_to_live_ms={} reload_ms={} failed_requests={failed}\n",
        ms(s.p50),
        ms(f.p50)
    ));
    Ok(out)
}

fn haproxy_version() -> String {
    Command::new("haproxy")
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_default()
}
