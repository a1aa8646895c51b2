//! Real `mesos-master` processes on a real ZooKeeper: one leader among three, Mesos's znodes
//! and JSON under the election path and nothing else, 307 from the others, failover on
//! kill -9 and SIGTERM with the registry (agents, reservations, weights, quota) recovered,
//! and bad `--zk` input.

use std::time::{Duration, Instant};

use crate::common::operator::{op, query};
use crate::common::{request, FakeAgent};
use crate::ha::Masters;
use meseta_tests::zookeeper::{available_or_skip, ZooKeeper};
use serde_json::{json, Value};

const ELECT: Duration = Duration::from_secs(20);

fn reserved_cpus(total: &Value, role: &str) -> f64 {
    total
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "cpus" && r["reservations"][0]["role"] == role)
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

/// The election znodes are exactly the live masters' `json.info_` nodes, each holding the
/// MasterInfo JSON Mesos writes (keys sorted, `ip` in Mesos's byte order).
async fn assert_election_nodes(m: &Masters, live: &[usize]) {
    let nodes = m.election_nodes().await;
    assert_eq!(
        nodes.len(),
        live.len(),
        "{:?}",
        nodes.iter().map(|n| &n.0).collect::<Vec<_>>()
    );
    let mut ports = Vec::new();
    for (name, data) in &nodes {
        assert!(name.starts_with("json.info_") && name.len() == 20, "{name}");
        let text = String::from_utf8(data.clone()).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let port = v["port"].as_u64().unwrap();
        let expected = format!(
            r#"{{"address":{{"hostname":"127.0.0.1","ip":"127.0.0.1","port":{port}}},"hostname":"127.0.0.1","id":"{}","ip":16777343,"pid":"master@127.0.0.1:{port}","port":{port},"version":"1.11.0"}}"#,
            v["id"].as_str().unwrap()
        );
        assert_eq!(text, expected);
        ports.push(u16::try_from(port).unwrap());
    }
    for i in live {
        assert!(
            ports.contains(&m.ports[*i]),
            "master {i} has no node: {ports:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_masters_elect_one_and_the_others_redirect_to_it() {
    if !available_or_skip("three_masters_elect_one_and_the_others_redirect_to_it") {
        return;
    }
    let m = Masters::start(ZooKeeper::shared(), 3, &[]);
    let (leader, _) = m.wait_leader(ELECT).await;
    assert_election_nodes(&m, &[0, 1, 2]).await;
    let lport = m.ports[leader];
    let leader_state = m.state(leader).await.unwrap();
    for i in (0..3).filter(|i| *i != leader) {
        let addr = m.addr(i);
        let r = request(addr, "GET", "/master/redirect", &[], b"")
            .await
            .unwrap();
        assert_eq!(r.status, 307);
        assert_eq!(
            r.header("location"),
            Some(format!("//127.0.0.1:{lport}").as_str())
        );
        let r = request(
            addr,
            "POST",
            "/api/v1/scheduler",
            &[("Content-Type", "application/json")],
            b"{}",
        )
        .await
        .unwrap();
        assert_eq!(r.status, 307);
        assert_eq!(
            r.header("location"),
            Some(format!("//127.0.0.1:{lport}/api/v1/scheduler").as_str())
        );
        let r = op(addr, &json!({"type": "GET_AGENTS"})).await;
        assert_eq!(r.status, 307, "{}", r.text());
        assert_eq!(
            r.header("location"),
            Some(format!("//127.0.0.1:{lport}/api/v1").as_str())
        );
        let s = m.state(i).await.unwrap();
        assert_eq!(s["leader"], leader_state["pid"]);
        assert_eq!(s["leader_info"]["id"], leader_state["id"]);
        assert_eq!(s["leader_info"]["port"], lport);
        assert!(s.get("elected_time").is_none());
        assert_ne!(s["id"], leader_state["id"], "every master has its own id");
        let metrics = request(addr, "GET", "/metrics/snapshot", &[], b"")
            .await
            .unwrap()
            .json();
        assert_eq!(metrics["master/elected"], 0.0);
        assert_eq!(
            request(addr, "GET", "/health", &[], b"")
                .await
                .unwrap()
                .status,
            200
        );
    }
    let r = request(m.addr(leader), "GET", "/redirect", &[], b"")
        .await
        .unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("//127.0.0.1:{lport}").as_str())
    );
    assert_eq!(query(m.addr(leader), "GET_HEALTH").await["healthy"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_on_kill9_and_sigterm_keeps_the_registry() {
    if !available_or_skip("failover_on_kill9_and_sigterm_keeps_the_registry") {
        return;
    }
    let mut m = Masters::start(ZooKeeper::shared(), 3, &[]);
    let (first, _) = m.wait_leader(ELECT).await;
    let addr = m.addr(first);
    let agent = FakeAgent::subscribe(addr, None).await.unwrap();
    let agent_id = agent.agent_id.clone();
    let reserve = json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": agent_id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.5},
            "reservations": [{"type": "DYNAMIC", "role": "ops", "principal": "admin"}]}]}});
    assert_eq!(op(addr, &reserve).await.status, 202);
    let weights = json!({"type": "UPDATE_WEIGHTS", "update_weights": {
        "weight_infos": [{"role": "ops", "weight": 3.0}]}});
    assert_eq!(op(addr, &weights).await.status, 200);
    let quota = json!({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
        {"role": "ops", "limits": {"cpus": {"value": 2.0}}}]}});
    assert_eq!(op(addr, &quota).await.status, 200);

    // The registry is in ZooKeeper, one node per agent, beside (not under) the election
    // path, and an operator change is answered only once it is stored there.
    let registry = format!("{}-meseta/registry", m.path);
    let node = m
        .znode(&format!("{registry}/agents/{agent_id}"))
        .await
        .unwrap_or_default();
    let meta = m
        .znode(&format!("{registry}/meta"))
        .await
        .unwrap_or_default();
    let (node, meta) = (
        String::from_utf8_lossy(&node),
        String::from_utf8_lossy(&meta),
    );
    assert!(node.contains("\"ops\""), "{node}");
    assert!(
        meta.contains("\"ops\":3") && meta.contains("\"limits\""),
        "{meta}"
    );
    drop(agent);

    // kill -9: the session expires (2 s), then the next master leads.
    let killed = Instant::now();
    m.signal(first, "KILL");
    let (second, at) = m.wait_leader(ELECT).await;
    let took = at - killed;
    assert!(
        took < Duration::from_secs(8),
        "kill -9 failover took {took:?}"
    );
    let live: Vec<usize> = (0..3).filter(|i| *i != first).collect();
    assert_election_nodes(&m, &live).await;
    let addr = m.addr(second);
    assert_eq!(
        query(addr, "GET_WEIGHTS").await["weight_infos"][0]["weight"],
        3.0
    );
    let q = query(addr, "GET_QUOTA").await;
    assert!(q.to_string().contains("\"ops\""), "{q}");
    // The agent comes back with its id and gets its reservation back.
    let agent = FakeAgent::subscribe(addr, Some(&agent_id)).await.unwrap();
    assert_eq!(agent.agent_id, agent_id);
    let total = query(addr, "GET_AGENTS").await["agents"][0]["total_resources"].clone();
    assert!((reserved_cpus(&total, "ops") - 1.5).abs() < 1e-9, "{total}");
    drop(agent);

    // SIGTERM: the leader leaves the election cleanly; the next serves within a second.
    let stopped = Instant::now();
    m.signal(second, "TERM");
    let (third, at) = m.wait_leader(ELECT).await;
    let took = at - stopped;
    assert!(
        took < Duration::from_secs(1),
        "SIGTERM failover took {took:?}\n{}",
        m.logs()
    );
    assert_eq!(
        query(m.addr(third), "GET_WEIGHTS").await["weight_infos"][0]["weight"],
        3.0
    );
    assert_election_nodes(&m, &[third]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_leader_is_deposed_and_neither_leads_nor_writes() {
    if !available_or_skip("a_paused_leader_is_deposed_and_neither_leads_nor_writes") {
        return;
    }
    let mut m = Masters::start(ZooKeeper::shared(), 2, &[]);
    let (old, _) = m.wait_leader(ELECT).await;
    let other = 1 - old;
    m.signal(old, "STOP");
    let (new, _) = m.wait_leader(ELECT).await;
    assert_eq!(new, other);
    // The new leader writes the registry.
    let weights = json!({"type": "UPDATE_WEIGHTS", "update_weights": {
        "weight_infos": [{"role": "new", "weight": 2.0}]}});
    assert_eq!(op(m.addr(new), &weights).await.status, 200);
    let meta = m
        .znode(&format!("{}-meseta/registry/meta", m.path))
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&meta).contains("\"new\""),
        "answered before stored"
    );
    m.signal(old, "CONT");
    // At once, before anything else: the old leader refuses to act as leader.
    let stale = json!({"type": "UPDATE_WEIGHTS", "update_weights": {
        "weight_infos": [{"role": "stale", "weight": 9.0}]}});
    let r = op(m.addr(old), &stale).await;
    assert!(
        r.status == 307 || r.status == 503,
        "deposed leader answered {}: {}",
        r.status,
        r.text()
    );
    let s = m.state(old).await.unwrap();
    assert!(s.get("elected_time").is_none(), "{s}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let meta = m
        .znode(&format!("{}-meseta/registry/meta", m.path))
        .await
        .unwrap();
    let meta = String::from_utf8_lossy(&meta);
    assert!(
        meta.contains("\"new\"") && !meta.contains("stale"),
        "{meta}"
    );
    // It rejoins as a follower, behind the new leader.
    let (leader, _) = m.wait_leader(ELECT).await;
    assert_eq!(leader, new);
    let deadline = Instant::now() + Duration::from_secs(10);
    while m.election_nodes().await.len() != 2 {
        assert!(
            Instant::now() < deadline,
            "deposed master did not contend again\n{}",
            m.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(m.leaders().await, vec![new]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zookeeper_outage_makes_the_leader_step_down_until_it_returns() {
    if !available_or_skip("a_zookeeper_outage_makes_the_leader_step_down_until_it_returns") {
        return;
    }
    let zk = ZooKeeper::start();
    let mut m = Masters::start(&zk, 2, &[]);
    let (leader, _) = m.wait_leader(ELECT).await;
    zk.stop();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !m.leaders().await.is_empty() {
        assert!(
            Instant::now() < deadline,
            "leader kept leading without ZooKeeper\n{}",
            m.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = op(m.addr(leader), &json!({"type": "GET_AGENTS"})).await;
    assert_eq!(r.status, 503, "{}", r.text());
    tokio::time::sleep(Duration::from_secs(18)).await;
    assert!(m.leaders().await.is_empty());
    let back = Instant::now();
    zk.resume();
    let (_, at) = m.wait_leader(ELECT).await;
    assert!(
        at - back < Duration::from_secs(15),
        "leader back after {:?}",
        at - back
    );
    for i in 0..2 {
        let log = m.log(i);
        let unreachable = log.matches("ZooKeeper unreachable").count();
        assert!(
            unreachable <= 1,
            "master {i} logged 'unreachable' {unreachable} times:\n{}",
            log.lines()
                .filter(|l| l.contains("ZooKeeper unreachable") || l.contains("reachable again"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    m.signal(0, "KILL");
    m.signal(1, "KILL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_zk_input_is_refused_or_reported_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "zk://127.0.0.1:abc/mesos",
        "zk:///mesos",
        "http://127.0.0.1:2181/mesos",
        "file:///nonexistent/zk",
    ] {
        let out = std::process::Command::new(meseta_tests::bin("mesos-master"))
            .arg(format!("--work_dir={}", dir.path().display()))
            .arg(format!("--zk={bad}"))
            .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{bad}: {err}");
        assert!(
            err.starts_with("mesos-master: ") && err.contains("--zk"),
            "{bad}: {err}"
        );
    }
    // A ZooKeeper nobody answers at: the master starts, says so once, answers 503, retries.
    let port = meseta_tests::free_port();
    let mport = meseta_tests::free_port();
    let log = dir.path().join("m.log");
    let mut child = std::process::Command::new(meseta_tests::bin("mesos-master"))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={mport}"))
        .arg(format!("--work_dir={}", dir.path().join("w").display()))
        .arg(format!("--zk=zk://127.0.0.1:{port}/mesos"))
        .arg("--zk_session_timeout=2secs")
        .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], mport));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(r) = request(
            addr,
            "POST",
            "/api/v1",
            &[("Content-Type", "application/json")],
            br#"{"type":"GET_AGENTS"}"#,
        )
        .await
        {
            break r.status;
        }
        assert!(Instant::now() < deadline, "master did not serve");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 503);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(child.try_wait().unwrap().is_none(), "master exited");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.matches("ZooKeeper unreachable").count(), 1, "{text}");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_zk_the_master_reads_the_packages_zk_file() {
    if !available_or_skip("without_zk_the_master_reads_the_packages_zk_file") {
        return;
    }
    let zk = ZooKeeper::shared();
    let path = ZooKeeper::unique_path("etc-mesos-zk");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zk");
    std::fs::write(&file, format!("{}\n", zk.url(&path))).unwrap();
    let port = meseta_tests::free_port();
    let mut child = std::process::Command::new(meseta_tests::bin("mesos-master"))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--work_dir={}", dir.path().join("w").display()))
        .env("MESETA_MASTER_CONF_DIR", dir.path().join("no-etc"))
        .env("MESETA_MESOS_ZK_FILE", &file)
        .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
        .spawn()
        .unwrap();
    let url: meseta_zk::ZkUrl = zk.url(&path).parse().unwrap();
    let session = meseta_zk::Session::connect(&url, Duration::from_secs(2))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let children = session
            .client()
            .list_children(&path)
            .await
            .unwrap_or_default();
        if children.len() == 1 && children[0].starts_with("json.info_") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            std::fs::read_to_string(dir.path().join("log")).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert!(
        log.contains("no --zk given; using the ZooKeeper URL in"),
        "{log}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_that_do_not_reregister_with_a_new_leader_become_unreachable() {
    if !available_or_skip("agents_that_do_not_reregister_with_a_new_leader_become_unreachable") {
        return;
    }
    let mut m = Masters::start(
        ZooKeeper::shared(),
        2,
        &["--agent_reregister_timeout=2secs"],
    );
    let (first, _) = m.wait_leader(ELECT).await;
    let agent = FakeAgent::subscribe(m.addr(first), None).await.unwrap();
    let agent_id = agent.agent_id.clone();
    let node = format!("{}-meseta/registry/agents/{agent_id}", m.path);
    let deadline = Instant::now() + Duration::from_secs(5);
    while m.znode(&node).await.is_none() {
        assert!(
            Instant::now() < deadline,
            "agent not in the registry\n{}",
            m.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(agent);
    m.signal(first, "KILL");
    let (second, elected) = m.wait_leader(ELECT).await;
    // Not before the timeout...
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        m.znode(&node).await.is_some(),
        "left the registry before the timeout"
    );
    // ...but after it, it is no longer a registered agent.
    let deadline = elected + Duration::from_secs(8);
    while m.znode(&node).await.is_some() {
        assert!(
            Instant::now() < deadline,
            "still registered after the timeout\n{}",
            m.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(m
        .log(second)
        .contains("did not re-register within --agent_reregister_timeout"));
    // It is re-admitted with its id when it comes back.
    let agent = FakeAgent::subscribe(m.addr(second), Some(&agent_id))
        .await
        .unwrap();
    assert_eq!(agent.agent_id, agent_id);
    let deadline = Instant::now() + Duration::from_secs(5);
    while m.znode(&node).await.is_none() {
        assert!(
            Instant::now() < deadline,
            "re-admitted agent not back in the registry\n{}",
            m.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
