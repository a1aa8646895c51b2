//! With `--http_credentials`, Chronos's API and web UI need HTTP Basic credentials: without
//! them a UI page is a 401 page that says what to do (with the `WWW-Authenticate` challenge
//! that makes the browser ask), the API Chronos's JSON error; with the same credentials as
//! the API, the UI works in Chromium, actions included.

#![allow(clippy::tests_outside_test_module)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Chronos;
use meseta_tests::browser::{html_problems, Browser};
use meseta_tests::{free_port, wait_until};

/// A raw request: the whole response (head and body).
fn raw(port: u16, method: &str, path: &str, auth: Option<&str>) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = auth.map_or(String::new(), |a| format!("Authorization: Basic {a}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n{auth}\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_ui_asks_for_the_api_credentials() {
    let work = tempfile::tempdir().unwrap();
    let c = Chronos::start(
        work.path(),
        "chronos",
        &[
            format!("--master=127.0.0.1:{}", free_port()),
            format!("--state_dir={}", work.path().join("state").display()),
            "--http_credentials=ops:pa:ss".into(),
        ],
    );
    // "ops:pa:ss" in base64: the password may contain ':'.
    let good = "b3BzOnBhOnNz";
    assert!(
        wait_until(Duration::from_secs(30), || raw(
            c.port,
            "GET",
            "/v1/scheduler/jobs",
            Some(good)
        )
        .starts_with("HTTP/1.1 200")),
        "chronos did not lead: {}",
        c.logs()
    );
    let page = raw(c.port, "GET", "/", None);
    assert!(page.starts_with("HTTP/1.1 401"), "{page}");
    assert!(
        page.to_lowercase()
            .contains("www-authenticate: basic realm=\"mesosphere\""),
        "{page}"
    );
    let body = page.split_once("\r\n\r\n").unwrap().1;
    assert!(body.contains("Authentication required (401)"), "{body}");
    assert_eq!(html_problems(body), Vec::<String>::new());
    let api = raw(c.port, "GET", "/v1/scheduler/jobs", None);
    assert!(
        api.starts_with("HTTP/1.1 401") && api.contains("\"message\""),
        "{api}"
    );
    let run = raw(c.port, "POST", "/ui/run", Some("b3BzOndyb25n"));
    assert!(
        run.starts_with("HTTP/1.1 401"),
        "a UI action needs credentials too: {run}"
    );

    // (A browser shows the 401 page once its login prompt is cancelled; headless Chromium has
    // no prompt to cancel, so the page is checked above as served.)
    let t = Duration::from_secs(30);
    let b = Browser::start();
    b.open(&format!("http://ops:pa%3Ass@127.0.0.1:{}/", c.port));
    b.wait_for_text("main", "No jobs", t);
    b.click("a[href='/ui/new'].button");
    b.type_into(
        "#job-json",
        r#"{"name": "auth-job", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT24H", "owner": "ops@example.com"}"#,
    );
    b.click("form[action='/ui/create'] button");
    b.wait_for_text("h1", "auth-job", t);
    assert!(
        c.job("auth-job").is_none(),
        "the test helper has no credentials"
    );
    let listed = raw(c.port, "GET", "/v1/scheduler/jobs", Some(good));
    assert!(listed.contains("\"auth-job\""), "{listed}");
}
