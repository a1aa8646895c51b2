//! `--reconfiguration_policy` with the real `mesos-agent` binary against an in-process fake
//! master: the agent registers (checkpointing `slave.info`), is `kill -9`'ed and restarted with
//! other `--resources` / `--attributes`. `equal` (the default) refuses any change with Mesos's
//! "Incompatible agent info detected" and the exact `rm -f .../meta/slaves/latest` remedy on one
//! line; `additive` recovers the agent id across added resources and attributes and refuses
//! removals. No root needed: no task runs.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::daemon_harness::FakeMaster;
use meseta_api::internal::{CallType, Subscribe};

struct Rig {
    dir: tempfile::TempDir,
    port: u16,
    master: Arc<FakeMaster>,
    runs: usize,
}

impl Rig {
    async fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            port: meseta_tests::free_port(),
            master: FakeMaster::start().await,
            runs: 0,
        }
    }

    fn latest(&self) -> PathBuf {
        self.dir
            .path()
            .join("work")
            .canonicalize()
            .unwrap()
            .join("meta/slaves/latest")
    }

    fn spawn(&mut self, resources: &str, extra: &[&str]) -> Child {
        self.runs += 1;
        let log = std::fs::File::create(self.log_path()).unwrap();
        let d = self.dir.path();
        Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
            .env("MESETA_AGENT_CONF_DIR", d.join("no-conf"))
            .arg(format!("--master={}", self.master.addr))
            .arg(format!("--work_dir={}", d.join("work").display()))
            .arg(format!("--runtime_dir={}", d.join("run").display()))
            .arg("--ip=127.0.0.1")
            .arg(format!("--port={}", self.port))
            .arg("--isolation=posix/cpu,posix/mem")
            .arg(format!("--resources={resources}"))
            .arg("--registration_backoff_factor=100ms")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("agent-{}.log", self.runs))
    }

    async fn subscribed(&self) -> Subscribe {
        self.master
            .next_call(30, |c| c.r#type == CallType::Subscribe)
            .await
            .subscribe
            .unwrap()
    }

    /// Starts an agent that registers (so `slave.info` is checkpointed), then `kill -9`s it.
    async fn register_then_kill9(&mut self, resources: &str, extra: &[&str]) {
        let mut agent = self.spawn(resources, extra);
        self.subscribed().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.latest().exists() {
            assert!(Instant::now() < deadline, "slave.info was not checkpointed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        agent.kill().unwrap();
        agent.wait().unwrap();
    }

    /// The agent exits 1 with one line on stderr; returns it.
    async fn refused(&mut self, resources: &str, extra: &[&str]) -> String {
        let mut agent = self.spawn(resources, extra);
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = agent.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = agent.kill();
                panic!("the agent kept running with {resources} {extra:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let log = std::fs::read_to_string(self.log_path()).unwrap();
        assert_eq!(status.code(), Some(1), "{log}");
        assert_eq!(log.trim_end().lines().count(), 1, "{log}");
        log
    }
}

#[tokio::test(flavor = "current_thread")]
async fn equal_policy_refuses_changed_resources_with_the_mesos_remedy() {
    let mut rig = Rig::new().await;
    rig.register_then_kill9("cpus:2;mem:1024", &["--attributes=rack:a"])
        .await;
    let line = rig
        .refused("cpus:4;mem:1024", &["--attributes=rack:a"])
        .await;
    assert!(
        line.starts_with(
            "mesos-agent: Failed to perform recovery: Incompatible agent info detected."
        ),
        "{line}"
    );
    assert!(
        line.contains("cpus:2;mem:1024") && line.contains("cpus:4;mem:1024"),
        "{line}"
    );
    let remedy = format!("rm -f {}", rig.latest().display());
    assert!(line.contains(&remedy), "{line}");
    // A changed attribute is refused too, also with an explicit `equal`.
    let line = rig
        .refused(
            "cpus:2;mem:1024",
            &["--attributes=rack:b", "--reconfiguration_policy=equal"],
        )
        .await;
    assert!(line.contains("Incompatible agent info detected"), "{line}");
    // The remedy works: without `latest` the agent starts over as a new agent.
    std::fs::remove_file(rig.latest()).unwrap();
    let mut agent = rig.spawn("cpus:4;mem:1024", &["--attributes=rack:a"]);
    let sub = rig.subscribed().await;
    assert!(sub.agent_info.id.is_none(), "{sub:?}");
    let _ = agent.kill();
    let _ = agent.wait();
}

#[tokio::test(flavor = "current_thread")]
async fn additive_policy_keeps_the_agent_id_when_resources_grow_and_refuses_shrinking() {
    let mut rig = Rig::new().await;
    rig.register_then_kill9(
        "cpus:2;mem:1024;ports:[31000-31010]",
        &["--attributes=rack:a"],
    )
    .await;
    let additive = "--reconfiguration_policy=additive";
    let mut agent = rig.spawn(
        "cpus:4;mem:1024;gpus:0;ports:[31000-31020]",
        &["--attributes=rack:a;os:linux", additive],
    );
    let sub = rig.subscribed().await;
    assert_eq!(
        sub.agent_info.id.as_ref().map(|i| i.value.as_str()),
        Some("m1-S0"),
        "{sub:?}"
    );
    // The new info is checkpointed once registered again: cpus:4 is now the baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    agent.kill().unwrap();
    agent.wait().unwrap();
    let line = rig
        .refused(
            "cpus:2;mem:1024;gpus:0;ports:[31000-31020]",
            &["--attributes=rack:a;os:linux", additive],
        )
        .await;
    assert!(
        line.contains("Configuration change not permitted under 'additive' policy"),
        "{line}"
    );
    assert!(line.contains("'cpus'"), "{line}");
    assert!(
        line.contains(&format!("rm -f {}", rig.latest().display())),
        "{line}"
    );
    let line = rig
        .refused(
            "cpus:4;mem:1024;gpus:0;ports:[31005-31020]",
            &["--attributes=rack:a;os:linux", additive],
        )
        .await;
    assert!(line.contains("'ports'"), "{line}");
    let line = rig
        .refused(
            "cpus:4;mem:1024;gpus:0;ports:[31000-31020]",
            &["--attributes=rack:a", additive],
        )
        .await;
    assert!(line.contains("attribute os"), "{line}");
}
