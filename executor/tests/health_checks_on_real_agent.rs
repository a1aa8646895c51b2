#![allow(clippy::tests_outside_test_module)]
//! Mesos-native health checks of the command executor, with the real master and agent: a
//! passing MESOS_HTTP check (busybox httpd in the task) and a passing COMMAND check report
//! `healthy: true`; a failing TCP check (nothing listens) and a failing MESOS_HTTP check (the
//! server answers 404) report `healthy: false` and get their tasks killed (TASK_KILLED,
//! `healthy: false`, REASON_TASK_HEALTH_CHECK_STATUS_UPDATED).

use std::collections::HashMap;
use std::time::Duration;

use meseta_api::{
    CheckType, CommandInfo, FrameworkInfo, HealthCheck, HttpCheckInfo, Reason, TaskInfo, TaskState,
    TaskStatus, TcpCheckInfo,
};
use meseta_scheduler::{command_task, scalar, Config, Event};
use meseta_tests::{free_port, Cluster};

fn check(r#type: CheckType) -> HealthCheck {
    HealthCheck {
        r#type: Some(r#type),
        delay_seconds: Some(0.0),
        interval_seconds: Some(0.5),
        timeout_seconds: Some(2.0),
        grace_period_seconds: Some(0.0),
        consecutive_failures: Some(2),
        ..HealthCheck::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_report_health_and_kill_unhealthy_tasks() {
    let cluster = Cluster::start("cpus:2;mem:1024");
    let framework = FrameworkInfo {
        user: "root".into(),
        name: "health-checks".into(),
        ..FrameworkInfo::default()
    };
    let config = Config::new(format!("127.0.0.1:{}", cluster.master_port), framework);
    let (sched, mut events) = meseta_scheduler::start(config).expect("start");

    let (port, port_404) = (free_port(), free_port());
    let tasks = move |offer: &meseta_api::Offer| -> Vec<TaskInfo> {
        let mut web_404 = command_task(
            "web-404",
            offer,
            &format!("exec busybox httpd -f -p 127.0.0.1:{port_404} -h ."),
            0.1,
            32.0,
        );
        web_404.health_check = Some(HealthCheck {
            http: Some(HttpCheckInfo {
                port: u32::from(port_404),
                path: Some("/missing".into()),
                ..HttpCheckInfo::default()
            }),
            // Failures only count once the server had time to start.
            grace_period_seconds: Some(1.0),
            ..check(CheckType::Http)
        });
        let mut web = command_task(
            "web",
            offer,
            &format!("echo ok > index.html && exec busybox httpd -f -p 127.0.0.1:{port} -h ."),
            0.1,
            32.0,
        );
        web.health_check = Some(HealthCheck {
            grace_period_seconds: Some(10.0),
            http: Some(HttpCheckInfo {
                port: u32::from(port),
                path: Some("/index.html".into()),
                ..HttpCheckInfo::default()
            }),
            ..check(CheckType::Http)
        });
        let mut dead = command_task("dead-port", offer, "sleep 600", 0.1, 32.0);
        dead.health_check = Some(HealthCheck {
            tcp: Some(TcpCheckInfo {
                port: u32::from(free_port()),
                ..TcpCheckInfo::default()
            }),
            ..check(CheckType::Tcp)
        });
        let mut cmd = command_task("cmd", offer, "sleep 600", 0.1, 32.0);
        cmd.health_check = Some(HealthCheck {
            command: Some(CommandInfo::shell("test -d /proc")),
            ..check(CheckType::Command)
        });
        vec![web, dead, cmd, web_404]
    };

    let mut launched = false;
    let mut updates: HashMap<String, Vec<TaskStatus>> = HashMap::new();
    let done = |u: &HashMap<String, Vec<TaskStatus>>| {
        let healthy = |id: &str| {
            u.get(id)
                .is_some_and(|s| s.iter().any(|s| s.healthy == Some(true)))
        };
        let killed = |id: &str| {
            u.get(id)
                .is_some_and(|s| s.iter().any(|s| s.state.is_terminal()))
        };
        healthy("web") && healthy("cmd") && killed("dead-port") && killed("web-404")
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done(&updates) {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out: {updates:#?}\n{}", cluster.logs()))
            .expect("driver stopped");
        match event {
            Event::Offers(offers) if !launched => {
                let offer = offers
                    .into_iter()
                    .find(|o| scalar(o, "cpus") >= 0.4)
                    .expect("an offer");
                sched
                    .launch(&offer.id, tasks(&offer))
                    .await
                    .expect("ACCEPT");
                launched = true;
            }
            Event::Update(st) => {
                let id = st.task_id.value.clone();
                updates.entry(id).or_default().push(st);
            }
            _ => {}
        }
    }

    // Health updates are TASK_RUNNING with the health reason.
    for id in ["web", "cmd"] {
        let healthy = updates[id]
            .iter()
            .find(|s| s.healthy == Some(true))
            .unwrap();
        assert_eq!(healthy.state, TaskState::Running, "{healthy:?}");
        assert_eq!(healthy.reason, Some(Reason::TaskHealthCheckStatusUpdated));
        assert!(
            updates[id].iter().all(|s| s.healthy != Some(false)),
            "{id}: {:#?}",
            updates[id]
        );
    }
    // The failing checks: unhealthy updates (one per failure), then the kill.
    for id in ["dead-port", "web-404"] {
        let sick = &updates[id];
        let unhealthy: Vec<_> = sick
            .iter()
            .filter(|s| s.state == TaskState::Running && s.healthy == Some(false))
            .collect();
        assert_eq!(unhealthy.len(), 2, "{id}: {sick:#?}");
        assert!(unhealthy
            .iter()
            .all(|s| s.reason == Some(Reason::TaskHealthCheckStatusUpdated)));
        assert!(
            sick.iter().all(|s| s.healthy != Some(true)),
            "{id}: {sick:#?}"
        );
        let last = sick.last().unwrap();
        assert_eq!(last.state, TaskState::Killed, "{id}: {last:?}");
        assert_eq!(last.healthy, Some(false));
        assert_eq!(last.reason, Some(Reason::TaskHealthCheckStatusUpdated));
    }
    sched.teardown().await.expect("TEARDOWN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_checks_of_an_image_task_run_inside_the_image() {
    use meseta_api::{ContainerInfo, ContainerType, DockerImage, Image, ImageType, MesosInfo};
    use meseta_tests::{images, ClusterOptions};

    // A directory registry with busybox:latest, whose image has /etc/keep (the host has not).
    let registry = tempfile::tempdir().unwrap();
    std::fs::write(
        registry.path().join("busybox:latest.tar"),
        images::docker_save(&images::layers(), false),
    )
    .unwrap();
    assert!(!std::path::Path::new("/etc/keep").exists());
    let mut opts = ClusterOptions::new("cpus:2;mem:1024");
    opts.isolation = "cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime".into();
    opts.agent_args = vec![
        "--image_providers=docker".into(),
        format!("--docker_registry={}", registry.path().display()),
    ];
    let cluster = Cluster::start_with(&opts);
    let framework = FrameworkInfo {
        user: "root".into(),
        name: "image-health".into(),
        ..FrameworkInfo::default()
    };
    let config = Config::new(format!("127.0.0.1:{}", cluster.master_port), framework);
    let (sched, mut events) = meseta_scheduler::start(config).expect("start");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out: {seen:#?}\n{}", cluster.logs()))
            .expect("driver stopped");
        match event {
            Event::Offers(offers) if seen.is_empty() => {
                let offer = &offers[0];
                let mut task =
                    command_task("in-image", offer, "exec /bin/busybox sleep 600", 0.1, 32.0);
                task.container = Some(ContainerInfo {
                    r#type: ContainerType::Mesos,
                    mesos: Some(MesosInfo {
                        image: Some(Image {
                            r#type: ImageType::Docker,
                            docker: Some(DockerImage {
                                name: "busybox".into(),
                                ..DockerImage::default()
                            }),
                            ..Image::default()
                        }),
                    }),
                    ..ContainerInfo::default()
                });
                // Failures while the container starts fall in the grace period.
                task.health_check = Some(HealthCheck {
                    command: Some(CommandInfo::shell("test -f /etc/keep")),
                    grace_period_seconds: Some(20.0),
                    ..check(CheckType::Command)
                });
                sched.launch(&offer.id, vec![task]).await.expect("ACCEPT");
                seen.push(TaskStatus::default());
            }
            Event::Update(st) if st.task_id.value == "in-image" => {
                assert!(!st.state.is_terminal(), "{st:?}\n{}", cluster.logs());
                if st.healthy == Some(false) {
                    let out = std::process::Command::new("sh")
                        .arg("-c")
                        .arg("cat */slaves/*/frameworks/*/executors/in-image/runs/latest/stderr")
                        .current_dir(cluster.dir.path())
                        .output()
                        .unwrap();
                    panic!("{st:?}\n{}", String::from_utf8_lossy(&out.stdout));
                }
                let healthy = st.healthy == Some(true);
                seen.push(st);
                if healthy {
                    break;
                }
            }
            _ => {}
        }
    }
    sched.teardown().await.expect("TEARDOWN");
}
