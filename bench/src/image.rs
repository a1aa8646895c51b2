//! `meseta-bench image`: launching `true` from the 3-layer busybox test image, cold (empty
//! store: pull from a loopback registry + unpack + provision + launch) and warm (image cached),
//! through Meseta's mesos containerizer the way a command task runs (supervisor with cgroups
//! cpu+mem and a mount namespace → `mesos-containerizer run-task`, which applies the OCI spec
//! in place and becomes the task, in an overlay rootfs → destroy, rootfs removed), side by
//! side with `docker run --rm` of the same image pulled by dockerd from the same registry,
//! and with a plain launch (`meseta-bench launch`'s Meseta container: no image) measured the
//! same way in the same run.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use isolators::Isolation;
use meseta_agent::containerizer::launch_info::{TaskLaunchInfo, IMAGE_TASKS_DEVICES_CGROUP};
use meseta_agent::containerizer::mesos::ContainerSpec;
use meseta_agent::containerizer::{Command, ContainerConfig, MesosContainerizer};
use meseta_agent::daemon::image;
use meseta_agent::flags::ImageConfig;
use meseta_tests::registry::Registry;
use oci_bundles::Reference;

use crate::report::{ms, summarize};

const ISOLATION: &str = "cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime";
const CGROUPS_ROOT: &str = "meseta-bench-image";
const REPO: &str = "bench/busybox3";
const PLAIN_CGROUPS_ROOT: &str = "meseta-bench-image-plain";

/// Options of `meseta-bench image`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Cold launches per runtime (each from an empty store / after `docker rmi`).
    pub cold: usize,
    /// Warm launches per runtime.
    pub warm: usize,
    /// Run `docker run` side by side (off: Meseta alone, on a host without dockerd).
    pub docker: bool,
}

struct Meseta {
    containerizer: MesosContainerizer,
    launcher_dir: std::path::PathBuf,
    work: std::path::PathBuf,
    registry: String,
}

impl Meseta {
    /// Fetch (pull or cache) + provision + launch `sh -c true` + wait + destroy.
    async fn launch(&self, store: &Path, id: &str) -> Result<Duration> {
        let start = Instant::now();
        let images = ImageConfig {
            registry: self.registry.clone(),
            store_dir: store.to_owned(),
            backend: oci_bundles::provision::Backend::Overlay,
            docker_config: None,
        };
        let reference = Reference::parse(&format!("{REPO}:latest"))?;
        let dir = self.work.join("provisioner/containers").join(id);
        let (cid, pdir) = (id.to_owned(), dir.clone());
        let (_, rootfs) = tokio::task::spawn_blocking(move || {
            let points = image::run_task_mount_points(Path::new("/mnt/mesos/sandbox"));
            image::fetch_and_provision(&images, &reference, &cid, &pdir, &points)
        })
        .await?
        .map_err(anyhow::Error::msg)?;
        let t_provisioned = start.elapsed();
        let sandbox = self.work.join("sandboxes").join(id);
        std::fs::create_dir_all(&sandbox)?;
        let state_dir = dir.join("run-task");
        std::fs::create_dir_all(&state_dir)?;
        let info = TaskLaunchInfo {
            container_id: id.to_owned(),
            rootfs,
            sandbox: sandbox.clone(),
            sandbox_target: "/mnt/mesos/sandbox".into(),
            argv: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            env: vec![("PATH".into(), "/bin".into())],
            working_dir: "/mnt/mesos/sandbox".into(),
            user: None,
            hostname: "bench".into(),
            cgroups_path: IMAGE_TASKS_DEVICES_CGROUP.into(),
            state_dir,
        };
        let info_path = dir.join("task_launch_info");
        std::fs::write(&info_path, serde_json::to_vec(&info)?)?;
        let helper = self.launcher_dir.join("mesos-containerizer");
        let command = Command {
            argv: vec![
                helper.display().to_string(),
                "run-task".into(),
                format!("--task_launch_info={}", info_path.display()),
            ],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            user: None,
        };
        let mut spec = ContainerSpec::new(id, command, &sandbox);
        spec.cpus = Some(1.0);
        spec.mem_mb = Some(128.0);
        self.containerizer.launch(spec).await?;
        let t_launched = start.elapsed();
        self.containerizer.wait(id).await?;
        let t_exited = start.elapsed();
        let t = self.containerizer.destroy(id).await?;
        let took = start.elapsed();
        if std::env::var_os("MESETA_BENCH_TRACE").is_some() {
            eprintln!(
                "{id}: {took:?} (provisioned {t_provisioned:?}, launched {t_launched:?}, exited {t_exited:?})"
            );
        }
        if std::env::var_os("MESETA_BENCH_TRACE").is_some() {
            eprintln!(
                "{}",
                std::fs::read_to_string(sandbox.join("stderr")).unwrap_or_default()
            );
        }
        if !t.succeeded() {
            let err = std::fs::read_to_string(sandbox.join("stderr")).unwrap_or_default();
            bail!("meseta container {id} failed: {} {}", t.message, err.trim());
        }
        Ok(took)
    }
}

