//! The state machine without Mesos: offers become launches, status updates finish
//! deployments, rolling restarts stay within `upgradeStrategy`, scale-down follows
//! `killSelection`, failures grow the launch delay.

use meseta_api::{Offer, TaskState, TaskStatus};
use serde_json::json;

use super::{Command, Core, Settings};
use crate::events::EventBus;
use crate::model::validate::{app_from_object, parse_object};
use crate::model::PathId;

pub(super) fn core() -> Core {
    let mut c = Core::new(Settings::default(), EventBus::new());
    c.subscribed = true;
    c
}

pub(super) fn offer(n: u32) -> Offer {
    serde_json::from_value(json!({
        "id": {"value": format!("o{n}")}, "framework_id": {"value": "f"}, "agent_id": {"value": "a1"},
        "hostname": "h1",
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 8.0}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 8192.0}},
            {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31099}]}}
        ]
    }))
    .unwrap()
}

fn create(c: &mut Core, def: &str) -> PathId {
    let app = app_from_object(parse_object(def.as_bytes()).unwrap(), &PathId::root()).unwrap();
    let id = PathId::parse(&app.id).unwrap();
    c.create_app(app).unwrap();
    id
}

/// Drains the queued calls: (launched task ids, killed task ids).
pub(super) fn drain(c: &mut Core) -> (Vec<String>, Vec<String>) {
    let (mut l, mut k) = (Vec::new(), Vec::new());
    for cmd in std::mem::take(&mut c.outbox) {
        match cmd {
            Command::Launch { tasks, .. } => l.extend(tasks.into_iter().map(|t| t.task_id.value)),
            Command::Kill { task_id, .. } => k.push(task_id.value),
            _ => {}
        }
    }
    c.pending.clear();
    (l, k)
}

fn update(c: &mut Core, id: &str, state: TaskState) {
    c.handle_status(&TaskStatus::new(meseta_api::TaskId::new(id), state));
}

pub(super) fn run_all(c: &mut Core, ids: &[String]) {
    for t in ids {
        update(c, t, TaskState::Running);
    }
}

#[test]
fn offers_launch_and_running_tasks_finish_the_deployment() {
    let mut c = core();
    create(
        &mut c,
        r#"{"id":"/a","cmd":"sleep 1","cpus":0.5,"mem":64,"instances":3}"#,
    );
    c.handle_offers(vec![offer(1)]);
    let (launched, _) = drain(&mut c);
    assert_eq!(launched.len(), 3);
    assert!(launched.iter().all(|t| t.starts_with("a.")));
    let ports: std::collections::BTreeSet<_> = c.instances.values().map(|i| i.ports[0]).collect();
    assert_eq!(ports.len(), 3, "distinct host ports");
    c.tick();
    assert_eq!(c.deployments.len(), 1, "not done while staging");
    run_all(&mut c, &launched);
    c.tick();
    assert!(c.deployments.is_empty());
}

fn running_app(c: &mut Core, def: &str) -> Vec<String> {
    create(c, def);
    c.handle_offers(vec![offer(1)]);
    let (launched, _) = drain(c);
    run_all(c, &launched);
    c.tick();
    drain(c);
    assert!(c.deployments.is_empty());
    launched
}

#[test]
fn rolling_restart_keeps_full_capacity_when_asked() {
    let mut c = core();
    let old = running_app(
        &mut c,
        r#"{"id":"/r","cmd":"sleep 1","cpus":0.1,"mem":16,"instances":2,
        "upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0.5}}"#,
    );
    c.restart_app(&PathId::parse("/r").unwrap(), false).unwrap();
    c.tick();
    let (_, killed) = drain(&mut c);
    // ceil(2 × 0.5) = 1 must stay ready: one old task goes at once, not two.
    assert_eq!(killed.len(), 1);
    assert!(old.contains(&killed[0]));
    update(&mut c, &killed[0], TaskState::Killed);
    c.handle_offers(vec![offer(2)]);
    let (new, _) = drain(&mut c);
    // Capacity 2 + floor(2 × 0.5) = 3, one old left: two new ones fit.
    assert_eq!(new.len(), 2);
    run_all(&mut c, &new);
    c.tick();
    let (_, killed) = drain(&mut c);
    assert_eq!(
        killed.len(),
        1,
        "the last old task goes once the new ones run"
    );
    update(&mut c, &killed[0], TaskState::Killed);
    c.tick();
    assert!(c.deployments.is_empty());
    assert!(c.instances.keys().all(|t| !old.contains(t)));
}

#[test]
fn restart_without_spare_capacity_kills_one_at_a_time() {
    let mut c = core();
    running_app(
        &mut c,
        r#"{"id":"/s","cmd":"sleep 1","cpus":0.1,"mem":16,"instances":2,
        "upgradeStrategy":{"minimumHealthCapacity":1.0,"maximumOverCapacity":0.0}}"#,
    );
    c.restart_app(&PathId::parse("/s").unwrap(), false).unwrap();
    c.tick();
    let (launched, killed) = drain(&mut c);
    assert_eq!((launched.len(), killed.len()), (0, 1));
    c.tick();
    assert_eq!(
        drain(&mut c).1.len(),
        0,
        "no second kill while the first is pending"
    );
}

