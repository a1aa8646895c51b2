//! `serve` hands every request both ends of its connection (`ConnInfo` in the extensions),
//! which the agent's executor API needs to find the peer's socket.

#![allow(clippy::tests_outside_test_module)]

use std::io::{Read, Write};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use meseta_httpd::{ConnInfo, ServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_both_ends_of_their_connection() {
    let listener = meseta_httpd::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ServerConfig {
        limits: meseta_httpd::Limits::default(),
        tls: None,
        keepalive: None,
    };
    tokio::spawn(meseta_httpd::serve(
        listener,
        config,
        |req, peer| async move {
            let info = *req.extensions().get::<ConnInfo>().expect("ConnInfo");
            assert_eq!(info.peer, peer);
            Response::new(Full::new(Bytes::from(format!(
                "{} {}",
                info.peer, info.local
            ))))
        },
    ));
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
