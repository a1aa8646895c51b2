#![allow(clippy::tests_outside_test_module)]
//! `mesos-execute` against the real master and agent: its output lines (Mesos' wording),
//! exit codes, `--kill_after`, and one readable error line for a master it cannot reach.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use meseta_tests::{bin, free_port, Cluster};

fn execute(args: &[String]) -> Output {
    Command::new(bin("mesos-execute"))
        .args(args)
        .output()
        .expect("run mesos-execute")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn runs_a_task_to_the_end_and_kills_on_request() {
    let cluster = Cluster::start("cpus:2;mem:1024");
    let master = format!("--master=127.0.0.1:{}", cluster.master_port);

    let out = execute(&[
        master.clone(),
        "--name=hello".into(),
        "--command=echo hi".into(),
        "--resources=cpus:0.1;mem:32".into(),
        r#"--env={"GREETING":"hi"}"#.into(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "{stdout}\n{stderr}\n{}",
        cluster.logs()
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("Subscribed with ID "), "{stdout}");
    assert!(
        lines[1].starts_with("Submitted task 'hello' to agent '"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Received status update TASK_RUNNING for task 'hello'\n  source: SOURCE_EXECUTOR"
        ),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .rev()
            .any(|l| *l == "Received status update TASK_FINISHED for task 'hello'"),
        "{stdout}"
    );

    let out = execute(&[
        master.clone(),
        "--name=sleeper".into(),
        "--command=sleep 600".into(),
        "--resources=cpus:0.1;mem:32".into(),
        "--kill_after=1".into(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("Killing task 'sleeper'\n"), "{stdout}");
    assert!(
        stdout.contains("Received status update TASK_KILLED for task 'sleeper'"),
        "{stdout}"
    );

    let out = execute(&[
        master,
        "--name=failing".into(),
        "--command=exit 3".into(),
        "--resources=cpus:0.1;mem:32".into(),
    ]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("TASK_FAILED for task 'failing'"),
        "{stdout}"
    );
}

#[test]
fn an_unreachable_or_invalid_master_is_one_readable_line() {
    let port = free_port();
    let started = Instant::now();
    let out = execute(&[
        format!("--master=127.0.0.1:{port}"),
        "--name=x".into(),
        "--command=true".into(),
        "--timeout=2".into(),
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(15));
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "mesos-execute: not subscribed to 127.0.0.1:{port} within 2s"
        )),
        "{stderr}"
    );

    let out = execute(&[
        "--master=nonsense".into(),
        "--name=x".into(),
        "--command=true".into(),
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("invalid master 'nonsense'"), "{stderr}");
}

#[test]
fn finds_the_master_through_zookeeper() {
    use meseta_tests::zookeeper::{available_or_skip, ZooKeeper};
    if !available_or_skip("finds_the_master_through_zookeeper") {
        return;
    }
    let cluster = Cluster::start("cpus:2;mem:1024");
    let zk = ZooKeeper::shared();
    let url = zk.url(&ZooKeeper::unique_path("execute"));
    // Publish the master's MasterInfo under the path, as an elected master does.
    let info = meseta_api::MasterInfo {
        id: "execute-test".into(),
        ip: meseta_api::MasterInfo::encode_ip(std::net::Ipv4Addr::LOCALHOST),
        port: u32::from(cluster.master_port),
        address: Some(meseta_api::Address {
            hostname: Some("localhost".into()),
            ip: Some("127.0.0.1".into()),
            port: i32::from(cluster.master_port),
        }),
        ..meseta_api::MasterInfo::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let contender = runtime.block_on(async {
        meseta_zk::Contender::spawn(
            meseta_zk::ZkUrl::parse_or_read(&url).unwrap(),
            meseta_zk::DEFAULT_SESSION_TIMEOUT,
            meseta_zk::MASTER_LABEL,
            meseta_zk::master_info::encode(&info),
        )
    });
    let out = execute(&[
        format!("--master={url}"),
        "--name=via-zk".into(),
        "--command=true".into(),
        "--resources=cpus:0.1;mem:32".into(),
        "--timeout=30".into(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Received status update TASK_FINISHED for task 'via-zk'"),
        "{stdout}"
    );
    drop(contender);
}
