//! The docker containerizer against the real dockerd, driven by an unmodified pymesos
//! scheduler through `mesos-master`: DOCKER tasks finish, fail, get killed with a grace
//! period, use BRIDGE port mappings, the HOST network and a USER network, volumes, env,
//! parameters and `privileged`, pull from a loopback registry, report `/monitor/statistics`
//! from Docker's cgroup, are removed after `--docker_remove_delay`, and fail clearly when
//! dockerd is unreachable or `docker` is not in `--containerizers`. Needs root, dockerd,
//! docker-registry and `cargo build --workspace --bins`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Instant;

use crate::docker_common::*;
use meseta_tests::{free_port, get_json, http, Cluster, ClusterOptions};

fn stdout_of(sandbox: &str) -> String {
    std::fs::read_to_string(format!("{sandbox}/stdout")).unwrap_or_default()
}

#[test]
fn docker_tasks_finish_fail_and_get_killed_next_to_mesos_tasks() {
    let _serial = one_at_a_time();
    let Some(docker) =
        docker_or_skip("docker_tasks_finish_fail_and_get_killed_next_to_mesos_tasks")
    else {
        return;
    };
    let flags = ["--docker_remove_delay=2secs", "--docker_stop_timeout=4secs"];
    let cluster = Cluster::start_with(&options(RESOURCES, &flags));
    let _cleanup = RemoveContainersUnder(cluster.dir.path().to_owned());
    let privileged_error = privileged_error();
    let registry = Registry::start().expect("docker-registry (scripts/setup.sh installs it)");
    let pull_image = registry.push_test_image(&format!("meseta/task-{}:v1", std::process::id()));
    run_scenario(
        &cluster,
        "docker_tasks",
        &[
            ("MESETA_PRIVILEGED_ERROR", privileged_error.clone()),
            ("MESETA_DOCKER_PULL_IMAGE", pull_image.clone()),
        ],
    );
    // The image was only in the registry: the executor pulled it.
    assert!(stdout_of(&executor(cluster.agent_port, "dpull").1).contains("pulled-ok"));
    let _ = std::process::Command::new("docker")
        .args(["rmi", &pull_image])
        .output();

    let (container, sandbox) = executor(cluster.agent_port, "dfinish");
    let out = stdout_of(&sandbox);
    for want in [
        "docker-hello",
        "sandbox=/mnt/mesos/sandbox",
        "pwd=/mnt/mesos/sandbox",
        "sandbox-mounted",
        "FOO=bar",
    ] {
        assert!(out.contains(want), "dfinish stdout lacks {want:?}: {out}");
    }
    assert!(stdout_of(&executor(cluster.agent_port, "dargs").1).contains("args-ok"));
    let kill_out = stdout_of(&executor(cluster.agent_port, "dkill").1);
    assert!(
        kill_out.contains("got-sigterm"),
        "no graceful stop: {kill_out}"
    );
    // No kill policy: --docker_stop_timeout=4secs is the grace (0 would SIGKILL at once).
    let stop_out = stdout_of(&executor(cluster.agent_port, "dstop").1);
    assert!(stop_out.contains("stopped-after-grace"), "{stop_out}");
    assert!(stdout_of(&executor(cluster.agent_port, "mtask").1).contains("mesos-side"));
    // `privileged` reached Docker: it runs, or fails with Docker's own privileged error
    // (checked by the scenario against `docker run --privileged` on this host).
    if privileged_error.is_empty() {
        assert!(stdout_of(&executor(cluster.agent_port, "dpriv").1).contains("privileged-ok"));
    }
    // The MESOS task ran without Docker; the DOCKER ones had containers, removed after
    // --docker_remove_delay once their executors ended.
    let (mesos_container, _) = executor(cluster.agent_port, "mtask");
    assert!(inspect_json(&format!("mesos-{mesos_container}")).is_none());
    let name = format!("mesos-{container}");
    assert!(
        eventually(30, || inspect_json(&name).is_none()),
        "{name} not removed after --docker_remove_delay=2secs"
    );
    drop(docker);
}

