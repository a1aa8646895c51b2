//! Runs a pymesos script against the real `mesos-master` binary on a free loopback port.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Starts `mesos-master`, runs `python3 tests/pymesos/<script> <port> <args...>` with
/// `PYMESOS_PYTHONPATH`, stops the master and returns the script's output. `None` (after a
/// SKIPPED line) when `PYMESOS_PYTHONPATH` is unset.
pub fn run_script(test: &str, script: &str, args: &[&str]) -> Option<Output> {
    let Ok(pythonpath) = std::env::var("PYMESOS_PYTHONPATH") else {
        eprintln!("SKIPPED {test}: set PYMESOS_PYTHONPATH to run it");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut master = Command::new(env!("CARGO_BIN_EXE_mesos-master"))
        .args([
            &format!("--work_dir={}", dir.path().display()),
            "--ip=127.0.0.1",
            &format!("--port={port}"),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "master did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let script = format!("{}/tests/pymesos/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("timeout")
        .args(["60", "python3", &script, &port.to_string()])
        .args(args)
        .env("PYMESOS_PYTHONPATH", pythonpath)
        .output()
        .unwrap();
    let _ = master.kill();
    let _ = master.wait();
    Some(out)
}
