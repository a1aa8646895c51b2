//! The web UI behind Mesos's HTTP authentication and `--acls`: pages need the read-only
//! realm's Basic credentials (401 with a challenge and an explanation otherwise), the assets
//! stay open so that page is styled, forms need the read-write realm and the operator ACLs
//! (403 with an explanation), and a real Chromium given the credentials once keeps using
//! them for the live fragments.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use meseta_tests::browser::Browser;
use meseta_tests::{bin, free_port, wait_until};
use serde_json::json;

struct Master(Child);

impl Drop for Master {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A raw request; returns the whole response text (head and body).
fn request(port: u16, method: &str, path: &str, auth: Option<(&str, &str)>, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = auth.map_or_else(String::new, |(u, p)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        format!("Authorization: Basic {token}\r\n")
    });
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{auth}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn ui_uses_the_api_credentials_and_explains_401_and_403() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("credentials.json");
    std::fs::write(
        &creds,
        json!({"credentials": [
            {"principal": "ops", "secret": "ops-secret"},
            {"principal": "intern", "secret": "intern-secret"},
        ]})
        .to_string(),
    )
    .unwrap();
    let acls = json!({
        "drain_agents": [
            {"principals": {"values": ["ops"]}, "agents": {"type": "ANY"}},
            {"principals": {"type": "ANY"}, "agents": {"type": "NONE"}}
        ],
        "view_roles": [
            {"principals": {"values": ["intern"]}, "roles": {"type": "NONE"}}
        ],
        "permissive": true
    });
    let port = free_port();
    let _m = Master(
        Command::new(bin("mesos-master"))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--work_dir={}", dir.path().join("work").display()))
            .arg(format!("--credentials=file://{}", creds.display()))
            .arg(format!("--acls={acls}"))
            .arg("--authenticate_http_readonly")
            .arg("--authenticate_http_readwrite")
            .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mesos-master"),
    );
    assert!(wait_until(Duration::from_secs(20), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));

    let anon = request(port, "GET", "/", None, "");
    assert!(anon.starts_with("HTTP/1.1 401"), "{anon}");
    assert!(
        anon.to_ascii_lowercase()
            .contains("www-authenticate: basic"),
        "{anon}"
    );
    assert!(anon.contains("Authentication required (401)"), "{anon}");
    let wrong = request(port, "GET", "/ui/tasks", Some(("ops", "nope")), "");
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let css = request(port, "GET", "/ui/assets/meseta.css", None, "");
    assert!(css.starts_with("HTTP/1.1 200"), "assets are open: {css}");
    let ok = request(
        port,
        "GET",
        "/ui/tasks",
        Some(("intern", "intern-secret")),
        "",
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");

    // The roles page shows only the roles the viewer may see (`view_roles`), as /roles does.
    let weights = request(
        port,
        "PUT",
        "/weights",
        Some(("ops", "ops-secret")),
        r#"[{"role": "payroll", "weight": 2.5}]"#,
    );
    assert!(weights.starts_with("HTTP/1.1 200"), "{weights}");
    let roles = |who: (&str, &str)| request(port, "GET", "/ui/roles", Some(who), "");
    let ops_roles = roles(("ops", "ops-secret"));
    assert!(ops_roles.contains("payroll"), "{ops_roles}");
    let intern_roles = roles(("intern", "intern-secret"));
    assert!(intern_roles.starts_with("HTTP/1.1 200"), "{intern_roles}");
    assert!(!intern_roles.contains("payroll"), "{intern_roles}");

    // Forms: the operator ACLs decide, and the page says so.
    let form = "agent=no-such-agent&op=drain";
    let denied = request(
        port,
        "POST",
        "/ui/actions/agent",
        Some(("intern", "intern-secret")),
        form,
    );
    assert!(denied.starts_with("HTTP/1.1 403"), "{denied}");
    assert!(
        denied.contains("Access denied (403)") && denied.contains("intern"),
        "{denied}"
    );
    let allowed = request(
        port,
        "POST",
        "/ui/actions/agent",
        Some(("ops", "ops-secret")),
        form,
    );
    assert!(
        allowed.starts_with("HTTP/1.1 400"),
        "ops passes the ACL: {allowed}"
    );
    assert!(allowed.contains("no-such-agent"), "{allowed}");

    // A browser given the credentials once keeps using them for the polled fragments.
    let b = Browser::start();
    b.open(&format!("http://ops:ops-secret@127.0.0.1:{port}/"));
    let first = b.wait_for_text("#overview", "Uptime", Duration::from_secs(20));
    let refreshed = wait_until(Duration::from_secs(15), || {
        b.text("#overview")
            .is_some_and(|t| t != first && t.contains("Uptime"))
    });
    assert!(
        refreshed,
        "the live overview did not refresh with the stored credentials"
    );
    b.screenshot("master-authenticated-overview");
}
