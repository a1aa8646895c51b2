//! Flags come from `MARATHON_<FLAG>` variables as `/etc/default/marathon` sets them, the
//! command line wins, and `--help` explains the flags.

#![allow(clippy::tests_outside_test_module)]

use std::process::{Command, Stdio};
use std::time::Duration;

use meseta_tests::{bin, free_port, get_json, http, wait_until};

#[test]
fn marathon_variables_set_flags_and_the_command_line_wins() {
    let port = free_port();
    let mut child = Command::new(bin("marathon"))
        .env("MARATHON_MASTER", format!("127.0.0.1:{}", free_port()))
        .env("MARATHON_HTTP_PORT", "1")
        .env("MARATHON_FRAMEWORK_NAME", "from-env")
        .env("MARATHON_INTERNAL_STORE_BACKEND", "mem")
        .env("MARATHON_DISABLE_HA", "true")
        .env("MARATHON_TASK_LAUNCH_TIMEOUT", "12345")
        .arg(format!("--http_port={port}"))
        .arg("--http_address=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up = wait_until(Duration::from_secs(20), || {
        http("GET", port, "/ping", None).is_ok_and(|(s, _)| s == 200)
    });
    let info = up.then(|| get_json(port, "/v2/info"));
    let _ = child.kill();
    let _ = child.wait();
    let info = info.expect("marathon did not listen on the --http_port of the command line");
    let cfg = &info["marathon_config"];
    assert_eq!(cfg["framework_name"], "from-env");
    assert_eq!(cfg["ha"], false);
    assert_eq!(cfg["task_launch_timeout"], 12345);
    assert_eq!(info["http_config"]["http_port"], port);
}

#[test]
fn help_explains_every_flag_and_a_missing_master_is_one_clear_line() {
    let out = Command::new(bin("marathon"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--master",
        "--zk",
        "--http_port",
        "--hostname",
        "--framework_name",
        "--mesos_role",
        "--failover_timeout",
        "--task_launch_timeout",
        "--mesos_user",
        "--disable_ha",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    let out = Command::new(bin("marathon"))
        .env_remove("MARATHON_MASTER")
        .arg("--internal_store_backend=mem")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--master is required"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
