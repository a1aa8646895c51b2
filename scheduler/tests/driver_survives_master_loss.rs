#![allow(clippy::tests_outside_test_module)]
//! Reconnection against the real binaries: the master is `kill -9`ed and restarted on the
//! same port and work dir, and the driver re-subscribes with its framework id and keeps its
//! task; a stopped (SIGSTOP) master sends no heartbeats, and the watchdog notices.

#[allow(dead_code)]
#[path = "../../agent/tests/fault_rig/cluster.rs"]
mod cluster;

use std::time::Duration;

use cluster::Rig;
use meseta_api::{FrameworkInfo, Source, TaskState};
use meseta_scheduler::{command_task, scalar, Config, Event, Events, Scheduler};
use meseta_tests::{get_json, root_or_skip};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn config(master_port: u16, name: &str) -> Config {
    let framework = FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        failover_timeout: Some(3600.0),
        checkpoint: Some(true),
        ..FrameworkInfo::default()
    };
    let mut config = Config::new(format!("127.0.0.1:{master_port}"), framework);
    config.backoff_min = Duration::from_millis(200);
    config.backoff_max = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(2);
    config
}

async fn next(events: &mut Events, secs: u64) -> Event {
    tokio::time::timeout(Duration::from_secs(secs), events.recv())
        .await
        .expect("no event in time")
        .expect("the driver stopped")
}

/// Skips events until `pick` accepts one.
async fn wait_for<T>(
    events: &mut Events,
    secs: u64,
    mut pick: impl FnMut(Event) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = tokio::time::timeout(left, events.recv())
            .await
            .expect("the awaited event did not come")
            .expect("the driver stopped");
        if let Some(t) = pick(event) {
            return t;
        }
    }
}

async fn launch_running(sched: &Scheduler, events: &mut Events, id: &str) {
    let offer = wait_for(events, 20, |e| match e {
        Event::Offers(o) => o.into_iter().find(|o| scalar(o, "cpus") >= 0.1),
        _ => None,
    })
    .await;
    let task = command_task(id, &offer, "sleep 600", 0.1, 32.0);
    sched.launch(&offer.id, vec![task]).await.expect("ACCEPT");
    wait_for(events, 30, |e| match e {
        Event::Update(st) if st.task_id.value == id => {
            assert!(!st.state.is_terminal(), "{st:?}");
            (st.state == TaskState::Running).then_some(())
        }
        _ => None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribes_with_its_id_after_the_master_is_killed_and_keeps_its_task() {
    if !root_or_skip("resubscribes_with_its_id_after_the_master_is_killed_and_keeps_its_task") {
        return;
    }
    let mut rig = Rig::new();
    rig.start_cluster();
    let (sched, mut events) =
        meseta_scheduler::start(config(rig.master_port, "driver-failover")).expect("start");
    let Event::Subscribed { framework_id, .. } = next(&mut events, 20).await else {
        panic!("not subscribed")
    };
    launch_running(&sched, &mut events, "survivor").await;

    rig.stop_master();
    let reason = wait_for(&mut events, 10, |e| match e {
        Event::Disconnected { reason } => Some(reason),
        _ => None,
    })
    .await;
    assert!(!sched.is_subscribed(), "still subscribed after: {reason}");
    assert!(matches!(
        sched.reconcile_all().await,
        Err(meseta_scheduler::Error::NotSubscribed)
    ));

    rig.start_master();
    let again = wait_for(&mut events, 30, |e| match e {
        Event::Subscribed { framework_id, .. } => Some(framework_id),
        _ => None,
    })
    .await;
    assert_eq!(again, framework_id, "re-subscribed under another id");

    // Once the agent is back, the master knows the task again: implicit reconciliation
    // answers RUNNING (the agent may need a few seconds to re-register).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        sched.reconcile_all().await.expect("RECONCILE");
        let answer = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                if let Some(Event::Update(st)) = events.recv().await {
                    if st.task_id.value == "survivor" && st.source == Some(Source::Master) {
                        return st.state;
                    }
                }
            }
        })
        .await;
        if answer == Ok(TaskState::Running) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no RUNNING answer: {answer:?}\n{}",
            rig.agent_log()
        );
    }
    let state = get_json(rig.master_port, "/state");
    assert_eq!(state["frameworks"][0]["id"], framework_id.value.as_str());
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
    sched.teardown().await.expect("TEARDOWN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_master_is_detected_by_the_heartbeat_watchdog() {
    let mut rig = Rig::new();
    rig.start_master();
    let pid = Pid::from_raw(i32::try_from(rig.master_pid().unwrap()).unwrap());
    let mut config = config(rig.master_port, "driver-watchdog");
    config.heartbeat_timeout = Some(Duration::from_secs(2));
    let (sched, mut events) = meseta_scheduler::start(config).expect("start");
    let Event::Subscribed { framework_id, .. } = next(&mut events, 20).await else {
        panic!("not subscribed")
    };

    // A stopped process keeps its sockets open: only the silence tells.
    kill(pid, Signal::SIGSTOP).unwrap();
    let stopped_at = tokio::time::Instant::now();
    let reason = wait_for(&mut events, 10, |e| match e {
        Event::Disconnected { reason } => Some(reason),
        _ => None,
    })
    .await;
    kill(pid, Signal::SIGCONT).unwrap();
    let waited = stopped_at.elapsed();
    assert!(reason.contains("heartbeats missed"), "{reason}");
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(6),
        "noticed after {waited:?}"
    );
    let again = wait_for(&mut events, 30, |e| match e {
        Event::Subscribed { framework_id, .. } => Some(framework_id),
        _ => None,
    })
    .await;
    assert_eq!(again, framework_id);
    assert!(sched.is_subscribed());
    sched.teardown().await.expect("TEARDOWN");
}
