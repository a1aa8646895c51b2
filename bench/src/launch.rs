//! `meseta-bench launch`: create+start+wait+destroy of `/bin/true` in a busybox rootfs with
//! cgroups cpu+memory+pids and pid/mount/uts/ipc namespaces, through Meseta's containerizer and,
//! in the same run and alternating with it, through `crun run` and `runc run` on an OCI bundle
//! with the same rootfs, mounts, namespaces and limits.
//!
//! crun 1.8 refuses this machine's hybrid cgroup layout, so the whole benchmark runs in a
//! private mount namespace with `/sys/fs/cgroup/unified` unmounted: every runtime then sees
//! the same pure-v1 layout (Meseta and runc use v1 on hybrid hosts anyway).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use isolators::Isolation;
use meseta_agent::containerizer::mesos::ContainerSpec;
use meseta_agent::containerizer::{Command, ContainerConfig, MesosContainerizer};

use crate::report::{ms, summarize, Summary};

/// The isolation every runtime gets.
pub const ISOLATION: &str =
    "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid,namespaces/ipc,namespaces/uts,filesystem/linux";
const CGROUPS_ROOT: &str = "meseta-bench";
const MEM_MB: u64 = 64;
const PIDS: i64 = 64;

/// Options of `meseta-bench launch`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Measured cycles per runtime.
    pub iterations: usize,
    /// Unmeasured cycles per runtime first.
    pub warmup: usize,
}

/// Puts the (still single-threaded) benchmark process in a private mount namespace with the
/// cgroup2 mount hidden, so crun accepts the host. Call before any thread starts.
pub fn enter_private_mount_namespace() -> Result<()> {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).context("unshare(CLONE_NEWNS)")?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context("making / private")?;
    let unified = Path::new("/sys/fs/cgroup/unified");
    if std::fs::read_to_string("/proc/self/mountinfo")?.contains(" /sys/fs/cgroup/unified ") {
        umount2(unified, MntFlags::MNT_DETACH).context("unmounting /sys/fs/cgroup/unified")?;
    }
    Ok(())
}

/// Builds the busybox rootfs shared by all runtimes.
pub fn busybox_rootfs(dir: &Path) -> Result<PathBuf> {
    Ok(meseta_tests::busybox_rootfs(dir, &["sh", "true"])?)
}

/// The OCI bundle equivalent of Meseta's container: same rootfs, namespaces, limits, mounts
/// (proc, a tmpfs /dev with devpts/shm/mqueue, read-only sysfs, the sandbox bind mount).
fn write_bundle(dir: &Path, rootfs: &Path, sandbox: &Path, name: &str) -> Result<PathBuf> {
    let bundle = dir.join(format!("bundle-{name}"));
    std::fs::create_dir_all(&bundle)?;
    let mem = MEM_MB << 20;
    let config = serde_json::json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/mnt/mesos/sandbox",
            "noNewPrivileges": false
        },
        "root": {"path": rootfs, "readonly": true},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/mnt/mesos/sandbox", "type": "bind", "source": sandbox, "options": ["rbind", "rw"]}
        ],
        "linux": {
            "cgroupsPath": format!("/{CGROUPS_ROOT}/{name}"),
            "resources": {
                "cpu": {"shares": 1024, "quota": 100_000, "period": 100_000},
                "memory": {"limit": mem, "reservation": mem},
                "pids": {"limit": PIDS}
            },
            "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
        }
    });
    std::fs::write(
        bundle.join("config.json"),
        serde_json::to_vec_pretty(&config)?,
    )?;
    Ok(bundle)
}

/// A runtime under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Meseta,
    Crun,
    Runc,
}

impl Runtime {
    fn name(self) -> &'static str {
        match self {
            Runtime::Meseta => "meseta",
            Runtime::Crun => "crun",
            Runtime::Runc => "runc",
        }
    }
}

