//! The `mesos-agent` binary with `--authenticate_http_readonly`, `--authenticate_http_readwrite`,
//! `--http_credentials` and `--acls`: 401 with the agent's realms without or with wrong
//! credentials, open `/health` and `/version`, 403 from `access_sandboxes` on `/files/*` and
//! READ_FILE for a running task's sandbox, `view_flags` and `get_endpoints`, and the
//! credentials shown in `/flags` as their path only. Needs root and the workspace binaries.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use meseta_tests::{root_or_skip, Cluster, ClusterOptions};
use serde_json::{json, Value};

const OPS_SECRET: &str = "agent-ops-secret";
const INTERN_SECRET: &str = "agent-intern-secret";

fn basic(principal: &str, secret: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{principal}:{secret}"));
    format!("Basic {token}")
}

/// One request with optional `Authorization`; returns (status, WWW-Authenticate, body).
fn request(
    port: u16,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, Option<String>, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: \
         application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let challenge = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("www-authenticate")
            .then(|| v.trim().to_owned())
    });
    // Bodies here are small and not chunked except JSON documents, which are only parsed.
    (status, challenge, rest.to_owned())
}

fn json_body(text: &str) -> Value {
    // A chunked body: take the JSON between the first `{` and the last `}`.
    let start = text.find('{').unwrap_or(0);
    let end = text.rfind('}').map_or(text.len(), |e| e + 1);
    serde_json::from_str(&text[start..end]).unwrap_or(Value::Null)
}

#[test]
fn agent_endpoints_need_credentials_and_acls_guard_sandboxes() {
    if !root_or_skip("agent_endpoints_need_credentials_and_acls_guard_sandboxes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("http_credentials");
    std::fs::write(
        &creds,
        json!({"credentials": [
            {"principal": "ops", "secret": OPS_SECRET},
            {"principal": "intern", "secret": INTERN_SECRET}]})
        .to_string(),
    )
    .unwrap();
    let only_ops = |object: &str| {
        json!([
            {"principals": {"values": ["ops"]}, object: {"type": "ANY"}},
            {"principals": {"type": "ANY"}, object: {"type": "NONE"}}])
    };
    let acls = json!({
        "access_sandboxes": only_ops("users"),
        "view_flags": only_ops("flags"),
        "get_endpoints": only_ops("paths"),
        "view_frameworks": only_ops("users"),
        "view_tasks": only_ops("users"),
    });
    let mut opts = ClusterOptions::new("cpus:2;mem:512");
    opts.isolation = "posix/cpu,posix/mem".into();
    opts.agent_args = vec![
        "--authenticate_http_readonly".into(),
        "--authenticate_http_readwrite".into(),
        format!("--http_credentials=file://{}", creds.display()),
        format!("--acls={acls}"),
    ];
    let cluster = Cluster::start_with(&opts);
    let port = cluster.agent_port;
    let ops = basic("ops", OPS_SECRET);
    let intern = basic("intern", INTERN_SECRET);

    for open in ["/health", "/version", "/slave(1)/health"] {
        assert_eq!(request(port, "GET", open, None, "").0, 200, "{open}");
    }
    for path in [
        "/state",
        "/slave(1)/state",
        "/flags",
        "/containers",
        "/files/browse?path=/",
    ] {
        for auth in [
            None,
            Some(basic("ops", "nope")),
            Some(basic("x", OPS_SECRET)),
        ] {
            let (status, challenge, _) = request(port, "GET", path, auth.as_deref(), "");
            assert_eq!(status, 401, "{path} {auth:?}");
            assert_eq!(
                challenge.as_deref(),
                Some("Basic realm=\"mesos-agent-readonly\""),
                "{path}"
            );
        }
    }
    let health = r#"{"type": "GET_HEALTH"}"#;
    let (status, challenge, _) = request(port, "POST", "/api/v1", None, health);
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Basic realm=\"mesos-agent-readwrite\"")
    );
    assert_eq!(request(port, "POST", "/api/v1", Some(&ops), health).0, 200);

    // A running task gives a sandbox to read.
    let mut sched = cluster
        .scenario_command("long_running", 60)
        .stdin(Stdio::piped())
        .spawn()
        .expect("scenario");
    let mut lines = BufReader::new(sched.stdout.take().expect("stdout")).lines();
    let running = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("\"event\": \"running\""));
    assert!(running.is_some(), "task never ran: {}", cluster.logs());
    let (status, _, body) = request(port, "GET", "/state", Some(&ops), "");
    assert_eq!(status, 200);
    let state = json_body(&body);
    let dir_of_task = state["frameworks"][0]["executors"][0]["directory"]
        .as_str()
        .unwrap_or_else(|| panic!("no executor directory in {state}"))
        .to_owned();
    let stdout = format!("{dir_of_task}/stdout");
    let read = format!("/files/read?path={stdout}&offset=0");

    let (status, _, body) = request(port, "GET", &read, Some(&intern), "");
    assert_eq!(status, 403, "{body}");
    let (status, _, body) = request(port, "GET", &read, Some(&ops), "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("long-running-output"), "{body}");
    // `..` does not step around the check, nor does the operator API.
    let sneaky = format!(
        "/files/download?path={dir_of_task}/../../../../frameworks/x/../../{}",
        ""
    );
    assert_ne!(request(port, "GET", &sneaky, Some(&intern), "").0, 200);
    let call = json!({"type": "READ_FILE", "read_file": {"path": stdout, "offset": 0}}).to_string();
    assert_eq!(
        request(port, "POST", "/api/v1", Some(&intern), &call).0,
        403
    );
    assert_eq!(request(port, "POST", "/api/v1", Some(&ops), &call).0, 200);

    // view_frameworks / view_tasks: the intern sees neither in /state nor GET_STATE.
    let (_, _, body) = request(port, "GET", "/state", Some(&intern), "");
    assert_eq!(json_body(&body)["frameworks"], json!([]), "{body}");
    let get_state = r#"{"type": "GET_STATE"}"#;
    let (_, _, body) = request(port, "POST", "/api/v1", Some(&intern), get_state);
    let hidden = json_body(&body);
    assert_eq!(hidden["type"], "GET_STATE", "{body}");
    assert!(
        hidden["get_state"]["get_frameworks"]["frameworks"].is_null(),
        "{hidden}"
    );
    assert!(
        hidden["get_state"]["get_tasks"]["launched_tasks"].is_null(),
        "{hidden}"
    );
    let (_, _, body) = request(port, "POST", "/api/v1", Some(&ops), get_state);
    let shown = json_body(&body);
    assert_eq!(
        shown["get_state"]["get_tasks"]["launched_tasks"][0]["task_id"]["value"], "long",
        "{shown}"
    );

    // view_flags and get_endpoints.
    assert_eq!(request(port, "GET", "/flags", Some(&intern), "").0, 403);
    assert_eq!(
        request(port, "GET", "/monitor/statistics", Some(&intern), "").0,
        403
    );
    assert_eq!(
        request(port, "GET", "/monitor/statistics", Some(&ops), "").0,
        200
    );
    let (status, _, body) = request(port, "GET", "/flags", Some(&ops), "");
    assert_eq!(status, 200);
    let flags = json_body(&body);
    assert_eq!(
        flags["flags"]["http_credentials"],
        json!(format!("file://{}", creds.display())),
        "{flags}"
    );
    for text in [body, state.to_string(), cluster.logs()] {
        assert!(
            !text.contains(OPS_SECRET) && !text.contains(INTERN_SECRET),
            "{text}"
        );
    }
    drop(sched.stdin.take());
    let _ = sched.wait();
}
