//! `--docker_remove_delay` survives an agent restart: the exited container of a finished
//! DOCKER task whose removal is pending is neither forgotten nor removed at once as an
//! orphan by the restarted agent; it is removed when its delay is up. A real orphan (a
//! `mesos-*` container nobody recorded) is still removed at once. Needs root, dockerd and
//! the workspace binaries.

use std::time::{Duration, Instant};

use crate::docker_common::*;
use meseta_docker::types::{ContainerConfig, HostConfig};
use meseta_tests::Cluster;

const DELAY_SECS: u64 = 6;

#[test]
fn a_pending_docker_removal_is_resumed_after_an_agent_restart() {
    let _serial = one_at_a_time();
    let test = "a_pending_docker_removal_is_resumed_after_an_agent_restart";
    let Some(docker) = docker_or_skip(test) else {
        return;
    };
    let delay = format!("--docker_remove_delay={DELAY_SECS}secs");
    let opts = options(RESOURCES, &[delay.as_str()]);
    let cluster = Cluster::start_with(&opts);
    let _cleanup = RemoveContainersUnder(cluster.dir.path().to_owned());
    let mut run = scenario(&cluster, "docker_pull", 60, &[]);
    let out = run.output().expect("scenario.py");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        cluster.logs()
    );
    let name = format!("mesos-{}", executor(cluster.agent_port, "dpullauth").0);
    let record = cluster
        .dir
        .path()
        .join("agent/meta/docker/removals")
        .join(&name);
    assert!(
        eventually(10, || record.exists()),
        "no pending removal recorded for {name}\n{}",
        cluster.logs()
    );
    let recorded = Instant::now();
    assert!(!running(&docker, &name) && inspect_json(&name).is_some());

    // An orphan: a mesos-* container the agent never recorded (created, never started).
    let orphan = format!("mesos-orphan-rd-{}", std::process::id());
    let config = ContainerConfig {
        image: IMAGE.into(),
        cmd: Some(vec!["true".into()]),
        host_config: HostConfig {
            binds: vec![format!("{}:/owner:ro", cluster.dir.path().display())],
            ..HostConfig::default()
        },
        ..ContainerConfig::default()
    };
    rt().block_on(docker.create(&orphan, &config))
        .expect("create orphan");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(cluster.agent_pid).expect("pid")),
        nix::sys::signal::SIGKILL,
    )
    .expect("kill -9 the agent");
    let _agent = restart_agent(&cluster, &opts, 2);
    assert!(
        eventually(20, || inspect_json(&orphan).is_none()),
        "the orphan was not removed on recovery\n{}",
        cluster.logs()
    );
    let recovered_after = recorded.elapsed();
    assert!(
        recovered_after < Duration::from_secs(DELAY_SECS - 1),
        "recovery took {recovered_after:?}: too slow to tell an early removal apart"
    );
    assert!(
        inspect_json(&name).is_some(),
        "{name} was removed on recovery, {recovered_after:?} into its {DELAY_SECS}s delay"
    );
    let log = std::fs::read_to_string(cluster.dir.path().join("agent2.err")).unwrap_or_default();
    assert!(log.contains("resuming a pending docker removal"), "{log}");

    assert!(
        eventually(DELAY_SECS + 20, || inspect_json(&name).is_none()),
        "{name} was never removed\n{log}"
    );
    let removed_after = recorded.elapsed();
    assert!(
        removed_after >= Duration::from_secs(DELAY_SECS) - Duration::from_millis(500),
        "removed {removed_after:?} after the record, before the {DELAY_SECS}s delay"
    );
    assert!(!record.exists(), "the removal record is left behind");
}
