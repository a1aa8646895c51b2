//! `--authenticate_http_frameworks` on the `mesos-master` binary: schedulers need HTTP Basic
//! credentials (realm `mesos-master-scheduler`); a `FrameworkInfo.principal` other than the
//! authenticated one is refused with Mesos's message and an unset one is filled in; nobody
//! takes a framework over by its id with another principal; `register_frameworks` and
//! `run_tasks` ACLs; and an unmodified pymesos 0.3.15 scheduler with `principal=`/`secret=`
//! registers and runs a task on a real agent, while without them it is refused.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{post_call, request, EventStream};
use base64::Engine;
use serde_json::{json, Value};

const ACLS: &str = r#"{
  "register_frameworks": [
    {"principals": {"values": ["fw2"]}, "roles": {"values": ["dev", "*"]}},
    {"principals": {"values": ["fw2"]}, "roles": {"type": "NONE"}},
    {"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
  "run_tasks": [
    {"principals": {"type": "ANY"}, "users": {"values": ["root"]}},
    {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}]
}"#;

const CREDENTIALS: &str = "fw1 fw1-secret\nfw2 fw2-secret\n";

fn basic(principal: &str, secret: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{principal}:{secret}"));
    format!("Basic {token}")
}

/// The master flags of every test here; `dir` holds the credentials file.
fn auth_flags(dir: &std::path::Path) -> Vec<String> {
    let creds = dir.join("credentials");
    std::fs::write(&creds, CREDENTIALS).unwrap();
    vec![
        "--authenticate_http_frameworks".into(),
        "--http_framework_authenticators=basic".into(),
        format!("--credentials={}", creds.display()),
        format!("--acls={ACLS}"),
    ]
}

struct Master {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Master {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_master() -> Master {
    let dir = tempfile::tempdir().unwrap();
    let port = meseta_tests::free_port();
    let child = Command::new(meseta_tests::bin("mesos-master"))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--work_dir={}", dir.path().join("work").display()))
        .args(auth_flags(dir.path()))
        .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(meseta_tests::wait_until(Duration::from_secs(20), || {
        meseta_tests::http("GET", port, "/health", None).is_ok_and(|(s, _)| s == 200)
    }));
    Master {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        _dir: dir,
    }
}

fn subscribe_call(info: Value, id: Option<&str>) -> Value {
    let mut info = info;
    info["user"] = json!("root");
    info["name"] = json!("auth-test");
    info["failover_timeout"] = json!(100);
    let mut call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}});
    if let Some(id) = id {
        call["framework_id"] = json!({"value": id});
        call["subscribe"]["framework_info"]["id"] = json!({"value": id});
    }
    call
}