#[test]
fn scale_down_kills_the_youngest_first() {
    let mut c = core();
    create(
        &mut c,
        r#"{"id":"/y","cmd":"sleep 1","cpus":0.1,"mem":16,"instances":1}"#,
    );
    c.handle_offers(vec![offer(1)]);
    let (first, _) = drain(&mut c);
    run_all(&mut c, &first);
    c.tick();
    let mut app = c.apps[&PathId::parse("/y").unwrap()].clone();
    app.instances = 2;
    c.update_app(app.clone(), false).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    c.handle_offers(vec![offer(2)]);
    let (second, _) = drain(&mut c);
    run_all(&mut c, &second);
    c.tick();
    drain(&mut c);
    app.instances = 1;
    c.update_app(app, false).unwrap();
    c.tick();
    let (_, killed) = drain(&mut c);
    assert_eq!(killed, second);
}

#[test]
fn failures_delay_relaunch_and_unknown_tasks_are_killed() {
    let mut c = core();
    create(
        &mut c,
        r#"{"id":"/f","cmd":"false","cpus":0.1,"mem":16,"instances":1,"backoffSeconds":30}"#,
    );
    c.handle_offers(vec![offer(1)]);
    let (t, _) = drain(&mut c);
    update(&mut c, &t[0], TaskState::Failed);
    assert!(c.last_failure.contains_key(&PathId::parse("/f").unwrap()));
    c.handle_offers(vec![offer(2)]);
    let (again, _) = drain(&mut c);
    assert!(again.is_empty(), "within the 30 s launch delay");
    update(&mut c, "stranger.1", TaskState::Running);
    let (_, killed) = drain(&mut c);
    assert_eq!(killed, vec!["stranger.1".to_owned()]);
}

#[test]
fn a_stale_retried_update_does_not_move_a_task_backwards() {
    let mut c = core();
    create(
        &mut c,
        r#"{"id":"/s","cmd":"sleep 1","cpus":0.1,"mem":16,"instances":1}"#,
    );
    c.handle_offers(vec![offer(1)]);
    let (launched, _) = drain(&mut c);
    let id = meseta_api::TaskId::new(&launched[0]);
    let at = |state, ts: f64| {
        let mut s = TaskStatus::new(id.clone(), state);
        s.timestamp = Some(ts);
        s
    };
    c.handle_status(&at(TaskState::Starting, 1.0));
    c.handle_status(&at(TaskState::Running, 2.0));
    c.handle_status(&at(TaskState::Starting, 1.0));
    assert_eq!(c.instances[&launched[0]].state, "TASK_RUNNING");
    c.tick();
    assert!(c.deployments.is_empty());
}

#[test]
fn an_offer_declined_for_want_of_tokens_is_revived_when_a_token_returns() {
    let mut c = core();
    c.settings.launch_tokens = 2;
    c.launch_tokens = 2;
    create(
        &mut c,
        r#"{"id":"/t","cmd":"sleep 1","cpus":0.1,"mem":16,"instances":4}"#,
    );
    c.handle_offers(vec![offer(1)]);
    let (launched, _) = drain(&mut c);
    assert_eq!(launched.len(), 2, "two tokens, two launches");
    c.handle_offers(vec![offer(2)]);
    let calls = std::mem::take(&mut c.outbox);
    assert!(
        matches!(&calls[..], [Command::Decline { refuse_seconds, .. }] if *refuse_seconds <= 1.0),
        "{calls:?}"
    );
    assert!(c.token_starved);
    update(&mut c, &launched[0], TaskState::Running);
    assert_eq!(
        c.outbox,
        vec![Command::Revive],
        "the returned token revives at once"
    );
    update(&mut c, &launched[1], TaskState::Running);
    assert_eq!(c.outbox, vec![Command::Revive], "one REVIVE per starvation");
}

#[test]
fn status_changes_and_new_apps_kick_the_periodic_pass() {
    let mut c = core();
    create(
        &mut c,
        r#"{"id":"/k","cmd":"sleep 1","cpus":0.1,"mem":16,"instances":1}"#,
    );
    assert!(c.kick, "a new app wants the pass (REVIVE) now");
    c.tick();
    assert!(!c.kick);
    c.handle_offers(vec![offer(1)]);
    let (launched, _) = drain(&mut c);
    assert!(!c.kick, "a launch alone changes nothing the pass acts on");
    run_all(&mut c, &launched);
    assert!(c.kick, "a running task may finish the deployment");
    c.tick();
    assert!(c.deployments.is_empty());
}
