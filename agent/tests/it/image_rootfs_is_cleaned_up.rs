//! A container's image root filesystem (overlay mount, writable upper layer, run-task's
//! state) and cgroups are gone once the container is destroyed, even when it is destroyed
//! while its task still runs (unmounted and moved to the trash at once, its files deleted soon
//! after); run-task becomes the task (no process of its own), which is confined to the default
//! devices; and root filesystems nobody owns any more are removed when the containerizer
//! recovers. Needs root.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::root_or_skip;
use isolators::Isolation;
use meseta_agent::containerizer::launch_info::{TaskLaunchInfo, IMAGE_TASKS_DEVICES_CGROUP};
use meseta_agent::containerizer::mesos::ContainerSpec;
use meseta_agent::containerizer::{Command, ContainerConfig, MesosContainerizer};
use meseta_agent::flags::ImageConfig;
use oci_bundles::Reference;

struct Setup {
    dir: tempfile::TempDir,
    cgroups_root: String,
    containerizer: MesosContainerizer,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let cgroups_root = format!(
        "meseta-test-{}",
        dir.path().file_name().unwrap().to_string_lossy()
    );
    let launcher = meseta_tests::bin("mesos-containerizer");
    let mut config = ContainerConfig::new(
        dir.path().join("runtime"),
        launcher.parent().unwrap().to_owned(),
        Isolation::parse("cgroups/cpu,cgroups/mem,filesystem/linux,docker/runtime").unwrap(),
    );
    config.cgroups_root = cgroups_root.clone();
    config.provisioner_dir = Some(dir.path().join("provisioner"));
    let containerizer = MesosContainerizer::new(config).unwrap();
    Setup {
        dir,
        cgroups_root,
        containerizer,
    }
}

impl Drop for Setup {
    /// The cgroups root, also when a test failed before its own cleanup.
    fn drop(&mut self) {
        meseta_tests::kill_and_remove_cgroups(&self.cgroups_root, Duration::from_millis(100));
    }
}

/// Where the task sees its sandbox.
const SANDBOX: &str = "/mnt/mesos/sandbox";

fn mounted_under(path: &Path) -> Vec<String> {
    let p = path.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&p))
        .map(str::to_owned)
        .collect()
}

fn cgroups_left(root: &str) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for h in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        if let Ok(d) = std::fs::read_dir(h.path().join(root)) {
            left.extend(d.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
    }
    left
}

/// Provisions the test image for `id` and returns the spec of a container that runs
/// `script` inside it through `mesos-containerizer run-task`.
fn image_container(s: &Setup, id: &str, script: &str) -> ContainerSpec {
    let images_dir = s.dir.path().join("images");
    std::fs::create_dir_all(&images_dir).unwrap();
    let tar = images_dir.join("busybox:latest.tar");
    if !tar.exists() {
        let layers = meseta_tests::images::layers();
        std::fs::write(&tar, meseta_tests::images::docker_save(&layers, false)).unwrap();
    }
    let images = ImageConfig {
        registry: images_dir.display().to_string(),
        store_dir: s.dir.path().join("store"),
        backend: oci_bundles::provision::Backend::Overlay,
        docker_config: None,
    };
    let pdir = s.dir.path().join("provisioner/containers").join(id);
    let reference = Reference::parse("busybox:latest").unwrap();
    let points = meseta_agent::daemon::image::run_task_mount_points(Path::new(SANDBOX));
    let (_, rootfs) =
        meseta_agent::daemon::image::fetch_and_provision(&images, &reference, id, &pdir, &points)
            .unwrap();
    let sandbox = s.dir.path().join("sandboxes").join(id);
    std::fs::create_dir_all(&sandbox).unwrap();
    let state_dir = pdir.join("run-task");
    std::fs::create_dir_all(&state_dir).unwrap();
    let info = TaskLaunchInfo {
        container_id: id.into(),
        rootfs,
        sandbox: sandbox.clone(),
        sandbox_target: SANDBOX.into(),
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        env: vec![("PATH".into(), "/bin".into())],
        working_dir: "/mnt/mesos/sandbox".into(),
        user: None,
        hostname: "test".into(),
        cgroups_path: IMAGE_TASKS_DEVICES_CGROUP.into(),
        state_dir,
    };
    let info_path = pdir.join("task_launch_info");
    std::fs::write(&info_path, serde_json::to_vec(&info).unwrap()).unwrap();
    let helper = meseta_tests::bin("mesos-containerizer");
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
    spec.mem_mb = Some(64.0);
    // As the agent's image code marks the command executor of an image task.
    spec.image_tasks = true;
    spec
}

