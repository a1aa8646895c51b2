//! With `--http_credentials`, Marathon's API and web UI need HTTP Basic credentials: without
//! them a UI page is a 401 page that says what to do (with the `WWW-Authenticate` challenge
//! that makes the browser ask), the API a JSON message; with the same credentials as the API,
//! the UI works in Chromium, actions included.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use meseta_tests::browser::{html_problems, Browser};
use meseta_tests::{free_port, http};
use support::Marathon;

/// A raw GET: the whole response (head and body).
fn raw_get(port: u16, path: &str, auth: Option<&str>) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = auth.map_or(String::new(), |a| format!("Authorization: Basic {a}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_ui_asks_for_the_api_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let master = format!("127.0.0.1:{}", free_port());
    let m = Marathon::start(
        &master,
        &[
            "--internal_store_backend=mem".into(),
            "--http_credentials=ops:pa:ss".into(),
        ],
        dir.path(),
    );
    // "ops:pa:ss" in base64: the password may contain ':'.
    let good = "b3BzOnBhOnNz";
    assert_eq!(http("GET", m.port, "/ping", None).unwrap().0, 200);

    let page = raw_get(m.port, "/", None);
    assert!(page.starts_with("HTTP/1.1 401"), "{page}");
    assert!(
        page.to_lowercase()
            .contains("www-authenticate: basic realm=\"mesosphere\""),
        "{page}"
    );
    let body = page.split_once("\r\n\r\n").unwrap().1;
    assert!(body.contains("Authentication required (401)"), "{body}");
    assert_eq!(html_problems(body), Vec::<String>::new());
    let api = raw_get(m.port, "/v2/apps", None);
    assert!(
        api.starts_with("HTTP/1.1 401") && api.contains("\"message\""),
        "{api}"
    );
    let wrong = raw_get(m.port, "/v2/apps", Some("b3BzOndyb25n"));
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    assert!(raw_get(m.port, "/v2/apps", Some(good)).starts_with("HTTP/1.1 200"));

    // (A browser shows that page once its login prompt is cancelled; headless Chromium has no
    // prompt to cancel, so the page is checked above as served.)
    let t = Duration::from_secs(30);
    let b = Browser::start();
    // The same credentials as the API: pages, live fragments and form posts all work.
    b.open(&format!("http://ops:pa%3Ass@127.0.0.1:{}/", m.port));
    b.wait_for_text("main", "No apps", t);
    b.click("a[href='/ui/new'].button");
    b.type_into(
        "#app-json",
        r#"{"id": "/auth/app", "cmd": "sleep 1000", "cpus": 0.01, "mem": 8, "instances": 0}"#,
    );
    b.click("form[action='/ui/create'] button");
    b.wait_for_text("h1", "/auth/app", t);
    let listed = raw_get(m.port, "/v2/apps/auth/app", Some(good));
    assert!(listed.starts_with("HTTP/1.1 200"), "{listed}");
}
