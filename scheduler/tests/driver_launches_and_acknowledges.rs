#![allow(clippy::tests_outside_test_module)]
//! The driver against the real `mesos-master` and `mesos-agent`: subscribe, launch a command
//! task, see its updates (implicitly and explicitly acknowledged), kill, reconcile, teardown.

use std::time::Duration;

use meseta_api::{FrameworkInfo, TaskId, TaskState, TaskStatus};
use meseta_scheduler::{command_task, scalar, Config, Event, Events, Scheduler};
use meseta_tests::{get_json, wait_until, Cluster};

fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        failover_timeout: Some(3600.0),
        checkpoint: Some(true),
        ..FrameworkInfo::default()
    }
}

async fn next(events: &mut Events, secs: u64) -> Event {
    tokio::time::timeout(Duration::from_secs(secs), events.recv())
        .await
        .expect("no event in time")
        .expect("the driver stopped")
}

/// Launches `command` as task `id` on the next fitting offer.
async fn launch(sched: &Scheduler, events: &mut Events, id: &str, command: &str) {
    loop {
        if let Event::Offers(offers) = next(events, 20).await {
            let offer = offers
                .into_iter()
                .find(|o| scalar(o, "cpus") >= 0.1 && scalar(o, "mem") >= 32.0)
                .expect("an offer with 0.1 cpus and 32 MB");
            let task = command_task(id, &offer, command, 0.1, 32.0);
            sched.launch(&offer.id, vec![task]).await.expect("ACCEPT");
            return;
        }
    }
}

/// The next update of `id`.
async fn update_of(events: &mut Events, id: &str) -> TaskStatus {
    loop {
        if let Event::Update(status) = next(events, 30).await {
            if status.task_id.value == id {
                return status;
            }
        }
    }
}

/// Every update of `id` within `window`.
async fn updates_for(events: &mut Events, id: &str, window: Duration) -> Vec<TaskStatus> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, events.recv()).await {
        if let Event::Update(st) = ev {
            if st.task_id.value == id {
                out.push(st);
            }
        }
    }
    out
}

async fn until_state(events: &mut Events, id: &str, state: TaskState) -> TaskStatus {
    loop {
        let status = update_of(events, id).await;
        if status.state == state {
            return status;
        }
        assert!(
            !status.state.is_terminal(),
            "{id} ended {:?}: {:?}",
            status.state,
            status.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribes_launches_kills_and_reconciles() {
    let cluster = Cluster::start("cpus:2;mem:1024");
    let master = format!("127.0.0.1:{}", cluster.master_port);
    let (sched, mut events) =
        meseta_scheduler::start(Config::new(master, framework("driver-e2e"))).expect("start");

    let Event::Subscribed {
        framework_id,
        master_info,
        heartbeat_interval,
        ..
    } = next(&mut events, 20).await
    else {
        panic!("first event is not SUBSCRIBED")
    };
    assert_eq!(sched.framework_id(), Some(framework_id.clone()));
    assert_eq!(
        master_info.expect("master_info").port,
        u32::from(cluster.master_port)
    );
    assert_eq!(heartbeat_interval, Some(Duration::from_secs(15)));

    launch(&sched, &mut events, "sleeper", "sleep 600").await;
    let running = until_state(&mut events, "sleeper", TaskState::Running).await;
    assert!(running.uuid.is_some(), "agent updates carry a uuid");

    // Implicit acknowledgements: the agent forgets acknowledged updates.
    let acked = wait_until(Duration::from_secs(10), || {
        let state = get_json(cluster.agent_port, "/state");
        state["frameworks"][0]["executors"][0]["tasks"][0]["state"] == "TASK_RUNNING"
    });
    assert!(acked, "{}", cluster.logs());
    let resent = updates_for(&mut events, "sleeper", Duration::from_secs(5)).await;
    assert!(
        resent.is_empty(),
        "implicitly acknowledged updates re-sent: {resent:?}"
    );

    // Explicit reconciliation: one MASTER-sourced answer, without a uuid.
    sched
        .reconcile([(TaskId::new("sleeper"), running.agent_id.clone())])
        .await
        .expect("RECONCILE");
    let answer = update_of(&mut events, "sleeper").await;
    assert_eq!(answer.state, TaskState::Running);
    assert!(answer.uuid.is_none());
    // Implicit reconciliation: every task.
    sched.reconcile_all().await.expect("RECONCILE all");
    assert_eq!(
        update_of(&mut events, "sleeper").await.state,
        TaskState::Running
    );

    sched
        .kill(TaskId::new("sleeper"), running.agent_id.clone())
        .await
        .expect("KILL");
    until_state(&mut events, "sleeper", TaskState::Killed).await;

    sched.teardown().await.expect("TEARDOWN");
    assert!(!sched.is_subscribed());
    // The channel ends once the driver stopped.
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while events.recv().await.is_some() {}
    })
    .await;
    assert!(end.is_ok(), "the event channel did not end after TEARDOWN");
    let state = get_json(cluster.master_port, "/state");
    assert_eq!(state["frameworks"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        state["completed_frameworks"][0]["id"],
        framework_id.value.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_acknowledgements_are_left_to_the_framework() {
    let cluster = Cluster::start("cpus:2;mem:1024");
    let mut config = Config::new(
        format!("127.0.0.1:{}", cluster.master_port),
        framework("driver-explicit-acks"),
    );
    config.implicit_acknowledgements = false;
    let (sched, mut events) = meseta_scheduler::start(config).expect("start");
    launch(&sched, &mut events, "t", "sleep 600").await;
    // Unacknowledged, the agent re-sends an update (every 2 s) until it is acknowledged.
    let mut seen: Vec<TaskStatus> = Vec::new();
    loop {
        let st = update_of(&mut events, "t").await;
        assert!(st.uuid.is_some() && !st.state.is_terminal(), "{st:?}");
        if seen.iter().any(|s| s.uuid == st.uuid) {
            break;
        }
        seen.push(st);
    }
    for st in &seen {
        sched.acknowledge(st).await.expect("ACKNOWLEDGE");
    }
    // Until RUNNING, acknowledging each new update; then nothing is re-sent.
    while !seen.iter().any(|s| s.state == TaskState::Running) {
        let st = update_of(&mut events, "t").await;
        sched.acknowledge(&st).await.expect("ACKNOWLEDGE");
        seen.push(st);
    }
    // Resends already under way when the acknowledgements went out may still arrive.
    updates_for(&mut events, "t", Duration::from_secs(1)).await;
    let late = updates_for(&mut events, "t", Duration::from_secs(5)).await;
    let repeated: Vec<_> = late
        .iter()
        .filter(|l| seen.iter().any(|s| s.uuid == l.uuid))
        .collect();
    assert!(
        repeated.is_empty(),
        "acknowledged updates re-sent: {repeated:?}"
    );
    // An update without a uuid needs no acknowledgement.
    let mut no_uuid = seen[0].clone();
    no_uuid.uuid = None;
    sched.acknowledge(&no_uuid).await.expect("no-op");
    sched.teardown().await.expect("TEARDOWN");
}
