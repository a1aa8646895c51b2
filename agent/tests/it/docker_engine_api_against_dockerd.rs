//! `meseta-docker`'s Engine API client against the real dockerd and a real loopback
//! `docker-registry`: ping/version, pull with progress (and Docker's error passed through),
//! create/start/inspect/wait, stop with a grace period, kill, list by the `mesos-` prefix
//! and remove. Needs root and dockerd.

use std::time::{Duration, Instant};

use crate::docker_common::*;
use meseta_docker::types::{ContainerConfig, HostConfig};
use meseta_docker::DockerError;

#[test]
fn pulls_from_a_loopback_registry_with_progress_and_passes_errors_through() {
    let _serial = one_at_a_time();
    let Some(docker) = docker_or_skip("pulls_from_a_loopback_registry_with_progress") else {
        return;
    };
    let Some(registry) = Registry::start() else {
        panic!("docker-registry is required for this test (scripts/setup.sh installs it)");
    };
    let rt = rt();
    let version = rt.block_on(docker.version()).expect("version");
    assert!(!version.api_version.is_empty(), "{version:?}");
    let image = registry.push_test_image(&format!("meseta/pull-{}:v1", std::process::id()));
    assert!(rt
        .block_on(docker.image_inspect(&image))
        .expect("inspect")
        .is_none());
    let mut statuses = Vec::new();
    let mut progress =
        |line: &meseta_docker::types::ProgressLine| statuses.push(line.status.clone());
    rt.block_on(docker.pull(&image, &mut progress))
        .expect("pull");
    assert!(
        statuses
            .iter()
            .any(|s| s.contains("Pull complete") || s.contains("Downloaded newer image")),
        "{statuses:?}"
    );
    assert!(rt
        .block_on(docker.image_inspect(&image))
        .expect("inspect")
        .is_some());
    let missing = format!("{}/meseta/nothing-here:v1", registry.addr);
    let err = rt.block_on(docker.pull(&missing, &mut |_| {})).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("not found") || text.contains("manifest unknown"),
        "{text}"
    );
    let _ = std::process::Command::new("docker")
        .args(["rmi", &image])
        .output();
}

#[test]
fn container_lifecycle_stop_with_grace_kill_list_and_remove() {
    let _serial = one_at_a_time();
    let Some(docker) = docker_or_skip("container_lifecycle_stop_with_grace_kill_list_and_remove")
    else {
        return;
    };
    let rt = rt();
    let name = format!("mesos-apitest-{}", std::process::id());
    let config = ContainerConfig {
        image: IMAGE.into(),
        entrypoint: Some(vec!["/bin/sh".into()]),
        cmd: Some(vec![
            "-c".into(),
            "trap 'sleep 1; exit 7' TERM; while :; do sleep 0.1; done".into(),
        ]),
        host_config: HostConfig {
            network_mode: Some("none".into()),
            memory: Some(64 << 20),
            ..HostConfig::default()
        },
        ..ContainerConfig::default()
    };
    let id = rt.block_on(docker.create(&name, &config)).expect("create");
    let taken = rt.block_on(docker.create(&name, &config)).unwrap_err();
    assert!(
        matches!(taken, DockerError::Api { status: 409, .. }),
        "{taken}"
    );
    assert!(taken.to_string().contains("is already in use"), "{taken}");
    rt.block_on(docker.start(&name)).expect("start");
    let inspected = rt
        .block_on(docker.inspect(&name))
        .expect("inspect")
        .expect("exists");
    assert_eq!(inspected.id, id);
    assert!(inspected.state.running && inspected.state.pid > 0);
    let listed = rt.block_on(docker.list("mesos-apitest-")).expect("list");
    assert!(listed.iter().any(|c| c.name() == name), "{listed:?}");

    // stop: SIGTERM, the trap takes ~1 s (inside the 5 s grace), exits 7.
    let started = Instant::now();
    rt.block_on(docker.stop(&name, Duration::from_secs(5)))
        .expect("stop");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(rt.block_on(docker.wait(&name)).expect("wait"), 7);
    let stopped = rt
        .block_on(docker.inspect(&name))
        .expect("inspect")
        .expect("exists");
    assert!(!stopped.state.running);
    assert_eq!(stopped.state.exit_code, 7);

    rt.block_on(docker.start(&name)).expect("restart");
    rt.block_on(docker.kill(&name, "KILL")).expect("kill");
    assert_eq!(rt.block_on(docker.wait(&name)).expect("wait"), 137);
    rt.block_on(docker.remove(&name)).expect("remove");
    assert!(rt
        .block_on(docker.inspect(&name))
        .expect("inspect")
        .is_none());
    let gone = rt.block_on(docker.remove(&name)).unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[test]
fn an_unreachable_socket_is_a_clear_connect_error() {
    let _serial = one_at_a_time();
    let rt = rt();
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("none.sock");
    let docker = meseta_docker::Docker::new(&socket);
    let err = rt
        .block_on(docker.ping_within(Duration::from_secs(2)))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "cannot connect to the Docker daemon at unix://{}",
            socket.display()
        )),
        "{text}"
    );
}
