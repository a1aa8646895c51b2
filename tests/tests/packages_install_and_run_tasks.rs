//! The Debian packages, as an operator uses them: `scripts/package.sh` builds them (here from
//! the debug build, stripped), lintian finds no error, `dpkg -i` installs them,
//! `systemd-analyze verify` accepts the units, and the installed programs — started the way
//! each unit's `ExecStart` (and `EnvironmentFile`) would, with the packaged default
//! configuration files in place and a ZooKeeper on localhost:2181 as `/etc/mesos/zk` expects —
//! run a task. Installing a newer package over a running agent (stop the agent alone, as
//! `KillMode=process` does, install, start) keeps its task running; `dpkg -r` leaves
//! `/var/lib/mesos` alone.
//!
//! It installs into the host (`/usr/sbin`, `/etc/mesos*`, `/lib/systemd/system`) and uses the
//! packaged ports (5050, 5051, 8080, 4400), so it refuses to run where a Mesos not installed by
//! these packages exists, and it purges the packages at the end, even on failure.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use meseta_tests::{http, wait_until};

const PACKAGES: &[&str] = &[
    "meseta-marathon-lb",
    "meseta-chronos",
    "meseta-marathon",
    "meseta-mesos",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Purges the packages and stops what the test started, whatever happens.
struct Installed {
    children: Vec<Child>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("dpkg").arg("--purge").args(PACKAGES).output();
        // Containers of the test's tasks (their supervisors outlive the agent by design).
        meseta_tests::kill_and_remove_cgroups("mesos", Duration::from_millis(200));
        // The packaged agent's supervisors (the built-in ones run from
        // /var/lib/mesos/launchers/) and everything under them.
        meseta_tests::kill_supervised(Path::new("/var/run/mesos"));
        // Only the installed supervisors: other processes on this host are not ours to kill.
        let _ = Command::new("pkill")
            .args(["-f", "^/usr/libexec/mesos/mesos-"])
            .output();
    }
}

/// Runs what a unit's `ExecStart` runs, with its `EnvironmentFile` loaded as systemd does
/// (through a shell here: the files hold plain assignments).
fn start_unit(unit: &str, log: &Path) -> Child {
    let text = std::fs::read_to_string(format!("/lib/systemd/system/{unit}")).unwrap();
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap_or_else(|| panic!("{unit} has no ExecStart"));
    let env_files: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("EnvironmentFile="))
        .map(|f| f.trim_start_matches('-'))
        .collect();
    let mut script = String::from("set -a\n");
    for f in env_files {
        script.push_str(&format!("[ -r {f} ] && . {f}\n"));
    }
    script.push_str(&format!("set +a\nexec {exec}\n"));
    let log = std::fs::File::create(log).unwrap();
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn refuse_foreign_mesos() -> bool {
    for p in [
        "/usr/sbin/mesos-master",
        "/usr/sbin/mesos-slave",
        "/etc/mesos/zk",
    ] {
        if Path::new(p).exists() {
            let owner = Command::new("dpkg").args(["-S", p]).output();
            let ours =
                owner.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("meseta-"));
            if !ours {
                eprintln!("SKIPPED packages_install_and_run_tasks: {p} belongs to another Mesos installation");
                return true;
            }
        }
    }
    false
}

fn build_packages(version: &str) -> Vec<PathBuf> {
    run(Command::new("bash")
        .arg(workspace().join("scripts/package.sh"))
        .args(["--debug", "--fast", "--version", version]));
    let dir = workspace().join("target/debian");
    let mut debs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.to_string_lossy()
                .ends_with(&format!("_{version}_amd64.deb"))
        })
        .collect();
    debs.sort();
    assert!(
        debs.iter()
            .any(|d| d.to_string_lossy().contains("meseta-mesos_")),
        "no meseta-mesos package in {dir:?}"
    );
    debs
}

fn agent_task_state(task: &str) -> Option<String> {
    let (status, body) = http("GET", 5051, "/state", None).ok()?;
    if status != 200 {
        return None;
    }
    let state: serde_json::Value = serde_json::from_str(&body).ok()?;
    state["frameworks"]
        .as_array()?
        .iter()
        .flat_map(|f| f["executors"].as_array().into_iter().flatten())
        .flat_map(|e| e["tasks"].as_array().into_iter().flatten())
        .find(|t| t["id"] == task)
        .and_then(|t| t["state"].as_str().map(str::to_owned))
}

