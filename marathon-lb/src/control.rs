//! marathon-lb's control endpoints (on `--control-address`, reached from HAProxy's stats port
//! through `HAPROXY_HEAD`): `/_mlb_signal/reload`, `/_mlb_signal/hup` and
//! `/_mlb_signal/usr1` trigger a reconfiguration (upstream's signal endpoints);
//! `/metrics` and `/_mlb_metrics` give the Prometheus counters; `/_haproxy_health_check`
//! answers 200 while HAProxy runs. Bounded: header read timeout, a connection cap.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex, Semaphore};

use crate::lb::Lb;
use crate::run::{trigger, Trigger};

/// Most connections served at once.
const MAX_CONNECTIONS: usize = 256;

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r
}

/// Serves the control endpoints on `listener` forever.
pub async fn serve(listener: TcpListener, lb: Arc<Mutex<Lb>>, tx: mpsc::Sender<Trigger>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(err) => {
                tracing::warn!(%err, "control listener accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            continue; // Over the cap: the connection is closed at once.
        };
        let (lb, tx) = (lb.clone(), tx.clone());
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                let (lb, tx) = (lb.clone(), tx.clone());
                async move {
                    let r = match req.uri().path() {
                        "/_mlb_signal/reload" | "/_mlb_signal/hup" | "/_mlb_signal/usr1" => {
                            trigger(&tx);
                            reply(StatusCode::OK, "Sent SIGHUP signal to marathon-lb\n".into())
                        }
                        "/metrics" | "/_mlb_metrics" => {
                            let text = lb.lock().await.metrics.render();
                            reply(StatusCode::OK, text)
                        }
                        "/_haproxy_health_check" => {
                            if lb.lock().await.haproxy.master_pid().is_some() {
                                reply(StatusCode::OK, "OK\n".into())
                            } else {
                                reply(
                                    StatusCode::SERVICE_UNAVAILABLE,
                                    "haproxy is not running\n".into(),
                                )
                            }
                        }
                        _ => reply(StatusCode::NOT_FOUND, "not found\n".into()),
                    };
                    Ok::<_, Infallible>(r)
                }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(Duration::from_secs(60), conn).await;
            drop(permit);
        });
    }
}