/// Docker's error for `docker run --privileged` on this host ("" when it works): some
/// sandboxes run dockerd with a capability bounding set that privileged containers exceed.
fn privileged_error() -> String {
    let out = std::process::Command::new("docker")
        .args(["run", "--rm", "--privileged", IMAGE, "true"])
        .output()
        .expect("docker run");
    if out.status.success() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&out.stderr);
    // "...: unable to apply caps: operation not permitted: unknown" → a stable middle part.
    let message = text
        .lines()
        .find_map(|l| l.strip_prefix("docker: Error response from daemon: "))
        .unwrap_or_default();
    let core = message
        .rsplit("unable to start container process: ")
        .next()
        .unwrap_or(message);
    core.trim_end_matches(": unknown").trim().to_owned()
}

/// Reads scenario lines until `marker`; panics with the logs if the scenario ends first.
fn wait_for_line(lines: &mut impl Iterator<Item = String>, marker: &str, cluster: &Cluster) {
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        if line.contains(marker) {
            return;
        }
        seen.push(line);
    }
    panic!(
        "scenario ended before {marker}: {seen:#?}\n{}",
        cluster.logs()
    );
}

#[test]
fn bridge_and_host_networks_volumes_parameters_and_statistics() {
    let _serial = one_at_a_time();
    let Some(docker) = docker_or_skip("bridge_and_host_networks_volumes_parameters_and_statistics")
    else {
        return;
    };
    let (bridge_port, host_port) = (free_port(), free_port());
    let resources = format!(
        "cpus:2;mem:2048;disk:10240;ports:[{bridge_port}-{bridge_port},{host_port}-{host_port}]"
    );
    let cluster = Cluster::start_with(&options(&resources, &[]));
    let network = DockerNetwork::create(&format!("meseta-test-{}", std::process::id()));
    let _cleanup = RemoveContainersUnder(cluster.dir.path().to_owned());
    let www = cluster.dir.path().join("www");
    std::fs::create_dir_all(&www).expect("www");
    std::fs::write(www.join("index.html"), "hello-from-volume\n").expect("index");
    let env = [
        ("MESETA_DOCKER_PORTS", format!("{bridge_port},{host_port}")),
        ("MESETA_DOCKER_WWW", www.display().to_string()),
        ("MESETA_DOCKER_NETWORK", network.0.clone()),
    ];
    let mut sched = scenario(&cluster, "docker_network", 90, &env)
        .stdin(Stdio::piped())
        .spawn()
        .expect("scenario");
    let stdout = sched.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    wait_for_line(&mut lines, "\"all_running\"", &cluster);

    for port in [bridge_port, host_port] {
        let served = eventually(15, || {
            http("GET", port, "/index.html", None)
                .is_ok_and(|(s, body)| s == 200 && body.contains("hello-from-volume"))
        });
        assert!(
            served,
            "nothing served on host port {port}\n{}",
            cluster.logs()
        );
    }
    let (bridge_id, bridge_sandbox) = executor(cluster.agent_port, "dbridge");
    let c = inspect_json(&format!("mesos-{bridge_id}")).expect("bridge container");
    let host_config = &c["HostConfig"];
    assert_eq!(host_config["NetworkMode"], "bridge");
    assert_eq!(host_config["Memory"], 64 << 20, "mem resource → --memory");
    assert_eq!(c["Config"]["Labels"]["meseta.test"], "bridge");
    let binds: Vec<String> = serde_json::from_value(host_config["Binds"].clone()).expect("binds");
    assert!(
        binds.contains(&format!("{}:/www:ro", www.display())),
        "{binds:?}"
    );
    assert!(stdout_of(&bridge_sandbox).contains("FROM_PARAM=yes"));
    let (user_id, _) = executor(cluster.agent_port, "duser");
    let u = inspect_json(&format!("mesos-{user_id}")).expect("user-network container");
    assert_eq!(u["HostConfig"]["NetworkMode"], network.0.as_str());
    let (host_id, _) = executor(cluster.agent_port, "dhost");
    let h = inspect_json(&format!("mesos-{host_id}")).expect("host container");
    assert_eq!(h["HostConfig"]["NetworkMode"], "host");

    // /monitor/statistics reads the docker container's own cgroup (httpd's few hundred KB),
    // not the executor's: its rss matches the docker cgroup's `total_rss` (cgroup v1 here).
    let docker_cgroup = format!(
        "/sys/fs/cgroup/memory/docker/{}/memory.stat",
        c["Id"].as_str().unwrap_or_default()
    );
    let cgroup_rss = || -> Option<u64> {
        let text = std::fs::read_to_string(&docker_cgroup).ok()?;
        let line = text.lines().find(|l| l.starts_with("total_rss "))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let mut last = serde_json::Value::Null;
    let matches_docker_cgroup = eventually(10, || {
        let stats = get_json(cluster.agent_port, "/monitor/statistics");
        let rss = stats
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["executor_id"] == "dbridge")
            .and_then(|s| s["statistics"]["mem_rss_bytes"].as_u64());
        last = stats;
        matches!((rss, cgroup_rss()), (Some(a), Some(b)) if a > 0 && a.abs_diff(b) <= b / 10)
    });
    assert!(
        matches_docker_cgroup || !std::path::Path::new(&docker_cgroup).exists(),
        "statistics {last} vs docker cgroup rss {:?}",
        cgroup_rss()
    );

    drop(sched.stdin.take()); // the scenario kills both tasks now
    let rest: Vec<String> = lines.collect();
    let status = sched.wait().expect("scenario exit");
    assert!(status.success(), "{rest:#?}\n{}", cluster.logs());
    for id in [bridge_id, host_id] {
        assert!(
            !running(&docker, &format!("mesos-{id}")),
            "mesos-{id} still runs"
        );
    }
}