#[tokio::test]
async fn destroying_a_running_image_task_leaves_nothing_behind() {
    if !root_or_skip("destroying_a_running_image_task_leaves_nothing_behind") {
        return;
    }
    let s = setup();
    let spec = image_container(
        &s,
        "busy",
        "echo started > /mnt/mesos/sandbox/started; exec sleep 600",
    );
    let sandbox = spec.sandbox.clone();
    s.containerizer.launch(spec).await.unwrap();
    let started =
        meseta_tests::wait_until(Duration::from_secs(20), || sandbox.join("started").exists());
    let stderr = std::fs::read_to_string(sandbox.join("stderr")).unwrap_or_default();
    assert!(started, "the task never ran: {stderr}");
    // The task is in the devices cgroup of image tasks; its other cgroups are the
    // container's.
    let container_procs = Path::new("/sys/fs/cgroup/memory")
        .join(&s.cgroups_root)
        .join("busy/cgroup.procs");
    let task_pids: Vec<i32> = std::fs::read_to_string(&container_procs)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(
        !task_pids.is_empty(),
        "no process in the container's cgroup"
    );
    assert!(
        !mounted_under(s.dir.path()).is_empty(),
        "no overlay mounted"
    );
    let own = std::fs::read_to_string(format!("/proc/{}/cgroup", task_pids[0])).unwrap();
    let devices = format!(":devices:{IMAGE_TASKS_DEVICES_CGROUP}");
    if Path::new("/sys/fs/cgroup/devices/devices.list").exists() {
        assert!(
            own.lines().any(|l| l.ends_with(&devices)),
            "the task is not in the image tasks' devices cgroup: {own}"
        );
    }

    // The mount points the image lacks come from a shared layer: the launch wrote nothing
    // to the container's own upper layer.
    let upper = s.dir.path().join("provisioner/containers/busy/upper");
    let written: Vec<_> = std::fs::read_dir(&upper)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(written, Vec::<PathBuf>::new(), "written to the upper layer");

    let t = s.containerizer.destroy("busy").await.unwrap();
    assert!(!t.succeeded(), "{t:?}");
    assert_eq!(mounted_under(s.dir.path()), Vec::<String>::new());
    assert!(!s.dir.path().join("provisioner/containers/busy").exists());
    // The upper layer itself is deleted off destroy's path, soon after.
    let trash = s.dir.path().join("provisioner/trash");
    let emptied = meseta_tests::wait_until(Duration::from_secs(10), || {
        std::fs::read_dir(&trash).map_or(true, |mut d| d.next().is_none())
    });
    assert!(
        emptied,
        "the rootfs was never deleted from {}",
        trash.display()
    );
    for pid in task_pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "task process {pid} survived"
        );
    }
    assert_eq!(cgroups_left(&s.cgroups_root), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn orphan_rootfses_are_removed_on_recovery() {
    if !root_or_skip("orphan_rootfses_are_removed_on_recovery") {
        return;
    }
    let s = setup();
    // An agent that died between provisioning and launching left this behind.
    let _ = image_container(&s, "orphan", "true");
    let orphan = s.dir.path().join("provisioner/containers/orphan");
    assert!(!mounted_under(&orphan).is_empty());
    // ...and one that died while deleting a destroyed container's rootfs.
    let trashed = s.dir.path().join("provisioner/trash/gone.1/upper/etc");
    std::fs::create_dir_all(&trashed).unwrap();
    s.containerizer.recover().await.unwrap();
    assert!(!orphan.exists(), "orphan rootfs still there");
    assert!(!trashed.exists(), "trashed rootfs still there");
    assert_eq!(mounted_under(s.dir.path()), Vec::<String>::new());
}

#[tokio::test]
async fn the_helper_becomes_the_task() {
    if !root_or_skip("the_helper_becomes_the_task") {
        return;
    }
    let s = setup();
    let mut spec = image_container(&s, "ends", "echo $$ > /mnt/mesos/sandbox/task.pid; exit 3");
    // Like the command executor: the helper runs as a child of the container's first
    // process, which waits for it and sees the task's own exit status. The container has no
    // pid namespace, so the task's `$$` is the helper's pid if the helper exec'd the task.
    let helper = spec.command.argv.join(" ");
    spec.command.argv = vec![
        "/bin/sh".into(),
        "-c".into(),
        format!("{helper} & echo helper=$!; wait $!; echo exit=$?; true"),
    ];
    spec.command.env = vec![("PATH".into(), "/usr/bin:/bin".into())];
    let out = spec.sandbox.join("stdout");
    let sandbox = spec.sandbox.clone();
    s.containerizer.launch(spec).await.unwrap();
    let t = s.containerizer.wait("ends").await.unwrap();
    let _ = s.containerizer.destroy("ends").await;
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(sandbox.join("stderr")).unwrap_or_default();
    assert!(t.succeeded(), "{t:?} {stdout} {stderr}");
    let task_pid = std::fs::read_to_string(sandbox.join("task.pid")).unwrap_or_default();
    assert!(
        !task_pid.trim().is_empty(),
        "the task did not run: {stderr}"
    );
    assert!(
        stdout.contains(&format!("helper={}", task_pid.trim())),
        "the task is not the helper's process: task {task_pid} / {stdout}"
    );
    assert!(stdout.contains("exit=3"), "{stdout}");
    assert!(!s.dir.path().join("provisioner/containers/ends").exists());
    assert_eq!(cgroups_left(&s.cgroups_root), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn an_image_task_may_use_only_the_default_devices() {
    if !root_or_skip("an_image_task_may_use_only_the_default_devices") {
        return;
    }
    if !Path::new("/sys/fs/cgroup/devices/devices.list").exists() {
        eprintln!("SKIPPED: no cgroup v1 devices hierarchy (device rules need it)");
        return;
    }
    let s = setup();
    // Docker's capabilities include CAP_MKNOD: only the device rules keep the task from
    // opening a device it makes itself. FUSE (10:229) opens without any capability and is not
    // among the default devices (Docker refuses it too).
    let spec = image_container(
        &s,
        "devices",
        "cd /mnt/mesos/sandbox; mknod fuse c 10 229 && echo made; \
         (exec 3< fuse) 2> fuse.err; echo fuse=$?; \
         mknod null c 1 3; echo ok > null; echo null=$?",
    );
    let sandbox = spec.sandbox.clone();
    s.containerizer.launch(spec).await.unwrap();
    let t = s.containerizer.wait("devices").await.unwrap();
    let _ = s.containerizer.destroy("devices").await;
    let stdout = std::fs::read_to_string(sandbox.join("stdout")).unwrap_or_default();
    let err = std::fs::read_to_string(sandbox.join("fuse.err")).unwrap_or_default();
    assert!(t.succeeded(), "{t:?} {stdout}");
    assert!(stdout.contains("made"), "mknod failed: {stdout}");
    assert!(
        !stdout.contains("fuse=0"),
        "/dev/fuse could be opened: {stdout}"
    );
    assert!(err.contains("Operation not permitted"), "{err}");
    assert!(stdout.contains("null=0"), "/dev/null was refused: {stdout}");
    assert_eq!(cgroups_left(&s.cgroups_root), Vec::<PathBuf>::new());
}