/// `meseta-bench launch`'s Meseta container (busybox rootfs, no image), for the ratio.
struct Plain {
    containerizer: MesosContainerizer,
    rootfs: std::path::PathBuf,
    sandbox: std::path::PathBuf,
}

impl Plain {
    fn new(work: &Path, launcher_dir: &Path) -> Result<Self> {
        let dir = work.join("plain");
        let rootfs = crate::launch::busybox_rootfs(&dir)?;
        let sandbox = dir.join("sandbox");
        std::fs::create_dir_all(&sandbox)?;
        let mut config = ContainerConfig::new(
            dir.join("runtime"),
            launcher_dir.to_owned(),
            Isolation::parse(crate::launch::ISOLATION)?,
        );
        config.cgroups_root = PLAIN_CGROUPS_ROOT.into();
        config.cgroups_enable_cfs = true;
        Ok(Self {
            containerizer: MesosContainerizer::new(config)?,
            rootfs,
            sandbox,
        })
    }

    async fn launch(&self, id: &str) -> Result<Duration> {
        crate::launch::meseta_run(&self.containerizer, &self.rootfs, &self.sandbox, id).await
    }
}

async fn docker(args: &[&str]) -> Result<Duration> {
    let start = Instant::now();
    let out = tokio::process::Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .context("running docker")?;
    if !out.status.success() {
        bail!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(start.elapsed())
}

/// A pause before every measured run: dockerd and containerd keep tearing a container down
/// after `docker run --rm` returns, and on a 2-core machine that would be charged to whichever
/// run comes next.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Runs the benchmark and returns the markdown table plus the RESULT line.
pub async fn run(opts: &Options) -> Result<String> {
    let registry = Registry::start().context("docker-registry is needed")?;
    registry.push_image(REPO, "latest", &meseta_tests::images::layers());
    let dir = tempfile::Builder::new()
        .prefix("meseta-bench-image-")
        .tempdir()?;
    let (launcher_dir, launcher) = crate::launcher_dir(dir.path())?;
    let mut config = ContainerConfig::new(
        dir.path().join("runtime"),
        launcher_dir.clone(),
        Isolation::parse(ISOLATION)?,
    );
    config.cgroups_root = CGROUPS_ROOT.into();
    config.provisioner_dir = Some(dir.path().join("provisioner"));
    let meseta = Meseta {
        containerizer: MesosContainerizer::new(config)?,
        launcher_dir,
        work: dir.path().to_owned(),
        registry: registry.url.clone(),
    };
    let port = registry
        .url
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let image = format!("127.0.0.1:{port}/{REPO}:latest");

    let plain = Plain::new(dir.path(), &meseta.launcher_dir)?;
    let (mut m_cold, mut d_cold, mut m_warm, mut d_warm) = (vec![], vec![], vec![], vec![]);
    let mut p_warm = vec![];
    for i in 0..opts.cold {
        let store = dir.path().join(format!("store-cold-{i}"));
        settle().await;
        m_cold.push(meseta.launch(&store, &format!("cold-{i}")).await?);
        if opts.docker {
            let _ = docker(&["rmi", "-f", &image]).await;
            settle().await;
            d_cold.push(docker(&["run", "--rm", &image, "true"]).await?);
        }
    }
    let warm_store = dir.path().join("store-warm");
    meseta.launch(&warm_store, "warmup").await?;
    plain.launch("plain-warmup").await?;
    if opts.docker {
        docker(&["run", "--rm", &image, "true"]).await?;
    }
    for i in 0..opts.warm {
        settle().await;
        p_warm.push(plain.launch(&format!("plain-{i}")).await?);
        settle().await;
        m_warm.push(meseta.launch(&warm_store, &format!("warm-{i}")).await?);
        if opts.docker {
            settle().await;
            d_warm.push(docker(&["run", "--rm", &image, "true"]).await?);
        }
    }
    if opts.docker {
        let _ = docker(&["rmi", "-f", &image]).await;
    }
    for h in std::fs::read_dir("/sys/fs/cgroup")?.flatten() {
        let _ = std::fs::remove_dir(h.path().join(CGROUPS_ROOT));
        let _ = std::fs::remove_dir(h.path().join(PLAIN_CGROUPS_ROOT));
    }

    let probe = migration_probe(CGROUPS_ROOT).await;
    let (mc, dc, mw, dw) = (
        summarize(&m_cold),
        summarize(&d_cold),
        summarize(&m_warm),
        summarize(&d_warm),
    );
    let pw = summarize(&p_warm);
    let ratio = mw.p50.as_secs_f64() / dw.p50.as_secs_f64().max(1e-9);
    let plain_ratio = mw.p50.as_secs_f64() / pw.p50.as_secs_f64().max(1e-9);
    let mut out = String::new();
    out.push_str(&format!(
        "`true` from the 3-layer busybox test image (busybox + a file + a whiteout), pushed to Debian's docker-registry on loopback. \
         Meseta: mesos containerizer (supervisor, cgroups cpu+mem, mount ns) → `mesos-containerizer run-task` (the OCI spec applied in place, then the task exec'd) in an overlay rootfs with its own upper layer; both run {launcher}; \
         cold = empty store (pull + verify + unpack + provision + launch + destroy), warm = image cached; \
         plain = `meseta-bench launch`'s Meseta container (`/bin/true` in a busybox rootfs, no image), measured the same way. \
         docker: `docker run --rm` of the same image pulled by dockerd from the same registry; cold after `docker rmi`. \
         {} cold and {} warm (and plain) runs each, alternating, with a 0.5 s pause before each run.{}\n\n",
        opts.cold,
        opts.warm,
        if opts.docker { "" } else { " **docker run was not measured (--without-docker).**" },
    ));
    out.push_str(&format!(
        "Host: the first `cgroup.procs` write after a 0.5 s pause took {probe} (a kernel that must \
         wait for an RCU grace period there pays it once per launch; `favordynmods`, or Linux \
         6.18's per-threadgroup lock once it is on, does not). On cgroup v1 Meseta makes no such \
         write: each container's first process, and run-task, move themselves by writing `0` to \
         `tasks`, which takes no global lock; docker (runc) pays it.\n\n"
    ));
    out.push_str("| launch | runtime | runs | p50 ms | p90 ms | min ms | mean ms |\n|---|---|---|---|---|---|---|\n");
    for (kind, rt, s) in [
        ("cold", "meseta", mc),
        ("cold", "docker run", dc),
        ("warm", "meseta", mw),
        ("plain", "meseta", pw),
        ("warm", "docker run", dw),
    ]
    .into_iter()
    .filter(|(_, _, s)| s.n > 0)
    {
        out.push_str(&format!(
            "| {kind} | {rt} | {} | {} | {} | {} | {} |\n",
            s.n,
            ms(s.p50),
            ms(s.p90),
            ms(s.min),
            ms(s.mean)
        ));
    }
    out.push_str(&format!(
        "\nwarm p50 ratio meseta image / plain launch = {plain_ratio:.3} (target ≤ 1.5)\n"
    ));
    let ratio = if opts.docker {
        out.push_str(&format!(
            "\nwarm p50 ratio meseta / docker run = {ratio:.3} (target ≤ 0.1)\n\n"
        ));
        format!("{ratio:.3}")
    } else {
        out.push('\n');
        "n/a".to_owned()
    };
    out.push_str(&format!(
        "RESULT image cold_s={:.3} warm_ms={} warm_ratio_vs_docker={ratio} plain_ms={} warm_ratio_vs_plain={plain_ratio:.3}\n",
        mc.p50.as_secs_f64(),
        ms(mw.p50),
        ms(pw.p50)
    ));
    Ok(out)
}

/// Times the first migration into a cgroup after a 0.5 s pause, then the one right after it
/// (median of three rounds, a `sleep` child moved back and forth), as "X ms (then Y ms)".
async fn migration_probe(root: &str) -> String {
    let hierarchy = [
        "/sys/fs/cgroup/cpu",
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup",
    ]
    .into_iter()
    .map(Path::new)
    .find(|h| h.join("cgroup.procs").exists());
    let Some(hierarchy) = hierarchy else {
        return "n/a (no cgroup hierarchy)".into();
    };
    let dir = hierarchy.join(root).join("migration-probe");
    let Ok(mut child) = std::process::Command::new("sleep").arg("30").spawn() else {
        return "n/a (cannot start sleep)".into();
    };
    let pid = child.id().to_string();
    let (mut first, mut second) = (vec![], vec![]);
    if std::fs::create_dir_all(&dir).is_ok() {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let t = Instant::now();
            let a = std::fs::write(dir.join("cgroup.procs"), &pid);
            let t1 = t.elapsed();
            let b = std::fs::write(hierarchy.join("cgroup.procs"), &pid);
            if a.is_ok() && b.is_ok() {
                first.push(t1);
                second.push(t.elapsed() - t1);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir(&dir);
    let _ = std::fs::remove_dir(hierarchy.join(root));
    if first.is_empty() {
        return "n/a (cgroup writes refused)".into();
    }
    first.sort();
    second.sort();
    format!(
        "{} ms (then {} ms)",
        ms(first[first.len() / 2]),
        ms(second[second.len() / 2])
    )
}
