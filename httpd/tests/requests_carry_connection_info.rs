//! `serve` hands every request both ends of its connection (`ConnInfo` in the extensions),
//! which the agent's executor API needs to find the peer's socket, and the connection's
//! `ConnTag`, which a kept-alive connection keeps from request to request.

#![allow(clippy::tests_outside_test_module)]

use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use meseta_httpd::{ConnInfo, ConnTag, RequestBody, ServerConfig};

/// Serves `handler` on a loopback port with default limits; returns the address.
fn start<H, Fut>(handler: H) -> SocketAddr
where
    H: Fn(Request<RequestBody>, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let listener = meseta_httpd::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ServerConfig {
        limits: meseta_httpd::Limits::default(),
        tls: None,
        keepalive: None,
    };
    tokio::spawn(meseta_httpd::serve(listener, config, handler));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_both_ends_of_their_connection() {
    let addr = start(|req, peer| async move {
        let info = *req.extensions().get::<ConnInfo>().expect("ConnInfo");
        assert_eq!(info.peer, peer);
        Response::new(Full::new(Bytes::from(format!(
            "{} {}",
            info.peer, info.local
        ))))
    });
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        (out, s.local_addr().unwrap())
    })
    .await
    .unwrap();
    let (out, client) = answer;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.ends_with(&format!("{client} {addr}")), "{out}");
}

/// A tag set while answering one request is seen by the next request of the same connection,
/// and not by a request on another connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_tag_lasts_as_long_as_its_connection() {
    let addr = start(|req, _| async move {
        let tag = req.extensions().get::<ConnTag>().expect("ConnTag").clone();
        let before = tag.get().unwrap_or("none").to_owned();
        tag.set(req.uri().path().trim_start_matches('/').to_owned());
        Response::new(Full::new(Bytes::from(before)))
    });
    let bodies = tokio::task::spawn_blocking(move || {
        // Two requests on one connection, then one on a new connection.
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut kept = String::new();
        s.read_to_string(&mut kept).unwrap();
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(s, "GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut fresh = String::new();
        s.read_to_string(&mut fresh).unwrap();
        (kept, fresh)
    })
    .await
    .unwrap();
    let (kept, fresh) = bodies;
    assert_eq!(kept.matches("HTTP/1.1 200").count(), 2, "{kept}");
    let first = kept
        .find("\r\n\r\nnone")
        .expect("the first request sees no tag");
    assert!(
        kept[first..].contains("\r\n\r\nfirst"),
        "the second request sees the first one's tag (kept, not replaced): {kept}"
    );
    assert!(
        fresh.ends_with("\r\n\r\nnone"),
        "a new connection starts untagged: {fresh}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_names_its_peer_and_is_open_to_all_users() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.sock");
    // A socket left by an earlier run is replaced; any other file is not touched.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let listener = meseta_httpd::bind_unix(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o666);
    tokio::spawn(meseta_httpd::serve_unix(
        listener,
        meseta_httpd::Limits::default(),
        |req: Request<RequestBody>| async move {
            let peer = req
                .extensions()
                .get::<meseta_httpd::UnixPeer>()
                .expect("UnixPeer")
                .clone();
            assert!(req.extensions().get::<ConnInfo>().is_none());
            Response::new(Full::new(Bytes::from(format!(
                "{} {}",
                peer.pid,
                peer.pidfd.is_some()
            ))))
        },
    ));
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::os::unix::net::UnixStream::connect(&path).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    let body = answer.rsplit("\r\n\r\n").next().unwrap();
    let (pid, _pidfd) = body.split_once(' ').unwrap();
    assert_eq!(pid, std::process::id().to_string(), "{answer}");

    let file = dir.path().join("not-a-socket");
    std::fs::write(&file, "data").unwrap();
    assert!(meseta_httpd::bind_unix(&file).is_err());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "data");
}
