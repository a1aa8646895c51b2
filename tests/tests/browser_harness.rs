//! The browser harness drives a real headless Chromium: pages load, scripts run (or are
//! blocked in the JS-disabled mode), typing and clicking work, screenshots are written.

#![allow(clippy::tests_outside_test_module)]
use std::time::Duration;

use meseta_tests::browser::{html_problems, Browser};

const PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><title>harness</title></head><body>\
<p id=\"x\">static</p><form><label>Echo <input id=\"in\" name=\"in\"></label>\
<button id=\"go\" type=\"button\">go</button></form><p id=\"out\"></p>\
<script>document.getElementById('x').textContent='js ran';\
document.getElementById('go').onclick=function(){document.getElementById('out').textContent=\
'got '+document.getElementById('in').value;};</script></body></html>";

/// Serves `PAGE` on a loopback port from a thread; returns the port.
fn serve() -> u16 {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let port = server.server_addr().to_ip().expect("ip").port();
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let header = "Content-Type: text/html; charset=utf-8"
                .parse::<tiny_http::Header>()
                .expect("header");
            let _ = req.respond(tiny_http::Response::from_string(PAGE).with_header(header));
        }
    });
    port
}

#[test]
fn chromium_runs_scripts_types_clicks_and_screenshots() {
    assert_eq!(html_problems(PAGE), Vec::<String>::new());
    let port = serve();
    let b = Browser::start();
    b.open(&format!("http://127.0.0.1:{port}/"));
    b.wait_for_text("#x", "js ran", Duration::from_secs(10));
    b.type_into("#in", "hello");
    b.click("#go");
    b.wait_for_text("#out", "got hello", Duration::from_secs(10));
    let shot = b.screenshot("harness");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG: {}", shot.display());
}

#[test]
fn javascript_disabled_mode_blocks_scripts() {
    let port = serve();
    let b = Browser::start_without_js();
    b.open(&format!("http://127.0.0.1:{port}/"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(b.text("#x").as_deref(), Some("static"));
}
