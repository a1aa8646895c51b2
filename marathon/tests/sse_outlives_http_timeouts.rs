//! `/v2/events` is a response, which `meseta-httpd` never times: with a 1 s header/idle and
//! body read timeout, a stream opened before them still delivers an event several seconds
//! later, while an idle keep-alive connection is closed and an oversized body gets 413.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::Marathon;

#[test]
fn an_event_stream_outlives_the_idle_and_body_timeouts() {
    // Before any thread exists: the marathon child inherits the variables.
    std::env::set_var("MESETA_HTTP_HEADER_READ_TIMEOUT_SECS", "1");
    std::env::set_var("MESETA_HTTP_BODY_READ_TIMEOUT_SECS", "1");
    let dir = tempfile::tempdir().unwrap();
    // No Mesos needed: the API and its events work while marathon looks for a master.
    let m = Marathon::start(
        "127.0.0.1:1",
        &[
            "--internal_store_backend=mem".into(),
            "--http_max_body_bytes=1000".into(),
        ],
        dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));

    let mut sse = TcpStream::connect(("127.0.0.1", m.port)).unwrap();
    write!(
        sse,
        "GET /v2/events?event_type=api_post_event HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut idle = TcpStream::connect(("127.0.0.1", m.port)).unwrap();
    std::thread::sleep(Duration::from_secs(4));

    // The idle connection was closed by the header read timeout.
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 64];
    assert!(
        matches!(idle.read(&mut buf), Ok(0) | Err(_)),
        "an idle connection stayed open"
    );

    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/late","cmd":"sleep 100","cpus":0.01,"mem":16,"instances":0}"#),
    );
    assert_eq!(s, 201, "{b}");
    sse.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut lines = BufReader::new(sse).lines();
    let got = loop {
        match lines.next() {
            Some(Ok(l)) if l.starts_with("data: ") && l.contains("/late") => break true,
            Some(Ok(_)) if started.elapsed() < Duration::from_secs(10) => {}
            _ => break false,
        }
    };
    assert!(got, "the event stream was cut:\n{}", m.logs());

    let big = format!(r#"{{"id":"/big","cmd":"{}"}}"#, "x".repeat(2000));
    let (s, _) = m.call("POST", "/v2/apps", Some(&big));
    assert_eq!(s, 413);
}