#[test]
fn packages_install_and_run_tasks() {
    if !meseta_tests::root_or_skip("packages_install_and_run_tasks")
        || !meseta_tests::zookeeper::available_or_skip("packages_install_and_run_tasks")
        || refuse_foreign_mesos()
    {
        return;
    }
    let logs = tempfile::tempdir().unwrap();
    let debs = build_packages("0.1.0");
    for deb in &debs {
        let out = Command::new("lintian").arg(deb).output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout).into_owned();
        let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("E:")).collect();
        assert!(errors.is_empty(), "lintian errors in {deb:?}:\n{report}");
    }
    let mut installed = Installed {
        children: Vec::new(),
    };
    run(Command::new("dpkg").arg("-i").args(&debs));
    for unit in std::fs::read_dir("/lib/systemd/system")
        .unwrap()
        .filter_map(|e| e.ok())
    {
        let name = unit.file_name().to_string_lossy().into_owned();
        let ours = ["mesos-", "marathon", "chronos"]
            .iter()
            .any(|p| name.starts_with(p));
        if ours && name.ends_with(".service") {
            let out = Command::new("systemd-analyze")
                .args(["verify", "--man=no"])
                .arg(unit.path())
                .output()
                .unwrap();
            let report = String::from_utf8_lossy(&out.stderr);
            // Units it merely cannot find as dependencies (zookeeper.service, docker.service on
            // a host without them) are not errors of ours.
            let ours: Vec<&str> = report
                .lines()
                .filter(|l| !l.contains("not found") && !l.trim().is_empty())
                .collect();
            assert!(ours.is_empty(), "systemd-analyze verify {name}:\n{report}");
        }
    }
    assert_eq!(
        std::fs::read_to_string("/etc/mesos/zk").unwrap().trim(),
        "zk://localhost:2181/mesos"
    );
    let _zk = meseta_tests::zookeeper::ZooKeeper::start_on(2181);

    installed.children.push(start_unit(
        "mesos-master.service",
        &logs.path().join("master.log"),
    ));
    installed.children.push(start_unit(
        "mesos-slave.service",
        &logs.path().join("agent.log"),
    ));
    let logs_of = |name: &str| std::fs::read_to_string(logs.path().join(name)).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(60), || {
            http("GET", 5050, "/state", None)
                .ok()
                .and_then(|(_, b)| serde_json::from_str::<serde_json::Value>(&b).ok())
                .is_some_and(|s| s["activated_slaves"].as_f64() == Some(1.0))
        }),
        "the installed agent did not register with the installed master:\n{}\n{}",
        logs_of("master.log"),
        logs_of("agent.log")
    );
    // A task through the installed mesos-execute.
    let out = Command::new("/usr/bin/mesos-execute")
        .args([
            "--master=127.0.0.1:5050",
            "--name=packaged",
            "--command=echo packaged",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("TASK_FINISHED"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The frameworks start as their units say and answer on their ports.
    for (unit, port, path) in [
        ("marathon.service", 8080, "/ping"),
        ("chronos.service", 4400, "/scheduler/jobs"),
    ] {
        if Path::new("/lib/systemd/system").join(unit).exists() {
            installed
                .children
                .push(start_unit(unit, &logs.path().join(unit)));
            assert!(
                wait_until(Duration::from_secs(60), || http("GET", port, path, None)
                    .is_ok_and(|(s, _)| s == 200)),
                "{unit} did not answer on {port}:\n{}",
                logs_of(unit)
            );
        }
    }

    // An upgrade under a running task: stop the agent alone, install 0.1.1, start it again.
    let mut long = Command::new("/usr/bin/mesos-execute")
        .args([
            "--master=127.0.0.1:5050",
            "--name=survivor",
            "--command=sleep 600",
            "--checkpoint",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(60), || agent_task_state("survivor")
            .as_deref()
            == Some("TASK_RUNNING")),
        "the long task did not start:\n{}",
        logs_of("agent.log")
    );
    let agent = installed.children.remove(1);
    let agent_pid = nix::unistd::Pid::from_raw(i32::try_from(agent.id()).unwrap());
    nix::sys::signal::kill(agent_pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let mut agent = agent;
    let _ = agent.wait();
    let newer = build_packages("0.1.1");
    run(Command::new("dpkg").arg("-i").args(&newer));
    let version = run(Command::new("dpkg-query").args(["-W", "-f=${Version}", "meseta-mesos"]));
    assert_eq!(version.trim(), "0.1.1");
    installed.children.push(start_unit(
        "mesos-slave.service",
        &logs.path().join("agent2.log"),
    ));
    assert!(
        wait_until(Duration::from_secs(60), || agent_task_state("survivor")
            .as_deref()
            == Some("TASK_RUNNING")),
        "the task did not survive the agent upgrade:\n{}",
        logs_of("agent2.log")
    );
    // Still running once the agent's --executor_reregistration_timeout (2 s) has passed: the
    // executor re-subscribed to the new agent instead of having its container destroyed.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        agent_task_state("survivor").as_deref(),
        Some("TASK_RUNNING"),
        "the task did not stay running after the agent upgrade:\n{}",
        logs_of("agent2.log")
    );
    let _ = long.kill();
    let _ = long.wait();

    // Removal leaves /var/lib/mesos alone.
    for c in &mut installed.children {
        let _ = c.kill();
        let _ = c.wait();
    }
    installed.children.clear();
    run(Command::new("dpkg").arg("-r").args(PACKAGES));
    assert!(!Path::new("/usr/sbin/mesos-master").exists());
    assert!(
        Path::new("/var/lib/mesos").is_dir(),
        "dpkg -r removed /var/lib/mesos"
    );
}