fn installed(bin: &str) -> bool {
    std::process::Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs one `<runtime> run` to completion; the exit status must be 0.
async fn oci_run(bin: &str, state: &Path, bundle: &Path, id: &str) -> Result<Duration> {
    let start = Instant::now();
    let out = tokio::process::Command::new(bin)
        .arg("--root")
        .arg(state)
        .arg("run")
        .arg("--bundle")
        .arg(bundle)
        .arg(id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await?;
    let took = start.elapsed();
    if !out.status.success() {
        bail!(
            "{bin} run failed: {} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(took)
}

pub(crate) async fn meseta_run(
    c: &MesosContainerizer,
    rootfs: &Path,
    sandbox: &Path,
    id: &str,
) -> Result<Duration> {
    let start = Instant::now();
    let command = Command {
        argv: vec!["/bin/true".into()],
        env: vec![("PATH".into(), "/bin".into())],
        user: None,
    };
    let mut spec = ContainerSpec::new(id, command, sandbox);
    spec.cpus = Some(1.0);
    spec.mem_mb = Some(MEM_MB as f64);
    spec.pids_limit = Some(PIDS);
    spec.rootfs = Some(rootfs.to_owned());
    spec.rootfs_readonly = true;
    c.launch(spec).await?;
    c.wait(id).await?;
    let t = c.destroy(id).await?;
    let took = start.elapsed();
    if !t.succeeded() {
        bail!("meseta container {id} failed: {}", t.message);
    }
    Ok(took)
}

/// Runs the benchmark and returns the markdown table plus the RESULT line.
pub async fn run(opts: &Options) -> Result<String> {
    let dir = tempfile::Builder::new().prefix("meseta-bench-").tempdir()?;
    let rootfs = busybox_rootfs(dir.path())?;
    let sandbox = dir.path().join("sandbox");
    std::fs::create_dir_all(&sandbox)?;
    let (launcher_dir, launcher) = crate::launcher_dir(dir.path())?;
    let mut config = ContainerConfig::new(
        dir.path().join("runtime"),
        launcher_dir,
        Isolation::parse(ISOLATION)?,
    );
    config.cgroups_root = format!("{CGROUPS_ROOT}/meseta");
    config.cgroups_enable_cfs = true;
    let meseta = MesosContainerizer::new(config)?;

    let mut runtimes = vec![Runtime::Meseta];
    let mut notes = Vec::new();
    for (rt, bin) in [(Runtime::Crun, "crun"), (Runtime::Runc, "runc")] {
        if installed(bin) {
            runtimes.push(rt);
        } else {
            notes.push(format!(
                "{bin} is not installed: skipped (apt-get install {bin})"
            ));
        }
    }
    let crun_bundle = write_bundle(dir.path(), &rootfs, &sandbox, "crun")?;
    let runc_bundle = write_bundle(dir.path(), &rootfs, &sandbox, "runc")?;
    let state = dir.path().join("state");

    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); runtimes.len()];
    for i in 0..opts.warmup + opts.iterations {
        // Alternate the order so no runtime always runs first (cache, page-cache warmth).
        for k in 0..runtimes.len() {
            let idx = (i + k) % runtimes.len();
            let rt = runtimes[idx];
            let id = format!("{}-{i}", rt.name());
            let took = match rt {
                Runtime::Meseta => meseta_run(&meseta, &rootfs, &sandbox, &id).await?,
                Runtime::Crun => oci_run("crun", &state.join("crun"), &crun_bundle, &id).await?,
                Runtime::Runc => oci_run("runc", &state.join("runc"), &runc_bundle, &id).await?,
            };
            if i >= opts.warmup {
                samples[idx].push(took);
            }
        }
    }
    cleanup_cgroups();

    let sums: Vec<(Runtime, Summary)> = runtimes
        .iter()
        .copied()
        .zip(samples.iter().map(|s| summarize(s)))
        .collect();
    let mut out = String::new();
    out.push_str(&format!(
        "create+start+wait+destroy of `/bin/true` in a busybox rootfs; cgroups cpu+memory+pids, pid/mount/uts/ipc namespaces, read-only root; Meseta runs {launcher}; {} runs per runtime after {} warm-up, alternating.\n\n",
        opts.iterations, opts.warmup
    ));
    out.push_str(
        "| runtime | runs | p50 ms | p90 ms | min ms | mean ms |\n|---|---|---|---|---|---|\n",
    );
    for (rt, s) in &sums {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            rt.name(),
            s.n,
            ms(s.p50),
            ms(s.p90),
            ms(s.min),
            ms(s.mean)
        ));
    }
    for n in notes {
        out.push_str(&format!("\n{n}\n"));
    }
    let p50 = |rt: Runtime| {
        sums.iter()
            .find(|(r, _)| *r == rt)
            .map(|(_, s)| s.p50.as_secs_f64())
    };
    let m = p50(Runtime::Meseta).unwrap_or(f64::NAN);
    let ratio = |rt| p50(rt).map_or("nan".to_string(), |p| format!("{:.2}", m / p));
    out.push_str(&format!(
        "\nRESULT launch p50_ms={:.2} ratio_vs_crun={} ratio_vs_runc={}\n",
        m * 1000.0,
        ratio(Runtime::Crun),
        ratio(Runtime::Runc)
    ));
    Ok(out)
}

fn cleanup_cgroups() {
    let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for e in entries.flatten() {
        let root = e.path().join(CGROUPS_ROOT);
        let _ = std::fs::remove_dir(root.join("meseta"));
        let _ = std::fs::remove_dir(&root);
    }
}
