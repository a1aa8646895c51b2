//! An idle supervisor parks: once its container runs, `mesos-containerizer` execs a tiny
//! static program (same pid) that costs a few KiB instead of megabytes, and comes back as
//! `mesos-containerizer resume` for whatever the container needs: the end of the container, a
//! kill with its grace period, an OOM kill. Needs root.

use std::time::{Duration, Instant};

use crate::common::{root_or_skip, sh, Harness, FULL_ISOLATION};
use meseta_agent::containerizer::mesos::ContainerSpec;

/// `VmRSS` of `pid` in KiB, and where its executable comes from.
///
/// The executable is read before and after the RSS, and the pair is only returned when both
/// reads agree: an exec between two separate reads would otherwise pair the old image's RSS
/// with the new image's name.
fn rss_and_exe(pid: i32) -> Option<(u64, String)> {
    let exe = || {
        std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let before = exe();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    (exe() == before).then_some((rss, before))
}

/// Waits until the supervisor of `id` is parked; returns its RSS in KiB.
async fn parked_rss(h: &Harness, id: &str) -> u64 {
    let pid = h.containerizer.launched(id).unwrap().supervisor_pid;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (rss, exe) = rss_and_exe(pid).unwrap_or_default();
        if exe.contains("mesos-containerizer-park") {
            return rss;
        }
        assert!(
            Instant::now() < deadline,
            "supervisor {pid} never parked: {exe}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_idle_supervisor_parks_below_a_mebibyte_and_still_reaps_and_kills() {
    if !root_or_skip("an_idle_supervisor_parks_below_a_mebibyte_and_still_reaps_and_kills") {
        return;
    }
    let h = Harness::new(FULL_ISOLATION, false);
    // The container exits on its own while its supervisor is parked.
    let script = "sleep 3.5; exit 5";
    let mut s = ContainerSpec::new("ends", sh(script), h.sandbox("ends"));
    s.mem_mb = Some(64.0);
    h.containerizer.launch(s).await.unwrap();
    let rss = parked_rss(&h, "ends").await;
    assert!(rss < 1024, "parked supervisor has {rss} KiB resident");
    let t = h.containerizer.wait("ends").await.unwrap();
    assert_eq!(t.exit_code, Some(5), "{t:?}");
    assert!(!t.killed);

    // A kill reaches a parked supervisor: SIGTERM first, SIGKILL after the grace period.
    let stubborn = "trap '' TERM; while :; do sleep 0.05; done";
    let mut s = ContainerSpec::new("stubborn", sh(stubborn), h.sandbox("stubborn"));
    s.mem_mb = Some(64.0);
    h.containerizer.launch(s).await.unwrap();
    parked_rss(&h, "stubborn").await;
    let start = Instant::now();
    h.containerizer
        .kill("stubborn", Duration::from_millis(300))
        .unwrap();
    let t = h.containerizer.wait("stubborn").await.unwrap();
    assert_eq!(t.signal, Some(9), "{t:?}");
    assert!(t.killed);
    assert!(start.elapsed() >= Duration::from_millis(300));

    // An OOM kill wakes it through the OOM fd handed to the park.
    // The container must outlive the OOM kill of `dd` only until the supervisor ends it.
    let hog = "sleep 3; dd if=/dev/zero of=/dev/null bs=256M count=1; sleep 30";
    let mut s = ContainerSpec::new("hog", sh(hog), h.sandbox("hog"));
    s.mem_mb = Some(32.0);
    h.containerizer.launch(s).await.unwrap();
    parked_rss(&h, "hog").await;
    let start = Instant::now();
    let t = h.containerizer.wait("hog").await.unwrap();
    assert!(t.oom_killed, "{t:?}");
    assert!(start.elapsed() < Duration::from_secs(10), "{t:?}");
    assert!(
        h.leftover_cgroups().is_empty(),
        "{:?}",
        h.leftover_cgroups()
    );
}
