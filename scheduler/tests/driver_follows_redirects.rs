#![allow(clippy::tests_outside_test_module)]
//! A non-leading master answers SUBSCRIBE with `307` and `Location: //leader:port/...`
//! (Mesos' protocol-relative form): the driver follows it to the real `mesos-master`,
//! sending its basic credentials both times. The non-leader is a stand-in that only
//! redirects (until several masters elect through ZooKeeper here).

#[allow(dead_code)]
#[path = "../../agent/tests/fault_rig/cluster.rs"]
mod cluster;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use meseta_api::FrameworkInfo;
use meseta_scheduler::{Config, Credential, Event, MasterAddr};

/// Answers every request with a 307 to `leader`; sends each request's head to the channel.
fn redirector(leader: u16) -> (u16, mpsc::Receiver<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut head = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "" {
                head.push(line.trim().to_string());
                line.clear();
            }
            let _ = tx.send(head);
            let mut conn = conn;
            let _ = write!(
                conn,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: //127.0.0.1:{leader}/api/v1/scheduler\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_a_307_to_the_leading_master_with_credentials() {
    let mut rig = cluster::Rig::new();
    rig.start_master();
    let (port, heads) = redirector(rig.master_port);
    let framework = FrameworkInfo {
        user: "root".into(),
        name: "driver-redirect".into(),
        ..FrameworkInfo::default()
    };
    let mut config = Config::new(format!("127.0.0.1:{port}"), framework);
    config.credential = Some(Credential {
        principal: "ops".into(),
        secret: "s3cret".into(),
    });
    let (sched, mut events) = meseta_scheduler::start(config).expect("start");
    let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("no event")
        .expect("driver stopped");
    let Event::Subscribed { master, .. } = event else {
        panic!("not subscribed: {event:?}")
    };
    assert_eq!(master, MasterAddr::new("127.0.0.1", rig.master_port));
    assert_eq!(sched.master(), Some(master));

    let head = heads.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(head[0], "POST /api/v1/scheduler HTTP/1.1");
    // base64("ops:s3cret")
    assert!(
        head.iter()
            .any(|h| h.eq_ignore_ascii_case("authorization: Basic b3BzOnMzY3JldA==")),
        "{head:?}"
    );
    // The principal defaults to the credential's.
    assert_eq!(sched.framework_info().principal.as_deref(), Some("ops"));
    sched.teardown().await.expect("TEARDOWN");
}

/// Every event until the driver ends (panics if it does not end within 20 s).
async fn all_events(events: &mut meseta_scheduler::Events) -> Vec<Event> {
    let mut seen = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(e) = events.recv().await {
            seen.push(e);
        }
    })
    .await;
    assert!(end.is_ok(), "the driver kept retrying: {seen:?}");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_subscription_ends_the_driver_with_an_error() {
    let mut rig = cluster::Rig::new();
    rig.start_master();
    let master = format!("127.0.0.1:{}", rig.master_port);
    // An invalid role: the master answers 400, which no retry can fix.
    let framework = FrameworkInfo {
        user: "root".into(),
        name: "driver-refused".into(),
        role: Some("bad role".into()),
        ..FrameworkInfo::default()
    };
    let (_sched, mut events) =
        meseta_scheduler::start(Config::new(&master, framework)).expect("start");
    let seen = all_events(&mut events).await;
    assert!(
        matches!(seen.last(), Some(Event::Error(m)) if m.contains("400") && m.contains("role")),
        "{seen:?}"
    );

    // A torn-down framework cannot come back: the master's ERROR event ends the driver.
    let framework = FrameworkInfo {
        user: "root".into(),
        name: "driver-removed".into(),
        ..FrameworkInfo::default()
    };
    let (sched, mut events) =
        meseta_scheduler::start(Config::new(&master, framework.clone())).expect("start");
    let Some(Event::Subscribed { framework_id, .. }) = events.recv().await else {
        panic!("not subscribed")
    };
    sched.teardown().await.expect("TEARDOWN");
    let again = FrameworkInfo {
        id: Some(framework_id),
        ..framework
    };
    let (sched, mut events) = meseta_scheduler::start(Config::new(&master, again)).expect("start");
    let seen = all_events(&mut events).await;
    assert!(
        matches!(seen.last(), Some(Event::Error(m)) if m.contains("removed")),
        "{seen:?}"
    );
    assert!(matches!(
        sched.reconcile_all().await,
        Err(meseta_scheduler::Error::Stopped)
    ));
}