#[test]
fn docker_task_fails_clearly_without_dockerd_or_the_docker_containerizer() {
    let _serial = one_at_a_time();
    if docker_or_skip("docker_task_fails_clearly_without_dockerd_or_the_docker_containerizer")
        .is_none()
    {
        return;
    }
    let missing = tempfile::tempdir().expect("tempdir");
    let socket = missing.path().join("no-dockerd.sock");
    let unreachable = options(
        RESOURCES,
        &[&format!("--docker_socket={}", socket.display())],
    );
    let cases: [(ClusterOptions, String); 2] = [
        (
            unreachable,
            format!(
                "Docker is not available: cannot connect to the Docker daemon at unix://{}",
                socket.display()
            ),
        ),
        (
            ClusterOptions::new(RESOURCES),
            "the docker containerizer is not enabled on this agent (--containerizers=mesos)".into(),
        ),
    ];
    for (opts, message) in cases {
        let cluster = Cluster::start_with(&opts);
        let started = Instant::now();
        run_scenario(
            &cluster,
            "docker_unavailable",
            &[("MESETA_EXPECT_MESSAGE", message)],
        );
        let took = started.elapsed();
        assert!(
            took.as_secs() < 30,
            "took {took:?}: a hang, not a quick TASK_FAILED"
        );
    }
}

#[test]
fn the_docker_executor_authenticates_with_its_token() {
    let _serial = one_at_a_time();
    if docker_or_skip("the_docker_executor_authenticates_with_its_token").is_none() {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("jwt.key");
    std::fs::write(&key, "docker executor key").unwrap();
    let key_flag = format!("--jwt_secret_key={}", key.display());
    let flags = ["--authenticate_http_executors", key_flag.as_str()];
    let cluster = Cluster::start_with(&options(RESOURCES, &flags));
    let _cleanup = RemoveContainersUnder(cluster.dir.path().to_owned());
    // The image is already loaded: the task runs at once, and ends TASK_FINISHED only if
    // every executor call carried the executor's token.
    run_scenario(&cluster, "docker_pull", &[]);
    let out = stdout_of(&executor(cluster.agent_port, "dpullauth").1);
    assert!(out.contains("pulled-with-credentials"), "{out}");
}
