//! `--master zk://…/mesos`: marathon finds the leading master through its `json.info_`
//! znode (as Mesos frameworks do), subscribes and launches, with the agent following the
//! same ZooKeeper path.

#![allow(clippy::tests_outside_test_module)]

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meseta_tests::zookeeper::ZooKeeper;
use meseta_tests::{bin, bin_dir, free_port, kill_and_remove_cgroups, root_or_skip, zookeeper};
use support::{resources, zk_url, Marathon};

struct Kill(Vec<Child>, String);

impl Drop for Kill {
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
        kill_and_remove_cgroups(&self.1, Duration::from_millis(100));
    }
}

#[test]
fn a_zk_master_url_is_followed() {
    if !root_or_skip("zk_master_url") || !zookeeper::available_or_skip("zk_master_url") {
        return;
    }
    let zk = ZooKeeper::shared();
    let mesos = zk.url(&ZooKeeper::unique_path("mesos"));
    let dir = tempfile::tempdir().unwrap();
    let log = |n: &str| std::fs::File::create(dir.path().join(n)).unwrap();
    let cgroups_root = format!("meseta-marathon-zk-{}", std::process::id());
    let master = Command::new(bin("mesos-master"))
        .args([
            "--ip=127.0.0.1",
            "--hostname=127.0.0.1",
            "--allocation_interval=100ms",
        ])
        .arg(format!("--port={}", free_port()))
        .arg(format!("--work_dir={}", dir.path().join("m").display()))
        .arg(format!("--zk={mesos}"))
        .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
        .stdout(Stdio::null())
        .stderr(log("master.log"))
        .spawn()
        .unwrap();
    let agent = Command::new(bin("mesos-agent"))
        .arg(format!("--master={mesos}"))
        .args([
            "--ip=127.0.0.1",
            "--hostname=127.0.0.1",
            "--isolation=cgroups/cpu,cgroups/mem,namespaces/pid",
        ])
        .arg(format!("--port={}", free_port()))
        .arg(format!("--work_dir={}", dir.path().join("a").display()))
        .arg(format!("--runtime_dir={}", dir.path().join("r").display()))
        .arg(format!("--cgroups_root={cgroups_root}"))
        .arg(format!("--resources={}", resources()))
        .arg(format!("--launcher_dir={}", bin_dir().display()))
        .env("MESETA_AGENT_CONF_DIR", dir.path().join("no-etc"))
        .stdout(Stdio::null())
        .stderr(log("agent.log"))
        .spawn()
        .unwrap();
    let _procs = Kill(vec![master, agent], cgroups_root);
    let m = Marathon::start(
        &mesos,
        &[format!("--zk={}", zk_url("marathon-zkm"))],
        dir.path(),
    );
    m.wait_elected(Duration::from_secs(20));
    let (s, b) = m.call(
        "POST",
        "/v2/apps",
        Some(r#"{"id":"/zk/app","cmd":"sleep 1000","cpus":0.05,"mem":16,"instances":1}"#),
    );
    assert_eq!(s, 201, "{b}");
    m.wait_running("/zk/app", 1, Duration::from_secs(40));
    assert!(m.get("/v2/info").unwrap()["frameworkId"].is_string());
}
