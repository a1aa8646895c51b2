//! meseta-bench: measurement helpers shared by its subcommands.

pub mod allocator;
pub mod chronos;
pub mod chronos_cluster;
pub mod chronos_fake_master;
pub mod e2e;
pub mod failover;
pub mod image;
pub mod launch;
pub mod lb;
pub mod marathon;
pub mod master_scale;
pub mod recovery;
pub mod report;
pub mod rss;
pub mod sched;
pub mod smaps;
pub mod stages;
pub mod statistics;
pub mod ui;

/// The directory holding the `mesos-containerizer` a benchmark runs, and how to name it in
/// the table: the agent's built-in static (musl) programs, installed below `work` exactly as
/// an agent installs them below its `--work_dir`, so the figures are those of a deployed
/// agent; the release build's own copy next to this binary when this build carries none
/// (built without the musl target).
pub fn launcher_dir(work: &std::path::Path) -> anyhow::Result<(std::path::PathBuf, &'static str)> {
    use anyhow::Context;
    if let Some(dir) = meseta_agent::per_task::install(work)
        .context("installing the built-in mesos-containerizer")?
    {
        return Ok((
            dir,
            "the agent's built-in static (musl) `mesos-containerizer`, as a deployed agent runs it",
        ));
    }
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("no parent dir")?.to_owned();
    if !dir.join("mesos-containerizer").exists() {
        anyhow::bail!(
            "{}/mesos-containerizer not found: build it first (cargo build --release --bins)",
            dir.display()
        );
    }
    Ok((dir, "the release build's (glibc) `mesos-containerizer`: this build carries no built-in static one"))
}
