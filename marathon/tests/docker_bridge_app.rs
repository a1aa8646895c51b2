//! The seed's flow: a Docker app in BRIDGE mode with a port mapping (`hostPort: 0` taken from
//! the offer), posted as JSON to `/v2/apps`, runs under the agent's docker containerizer and
//! answers on its host port.

#![allow(clippy::tests_outside_test_module)]

#[path = "../../agent/tests/docker_common/mod.rs"]
mod docker_common;
mod support;

use std::time::Duration;

use meseta_tests::{wait_until, Cluster};
use support::Marathon;

#[test]
fn a_bridge_mode_docker_app_answers_on_its_host_port() {
    let Some(_docker) = docker_common::docker_or_skip("docker_bridge_app") else {
        return;
    };
    let base = 30_000 + (std::process::id() % 10) * 100;
    let resources = format!("cpus:2;mem:2048;disk:10240;ports:[{base}-{}]", base + 99);
    let mut opts = docker_common::options(&resources, &[]);
    opts.agent_args.push("--hostname=127.0.0.1".into());
    let cluster = Cluster::start_with(&opts);
    let m = Marathon::start(
        &format!("127.0.0.1:{}", cluster.master_port),
        &["--internal_store_backend=mem".into()],
        cluster.dir.path(),
    );
    let app = format!(
        r#"{{"id":"/web","cmd":"echo hello-from-bridge > /tmp/index.html && exec httpd -f -p 80 -h /tmp",
        "cpus":0.1,"mem":32,"instances":1,
        "container":{{"type":"DOCKER","docker":{{"image":"{}","network":"BRIDGE",
        "portMappings":[{{"containerPort":80,"hostPort":0,"protocol":"tcp"}}]}}}}}}"#,
        docker_common::IMAGE
    );
    let (s, b) = m.call("POST", "/v2/apps", Some(&app));
    assert_eq!(s, 201, "{b}");
    assert!(
        b["container"]["docker"]["portMappings"][0]["servicePort"]
            .as_i64()
            .unwrap()
            >= 10_000,
        "{b}"
    );
    m.wait_running("/web", 1, Duration::from_secs(60));
    let task = m.get("/v2/apps/web/tasks").unwrap()["tasks"][0].clone();
    let port = u16::try_from(task["ports"][0].as_u64().unwrap()).unwrap();
    assert!(
        (u32::from(port)) >= base && u32::from(port) < base + 100,
        "{task}"
    );
    let answered = wait_until(Duration::from_secs(20), || {
        meseta_tests::http("GET", port, "/index.html", None)
            .is_ok_and(|(s, body)| s == 200 && body.contains("hello-from-bridge"))
    });
    assert!(
        answered,
        "no answer on host port {port}\n{}\n{}",
        m.logs(),
        cluster.logs()
    );
    let (s, _) = m.call("DELETE", "/v2/apps/web", None);
    assert_eq!(s, 200);
    assert!(
        wait_until(Duration::from_secs(30), || m.tasks().is_empty()),
        "{}",
        m.logs()
    );
}
