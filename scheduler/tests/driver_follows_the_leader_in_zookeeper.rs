#![allow(clippy::tests_outside_test_module)]
//! `zk://` detection against a real ZooKeeper and two real `mesos-master`s: each master's
//! `MasterInfo` is published under the election path by a `meseta-zk` contender (what an
//! elected master writes); the driver subscribes to the leader and, when the leadership moves,
//! re-subscribes to the new leader with its framework id.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meseta_api::{Address, FrameworkInfo, MasterInfo};
use meseta_scheduler::{Config, Event, Events, MasterAddr};
use meseta_tests::zookeeper::{available_or_skip, ZooKeeper};
use meseta_tests::{bin, free_port, http, wait_until};
use meseta_zk::{Contender, ZkUrl, DEFAULT_SESSION_TIMEOUT, MASTER_LABEL};

struct Master {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Master {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(bin("mesos-master"))
            .args(["--ip=127.0.0.1", &format!("--port={port}")])
            .arg(format!("--work_dir={}", dir.path().display()))
            .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        assert!(wait_until(Duration::from_secs(20), || http(
            "GET", port, "/health", None
        )
        .is_ok_and(|(s, _)| s == 200)));
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// Publishes this master under `url` as a master does when it contends.
    fn contend(&self, url: &str) -> Contender {
        let info = MasterInfo {
            id: format!("master-{}", self.port),
            ip: MasterInfo::encode_ip(std::net::Ipv4Addr::LOCALHOST),
            port: u32::from(self.port),
            hostname: Some("localhost".into()),
            address: Some(Address {
                hostname: Some("localhost".into()),
                ip: Some("127.0.0.1".into()),
                port: i32::from(self.port),
            }),
            ..MasterInfo::default()
        };
        let url = ZkUrl::parse_or_read(url).unwrap();
        let data = meseta_zk::master_info::encode(&info);
        Contender::spawn(url, DEFAULT_SESSION_TIMEOUT, MASTER_LABEL, data)
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn subscribed(events: &mut Events) -> (String, MasterAddr) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("no SUBSCRIBED in time")
            .expect("driver stopped");
        if let Event::Subscribed {
            framework_id,
            master,
            ..
        } = event
        {
            return (framework_id.value, master);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribes_to_the_leader_and_follows_a_new_one() {
    if !available_or_skip("subscribes_to_the_leader_and_follows_a_new_one") {
        return;
    }
    let zk = ZooKeeper::shared();
    let url = zk.url(&ZooKeeper::unique_path("driver"));
    let (first, second) = (Master::start(), Master::start());
    let first_contender = first.contend(&url);

    let framework = FrameworkInfo {
        user: "root".into(),
        name: "driver-zk".into(),
        failover_timeout: Some(3600.0),
        ..FrameworkInfo::default()
    };
    let mut config = Config::new(url.clone(), framework);
    config.backoff_min = Duration::from_millis(100);
    let (sched, mut events) = meseta_scheduler::start(config).expect("start");
    let (framework_id, master) = subscribed(&mut events).await;
    assert_eq!(master, MasterAddr::new("127.0.0.1", first.port));

    // The second master joins as a candidate, then the first one leaves the election.
    let second_contender = second.contend(&url);
    first_contender.withdraw().await;
    let (again, master) = subscribed(&mut events).await;
    assert_eq!(master, MasterAddr::new("127.0.0.1", second.port));
    assert_eq!(again, framework_id, "re-subscribed under another id");
    assert_eq!(sched.master(), Some(master));
    sched.teardown().await.expect("TEARDOWN");
    drop(second_contender);
}
