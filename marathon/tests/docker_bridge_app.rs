//! The seed's flow: a Docker app in BRIDGE mode with a port mapping (`hostPort: 0` taken from
//! the offer), posted as JSON to `/v2/apps`, runs under the agent's docker containerizer and
//! answers on its host port.

#![allow(clippy::tests_outside_test_module)]

#[path = "../../agent/tests/docker_common/mod.rs"]
mod docker_common;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use meseta_tests::zookeeper::ZooKeeper;
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

/// The README's flow: an image built here with `docker build`, pushed to a loopback
/// registry, the master and marathon found through ZooKeeper, and the README's `app.json`
/// (DOCKER, BRIDGE, `hostPort: 0`) POSTed as it stands there; the agent's dockerd pulls the
/// image from the registry and the app answers on its host port. The registry listens on a
/// free port rather than the README's 5000 (tests run side by side).
#[test]
fn the_readme_flow_builds_pushes_posts_and_reaches_the_app() {
    let Some(_docker) = docker_common::docker_or_skip("readme_flow") else {
        return;
    };
    let Some(registry) = meseta_tests::registry::Registry::start() else {
        return;
    };
    let image = format!(
        "{}/busybox:latest",
        registry.url.trim_start_matches("http://")
    );
    let ctx = tempfile::tempdir().unwrap();
    build_and_push(ctx.path(), &image);

    let zk = ZooKeeper::shared();
    let root = ZooKeeper::unique_path("readme-flow");
    let base = 30_000 + (std::process::id() % 10) * 100 + 50;
    let resources = format!("cpus:2;mem:2048;disk:10240;ports:[{base}-{}]", base + 49);
    let mut opts = docker_common::options(&resources, &[]);
    opts.agent_args.push("--hostname=127.0.0.1".into());
    opts.master_args.extend([
        format!("--zk={}", zk.url(&format!("{root}/mesos"))),
        "--quorum=1".into(),
    ]);
    let cluster = Cluster::start_with(&opts);
    let m = Marathon::start(
        &zk.url(&format!("{root}/mesos")),
        &[format!("--zk={}", zk.url(&format!("{root}/marathon")))],
        cluster.dir.path(),
    );
    m.wait_elected(Duration::from_secs(30));
    // The README's app.json, with the registry's port.
    let app = r#"{"id": "/web", "instances": 1, "cpus": 0.1, "mem": 32,
 "cmd": "echo hello > /tmp/index.html && exec httpd -f -p 80 -h /tmp",
 "container": {"type": "DOCKER", "docker": {"image": "127.0.0.1:5000/busybox:latest",
   "network": "BRIDGE", "portMappings": [{"containerPort": 80, "hostPort": 0}]}}}"#
        .replace("127.0.0.1:5000/busybox:latest", &image);
    let (s, b) = m.call("POST", "/v2/apps", Some(&app));
    assert_eq!(s, 201, "{b}");
    m.wait_running("/web", 1, Duration::from_secs(120));
    let task = m.get("/v2/apps/web/tasks").unwrap()["tasks"][0].clone();
    let port = u16::try_from(task["ports"][0].as_u64().unwrap()).unwrap();
    assert!(
        u32::from(port) >= base && u32::from(port) < base + 50,
        "{task}"
    );
    let answered = wait_until(Duration::from_secs(20), || {
        meseta_tests::http("GET", port, "/", None)
            .is_ok_and(|(s, body)| s == 200 && body.trim() == "hello")
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
    let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
}

/// `docker build` of a static busybox (`sh`, `echo`, `httpd`) from scratch, `docker push` to
/// the registry, then `docker rmi` so that the agent's launch pulls it.
fn build_and_push(ctx: &Path, image: &str) {
    let bin = ctx.join("rootfs/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(ctx.join("rootfs/tmp")).unwrap();
    std::fs::write(ctx.join("rootfs/tmp/.keep"), b"").unwrap();
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static");
    std::fs::copy(busybox, bin.join("busybox")).unwrap();
    for applet in ["sh", "echo", "httpd"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
    }
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nCMD [\"sh\"]\n",
    )
    .unwrap();
    let docker = |args: &[&str]| {
        let out = Command::new("docker")
            .args(args)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("docker CLI");
        assert!(
            out.status.success(),
            "docker {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    docker(&["build", "-t", image, &ctx.display().to_string()]);
    docker(&["push", image]);
    docker(&["rmi", "-f", image]);
}
