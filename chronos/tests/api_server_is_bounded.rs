//! The chronos API is served by `meseta-httpd` like every Meseta daemon: a body that never
//! arrives is answered 408 after `MESETA_HTTP_BODY_READ_TIMEOUT_SECS`, and idle connections
//! up to `MESETA_HTTP_MAX_CONNECTIONS` do not lock clients out.

#![allow(clippy::tests_outside_test_module)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Chronos;
use meseta_tests::{free_port, http};

#[test]
fn a_trickled_body_gets_408_and_idle_connections_do_not_lock_clients_out() {
    let work = tempfile::tempdir().unwrap();
    let args = vec![
        // No master: the API works without one.
        "--master=127.0.0.1:1".to_owned(),
        format!("--state_dir={}", work.path().join("state").display()),
    ];
    let env = [
        ("MESETA_HTTP_BODY_READ_TIMEOUT_SECS", "1".to_owned()),
        ("MESETA_HTTP_MAX_CONNECTIONS", "4".to_owned()),
    ];
    let c = Chronos::start_with_env(work.path(), "chronos", free_port(), &args, &env);

    let mut s = TcpStream::connect(("127.0.0.1", c.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let t = Instant::now();
    s.write_all(
        b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
    )
    .unwrap();
    let mut answer = [0u8; 512];
    let n = s.read(&mut answer).unwrap();
    let head = String::from_utf8_lossy(&answer[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(c.job("x"), None);

    let idle: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(("127.0.0.1", c.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, body) = http("GET", c.port, "/ping", None).unwrap();
    assert_eq!(status, 200, "{body}: {}", c.logs());
    drop(idle);
}
