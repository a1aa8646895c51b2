//! The `mesos-master` binary with Mesos's HTTP authentication and `--acls`: 401 with the
//! endpoint's realm without or with wrong credentials, 200 with the right ones, open
//! `/health` and `/version`, 403 from the ACLs for operator calls, `/state` and GET_*
//! filtered by `view_*`, and secrets absent from `/flags`, `/state` and the logs.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{request, EventStream, Resp, Scheduler};
use base64::Engine;
use serde_json::{json, Value};

const SECRET_OPS: &str = "ops-s3cret:with-colon";
const SECRET_INTERN: &str = "intern-pass";

/// A `mesos-master` process with a credentials file; killed on drop.
struct Master {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Drop for Master {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Master {
    fn start(args: &[String]) -> Master {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials.json");
        std::fs::write(
            &creds,
            json!({"credentials": [
                {"principal": "ops", "secret": SECRET_OPS},
                {"principal": "intern", "secret": SECRET_INTERN},
                {"principal": "fw1", "secret": "fw1-secret"},
                {"principal": "fw2", "secret": "fw2-secret"},
            ]})
            .to_string(),
        )
        .unwrap();
        let port = meseta_tests::free_port();
        let log = std::fs::File::create(dir.path().join("master.log")).unwrap();
        let child = Command::new(meseta_tests::bin("mesos-master"))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--work_dir={}", dir.path().join("work").display()))
            .arg("--allocation_interval=100ms")
            .arg(format!("--credentials=file://{}", creds.display()))
            .args(args)
            .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let up = meseta_tests::wait_until(Duration::from_secs(20), || {
            meseta_tests::http("GET", port, "/health", None).is_ok_and(|(s, _)| s == 200)
        });
        let m = Master {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        assert!(up, "master did not start: {}", m.log());
        m
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("master.log")).unwrap_or_default()
    }
}

fn basic(principal: &str, secret: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{principal}:{secret}"));
    format!("Basic {token}")
}

async fn get(addr: SocketAddr, path: &str, auth: Option<&str>) -> Resp {
    let h: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    request(addr, "GET", path, &h, b"").await.unwrap()
}

async fn op(addr: SocketAddr, auth: Option<&str>, call: &Value) -> Resp {
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(a) = auth {
        h.push(("Authorization", a));
    }
    request(addr, "POST", "/api/v1", &h, call.to_string().as_bytes())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_need_credentials_of_their_realm() {
    let m = Master::start(&[
        "--authenticate_http_readonly".into(),
        "--authenticate_http_readwrite=true".into(),
    ]);
    let ops = basic("ops", SECRET_OPS);
    for open in ["/health", "/version", "/master/health"] {
        assert_eq!(get(m.addr, open, None).await.status, 200, "{open}");
    }
    for (path, realm) in [
        ("/state", "mesos-master-readonly"),
        ("/master/state.json", "mesos-master-readonly"),
        ("/flags", "mesos-master-readonly"),
        ("/metrics/snapshot", "mesos-master-readonly"),
        ("/frameworks", "mesos-master-readonly"),
        ("/quota", "mesos-master-readwrite"),
        ("/weights", "mesos-master-readwrite"),
    ] {
        for auth in [
            None,
            Some(basic("ops", "wrong")),
            Some(basic("nobody", SECRET_OPS)),
            Some("Basic !!".to_string()),
        ] {
            let r = get(m.addr, path, auth.as_deref()).await;
            assert_eq!(r.status, 401, "{path} with {auth:?}: {}", r.text());
            assert_eq!(
                r.header("WWW-Authenticate"),
                Some(format!("Basic realm=\"{realm}\"").as_str()),
                "{path}"
            );
        }
        let r = get(m.addr, path, Some(&ops)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    // The operator API is read-write, GET_HEALTH included.
    let r = op(m.addr, None, &json!({"type": "GET_HEALTH"})).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("WWW-Authenticate"),
        Some("Basic realm=\"mesos-master-readwrite\"")
    );
    let r = op(m.addr, Some(&ops), &json!({"type": "GET_HEALTH"})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The scheduler realm is off here: frameworks subscribe without credentials.
    let s = Scheduler::subscribe(m.addr, json!({})).await.unwrap();
    assert!(!s.framework_id.is_empty());

    // Secrets are nowhere: /flags shows the credentials path.
    let flags = get(m.addr, "/flags", Some(&ops)).await.json();
    let shown = flags["flags"]["credentials"].as_str().unwrap_or_default();
    assert!(shown.ends_with("credentials.json"), "{flags}");
    assert_eq!(flags["flags"]["authenticate_http_readwrite"], "true");
    let state = get(m.addr, "/state", Some(&ops)).await.text();
    let r = op(m.addr, Some(&ops), &json!({"type": "GET_FLAGS"})).await;
    for text in [flags.to_string(), state, r.text(), m.log()] {
        for secret in [SECRET_OPS, SECRET_INTERN] {
            assert!(!text.contains(secret), "secret leaked: {text}");
        }
    }
}

fn deny_all_but_ops(object: &str) -> Value {
    json!([
        {"principals": {"values": ["ops"]}, object: {"type": "ANY"}},
        {"principals": {"type": "ANY"}, object: {"type": "NONE"}}
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acls_refuse_operator_calls_with_403() {
    let acls = json!({
        "teardown_frameworks": deny_all_but_ops("framework_principals"),
        "mark_agents_gone": deny_all_but_ops("agents"),
        "drain_agents": deny_all_but_ops("agents"),
        "update_quotas": deny_all_but_ops("roles"),
        "update_weights": deny_all_but_ops("roles"),
        "view_flags": deny_all_but_ops("flags"),
        "view_frameworks": [
            {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
            {"principals": {"type": "ANY"}, "users": {"values": ["nobody"]}}
        ],
        "view_tasks": [{"principals": {"type": "ANY"}, "users": {"values": ["nobody"]}}],
        "view_roles": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}],
        "register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
        "permissive": false
    });
    let acls_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(acls_file.path(), acls.to_string()).unwrap();
    let m = Master::start(&[
        "--authenticate_http_readwrite".into(),
        "--authenticate_http_readonly".into(),
        format!("--acls={}", acls_file.path().display()),
    ]);
    let ops = basic("ops", SECRET_OPS);
    let intern = basic("intern", SECRET_INTERN);
    let fw = Scheduler::subscribe(m.addr, json!({"user": "root", "principal": "fw1"}))
        .await
        .unwrap();
    let agent = json!({"value": "no-such-agent"});
    let calls = [
        json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": fw.framework_id}}}),
        json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": agent}}),
        json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": agent}}),
        json!({"type": "UPDATE_QUOTA", "update_quota": {"force": true, "quota_configs": [
            {"role": "web", "guarantees": {"cpus": {"value": 1}}, "limits": {"cpus": {"value": 1}}}]}}),
        json!({"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "web", "weight": 2}]}}),
        json!({"type": "GET_FLAGS"}),
    ];
    for call in &calls {
        let r = op(m.addr, Some(&intern), call).await;
        assert_eq!(r.status, 403, "{call}: {}", r.text());
    }
    // The v0 `/teardown` endpoint: read-write realm, same ACL.
    let form = format!("frameworkId={}", fw.framework_id);
    let teardown = |auth: Option<String>, body: String| async move {
        let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if let Some(a) = &auth {
            h.push(("Authorization", a.as_str()));
        }
        request(m.addr, "POST", "/teardown", &h, body.as_bytes())
            .await
            .unwrap()
    };
    let r = teardown(None, form.clone()).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("WWW-Authenticate"),
        Some("Basic realm=\"mesos-master-readwrite\"")
    );
    assert_eq!(
        teardown(Some(intern.clone()), form.clone()).await.status,
        403
    );
    let r = teardown(Some(ops.clone()), "frameworkId=unknown".into()).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, "No framework found with specified ID")
    );
    // The refused calls changed nothing.
    let state = get(m.addr, "/state", Some(&ops)).await.json();
    assert_eq!(
        state["frameworks"].as_array().map(Vec::len),
        Some(1),
        "{state}"
    );
    let weights = get(m.addr, "/weights", Some(&ops)).await.json();
    assert!(!weights.to_string().contains("web"), "{weights}");
    // view_frameworks: the intern sees no framework of user root, in /state and GET_FRAMEWORKS.
    let hidden = get(m.addr, "/state", Some(&intern)).await.json();
    assert_eq!(hidden["frameworks"], json!([]), "{hidden}");
    let summary = get(m.addr, "/state-summary", Some(&intern)).await.json();
    assert_eq!(summary["frameworks"], json!([]), "{summary}");
    let summary = get(m.addr, "/state-summary", Some(&ops)).await.json();
    assert_eq!(summary["frameworks"].as_array().map(Vec::len), Some(1));
    let r = op(m.addr, Some(&intern), &json!({"type": "GET_FRAMEWORKS"})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["get_frameworks"]["frameworks"].is_null(),
        "{}",
        r.text()
    );
    let r = op(m.addr, Some(&ops), &json!({"type": "GET_FRAMEWORKS"})).await;
    assert_eq!(
        r.json()["get_frameworks"]["frameworks"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // ops passes the ACLs: the agent calls then fail on the unknown agent, not with 403.
    for call in &calls[1..3] {
        let r = op(m.addr, Some(&ops), call).await;
        assert!(
            ![401, 403].contains(&r.status),
            "{call}: {} {}",
            r.status,
            r.text()
        );
    }
    for call in calls[3..].iter().chain(&calls[..1]) {
        let r = op(m.addr, Some(&ops), call).await;
        assert_eq!(r.status, 200, "{call}: {}", r.text());
    }
    let state = get(m.addr, "/state", Some(&ops)).await.json();
    assert_eq!(state["frameworks"], json!([]), "torn down: {state}");
    let weights = get(m.addr, "/weights", Some(&ops)).await.json();
    assert_eq!(weights, json!([{"role": "web", "weight": 2.0}]));
    // The same ACLs guard the legacy endpoints.
    let r = request(
        m.addr,
        "PUT",
        "/weights",
        &[
            ("Authorization", &intern),
            ("Content-Type", "application/json"),
        ],
        br#"[{"role": "db", "weight": 3}]"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 403, "{}", r.text());

    // Operator event streams: the intern is not told about a framework it may not view.
    let subscribe = json!({"type": "SUBSCRIBE"});
    let mut streams = Vec::new();
    for who in [&ops, &intern] {
        let h = [("Authorization", who.as_str())];
        let s = EventStream::open_with(m.addr, "/api/v1", &h, &subscribe)
            .await
            .unwrap();
        assert_eq!(s.status, 200);
        streams.push(s);
    }
    let _fw3 = Scheduler::subscribe(m.addr, json!({"user": "root", "name": "third"}))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for s in &mut streams {
        let mut kinds = Vec::new();
        while let Ok(e) = s.next_within(Duration::from_millis(700)).await {
            kinds.push(e["type"].as_str().unwrap_or_default().to_owned());
        }
        seen.push(kinds);
    }
    assert!(seen[0].contains(&"FRAMEWORK_ADDED".to_owned()), "{seen:?}");
    assert!(!seen[1].contains(&"FRAMEWORK_ADDED".to_owned()), "{seen:?}");
    assert!(seen[1].contains(&"SUBSCRIBED".to_owned()), "{seen:?}");
    drop(acls_file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_acls_or_missing_credentials_stop_the_master() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(meseta_tests::bin("mesos-master"))
            .arg(format!("--work_dir={}", dir.path().display()))
            .args(args)
            .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
            .output()
            .unwrap()
    };
    for (args, expect) in [
        (
            &["--authenticate_http_readwrite"][..],
            "No credentials provided",
        ),
        (
            &["--acls={\"run_task\": []}"][..],
            "'run_task' is not an ACL action",
        ),
        (
            &[
                "--authenticate_http_frameworks",
                "--credentials=/nonexistent",
            ][..],
            "--http_framework_authenticators",
        ),
        (
            &["--credentials={\"credentials\": []}"][..],
            "not inline JSON",
        ),
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} started");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
