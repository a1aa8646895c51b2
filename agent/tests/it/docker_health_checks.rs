//! Mesos-native health checks of the docker executor, with the real master, agent and
//! dockerd: a MESOS_HTTP check of a BRIDGE container (busybox httpd on its container port,
//! probed at the container's address) reports `healthy: true`; a failing COMMAND check (run
//! inside the container with `docker exec`) reports `healthy: false` and the container is
//! stopped (TASK_KILLED, `healthy: false`).

use std::collections::HashMap;
use std::time::Duration;

use crate::docker_common::{
    docker_or_skip, one_at_a_time, options, RemoveContainersUnder, IMAGE, RESOURCES,
};
use meseta_api::{
    CheckType, CommandInfo, ContainerInfo, ContainerType, DockerInfo, DockerNetwork, FrameworkInfo,
    HealthCheck, HttpCheckInfo, Offer, Reason, TaskInfo, TaskState, TaskStatus,
};
use meseta_scheduler::{command_task, scalar, BlockingScheduler, Config, Event};
use meseta_tests::Cluster;

fn docker_task(id: &str, offer: &Offer, command: &str, check: HealthCheck) -> TaskInfo {
    let mut task = command_task(id, offer, command, 0.1, 64.0);
    task.container = Some(ContainerInfo {
        r#type: ContainerType::Docker,
        docker: Some(DockerInfo {
            image: IMAGE.into(),
            network: Some(DockerNetwork::Bridge),
            ..DockerInfo::default()
        }),
        ..ContainerInfo::default()
    });
    task.health_check = Some(HealthCheck {
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.5),
        timeout_seconds: Some(3.0),
        grace_period_seconds: Some(0.0),
        consecutive_failures: Some(2),
        ..check
    });
    task
}

#[test]
fn docker_health_checks_report_health_and_kill_unhealthy_containers() {
    let _serial = one_at_a_time();
    if docker_or_skip("docker_health_checks_report_health_and_kill_unhealthy_containers").is_none()
    {
        return;
    }
    let cluster = Cluster::start_with(&options(RESOURCES, &["--docker_stop_timeout=2secs"]));
    let _cleanup = RemoveContainersUnder(cluster.dir.path().to_owned());
    let framework = FrameworkInfo {
        user: "root".into(),
        name: "docker-health".into(),
        ..FrameworkInfo::default()
    };
    let config = Config::new(format!("127.0.0.1:{}", cluster.master_port), framework);
    let (mut sched, _) =
        BlockingScheduler::connect(config, Duration::from_secs(20)).expect("subscribe");

    let web_check = HealthCheck {
        r#type: Some(CheckType::Http),
        grace_period_seconds: Some(20.0),
        http: Some(HttpCheckInfo {
            port: 8080,
            path: Some("/index.html".into()),
            ..HttpCheckInfo::default()
        }),
        ..HealthCheck::default()
    };
    let failing_check = HealthCheck {
        r#type: Some(CheckType::Command),
        command: Some(CommandInfo::shell("test -f /tmp/never")),
        ..HealthCheck::default()
    };
    let mut launched = false;
    let mut updates: HashMap<String, Vec<TaskStatus>> = HashMap::new();
    let done = |u: &HashMap<String, Vec<TaskStatus>>| {
        let web = u
            .get("dweb")
            .is_some_and(|s| s.iter().any(|s| s.healthy == Some(true)));
        let sick = u
            .get("dsick")
            .is_some_and(|s| s.iter().any(|s| s.state.is_terminal()));
        web && sick
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while !done(&updates) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Some((_, event)) = sched.next_event(left).expect("driver stopped") else {
            panic!("timed out: {updates:#?}\n{}", cluster.logs())
        };
        match event {
            Event::Offers(offers) if !launched => {
                let offer = offers
                    .into_iter()
                    .find(|o| scalar(o, "cpus") >= 0.2)
                    .expect("an offer");
                let web = docker_task(
                    "dweb",
                    &offer,
                    "echo ok > /tmp/index.html && exec httpd -f -p 8080 -h /tmp",
                    web_check.clone(),
                );
                let sick = docker_task("dsick", &offer, "exec sleep 600", failing_check.clone());
                let launch = sched.scheduler().launch(&offer.id, vec![web, sick]);
                sched.block_on(launch).expect("ACCEPT");
                launched = true;
            }
            Event::Update(st) => {
                assert!(
                    !(st.task_id.value == "dweb" && st.state.is_terminal()),
                    "{st:?}\n{}",
                    cluster.logs()
                );
                updates
                    .entry(st.task_id.value.clone())
                    .or_default()
                    .push(st);
            }
            _ => {}
        }
    }
    let healthy = updates["dweb"]
        .iter()
        .find(|s| s.healthy == Some(true))
        .unwrap();
    assert_eq!(healthy.state, TaskState::Running);
    assert_eq!(healthy.reason, Some(Reason::TaskHealthCheckStatusUpdated));
    // The health update repeats the container's address, as the first TASK_RUNNING did.
    let address = |s: &TaskStatus| {
        s.container_status
            .as_ref()
            .and_then(|c| c.network_infos.first())
            .and_then(|n| n.ip_addresses.first())
            .and_then(|a| a.ip_address.clone())
    };
    assert!(address(healthy).is_some(), "{healthy:?}");

    let sick = &updates["dsick"];
    let unhealthy = sick
        .iter()
        .filter(|s| s.state == TaskState::Running && s.healthy == Some(false))
        .count();
    assert_eq!(unhealthy, 2, "{sick:#?}");
    let last = sick.last().unwrap();
    assert_eq!(last.state, TaskState::Killed, "{last:?}");
    assert_eq!(last.healthy, Some(false));
    sched
        .block_on(sched.scheduler().teardown())
        .expect("TEARDOWN");
}