async fn subscribe(addr: SocketAddr, auth: Option<&str>, call: &Value) -> EventStream {
    let h: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    EventStream::open_with(addr, "/api/v1/scheduler", &h, call)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_principal_is_checked_and_takeover_refused() {
    let m = start_master();
    let fw1 = basic("fw1", "fw1-secret");
    let fw2 = basic("fw2", "fw2-secret");

    // No or wrong credentials: 401 with the scheduler realm.
    for auth in [None, Some(basic("fw1", "fw2-secret"))] {
        let s = subscribe(m.addr, auth.as_deref(), &subscribe_call(json!({}), None)).await;
        assert_eq!(s.status, 401);
        assert_eq!(
            s.header("WWW-Authenticate").as_deref(),
            Some("Basic realm=\"mesos-master-scheduler\"")
        );
    }
    // A declared principal must be the authenticated one.
    let call = subscribe_call(json!({"principal": "fw2"}), None);
    let r = request(
        m.addr,
        "POST",
        "/api/v1/scheduler",
        &[
            ("Authorization", &fw1),
            ("Content-Type", "application/json"),
        ],
        call.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        "Failed to validate scheduler::Call: Authenticated principal 'fw1' does not match \
         principal 'fw2' set in `FrameworkInfo`"
    );

    // An unset principal is filled in.
    let mut s1 = subscribe(m.addr, Some(&fw1), &subscribe_call(json!({}), None)).await;
    assert_eq!(s1.status, 200);
    let stream1 = s1.header("Mesos-Stream-Id").unwrap();
    let e = s1.next_of("SUBSCRIBED").await.unwrap();
    let id = e["subscribed"]["framework_id"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = meseta_tests::http("GET", m.addr.port(), "/state", None).unwrap();
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["frameworks"][0]["principal"], "fw1", "{state}");

    // fw2 cannot take fw1's framework over by its id.
    let mut s2 = subscribe(m.addr, Some(&fw2), &subscribe_call(json!({}), Some(&id))).await;
    let e = s2.next_of("ERROR").await.unwrap();
    assert_eq!(
        e["error"]["message"],
        "Changing framework's principal is not allowed."
    );
    // ... nor send calls for it, even with its stream id.
    let revive = json!({"type": "REVIVE", "framework_id": {"value": id}});
    let r = request(
        m.addr,
        "POST",
        "/api/v1/scheduler",
        &[
            ("Authorization", &fw2),
            ("Content-Type", "application/json"),
            ("Mesos-Stream-Id", &stream1),
        ],
        revive.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r
        .text()
        .contains("Authenticated principal 'fw2' does not match principal 'fw1'"));
    // Without credentials at all, the call is a 401.
    let r = post_call(m.addr, Some(&stream1), &revive).await;
    assert_eq!(r.status, 401);
    // fw1 still owns its stream: its own call works and it saw no failover.
    let r = request(
        m.addr,
        "POST",
        "/api/v1/scheduler",
        &[
            ("Authorization", &fw1),
            ("Content-Type", "application/json"),
            ("Mesos-Stream-Id", &stream1),
        ],
        revive.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    assert!(s1.next_of("ERROR").await.is_err(), "fw1 was failed over");

    // register_frameworks: fw2 may take roles dev and * only.
    let mut s3 = subscribe(
        m.addr,
        Some(&fw2),
        &subscribe_call(
            json!({"roles": ["prod"], "capabilities": [{"type": "MULTI_ROLE"}]}),
            None,
        ),
    )
    .await;
    let e = s3.next().await.unwrap();
    assert_eq!(e["type"], "ERROR", "{e}");
    assert_eq!(
        e["error"]["message"],
        "Not authorized to register framework  with roles { prod }"
    );
    let mut s4 = subscribe(
        m.addr,
        Some(&fw2),
        &subscribe_call(json!({"role": "dev"}), None),
    )
    .await;
    assert_eq!(s4.next().await.unwrap()["type"], "SUBSCRIBED");
}

/// Runs `authenticated_framework.py` against the cluster; returns its RESULT line.
fn pymesos(cluster: &meseta_tests::Cluster, principal: &str, secret: &str, user: &str) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/pymesos/authenticated_framework.py"
    );
    let started = std::time::Instant::now();
    let out = Command::new("timeout")
        .arg("90")
        .arg(meseta_tests::pymesos_python())
        .arg(script)
        .arg(format!("127.0.0.1:{}", cluster.master_port))
        .args([principal, secret, user, "40"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("pymesos as {principal} took {:?}", started.elapsed());
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "no RESULT: {stdout}\n{}\n{}",
                String::from_utf8_lossy(&out.stderr),
                cluster.logs()
            )
        });
    serde_json::from_str(result).unwrap()
}

#[test]
fn pymesos_with_credentials_runs_a_task_and_without_is_refused() {
    if !meseta_tests::root_or_skip("pymesos_with_credentials_runs_a_task_and_without_is_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut opts = meseta_tests::ClusterOptions::new("cpus:2;mem:512");
    opts.isolation = "posix/cpu,posix/mem".into();
    opts.master_args = auth_flags(dir.path());
    let cluster = meseta_tests::Cluster::start_with(&opts);

    let ok = pymesos(&cluster, "fw1", "fw1-secret", "root");
    assert_eq!(ok["registered"], true, "{ok}\n{}", cluster.logs());
    assert_eq!(
        ok["states"].as_array().and_then(|s| s.last()),
        Some(&json!("TASK_FINISHED")),
        "{ok}"
    );

    let refused = pymesos(&cluster, "-", "-", "root");
    assert_eq!(refused["registered"], false, "{refused}");
    assert!(
        refused["failure"]
            .as_str()
            .unwrap_or_default()
            .contains("401"),
        "{refused}"
    );
    let wrong = pymesos(&cluster, "fw1", "not-the-secret", "root");
    assert_eq!(wrong["registered"], false, "{wrong}");

    // run_tasks allows only root: a task as nobody never reaches the agent.
    let denied = pymesos(&cluster, "fw2", "fw2-secret", "nobody");
    assert_eq!(denied["registered"], true, "{denied}");
    assert_eq!(denied["states"], json!(["TASK_ERROR"]), "{denied}");
    assert_eq!(
        denied["messages"][0],
        json!(format!(
            "Not authorized to launch task auth-task of framework {} under user 'nobody'",
            framework_id_of(&cluster, "fw2")
        ))
    );
}

/// The id of the (possibly completed) framework registered by `principal`.
fn framework_id_of(cluster: &meseta_tests::Cluster, principal: &str) -> String {
    let state = meseta_tests::get_json(cluster.master_port, "/state");
    ["frameworks", "completed_frameworks"]
        .iter()
        .flat_map(|k| state[*k].as_array().cloned().unwrap_or_default())
        .find(|f| f["principal"] == principal)
        .and_then(|f| f["id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no framework of {principal}: {state}"))
}
