//! `meseta-bench`: Meseta's benchmarks, each printing a markdown table and, last, one
//! `RESULT <name> key=value ...` line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "meseta-bench",
    version,
    about = "Benchmarks of Meseta side by side with crun, runc and docker"
)]
struct Cli {
    /// Also write the table into this markdown file (its section for the benchmark is
    /// replaced), e.g. BENCHMARKS.md.
    #[arg(long, global = true)]
    record: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The DRF allocator in-process: DeclineOffers cycle times and placements per second.
    Allocator {
        /// Also 50,000 agents and 3,000 frameworks (takes many minutes).
        #[arg(long)]
        full: bool,
    },
    /// The `chronos` scheduler: 10,000 jobs on staggered PT1M schedules, in-process on a
    /// simulated clock, through the real binary and API on a fake master (every job due), and
    /// on a real `mesos-master` + `mesos-agent` (the jobs due in a window launched for real):
    /// scheduling jitter, CPU per run, `GET /v1/scheduler/jobs` latency. Uses the `chronos`,
    /// `mesos-master` and `mesos-agent` binaries next to this one (root: full isolation).
    Chronos {
        /// Jobs.
        #[arg(long, default_value_t = 10_000)]
        jobs: usize,
        /// Simulated minutes in-process.
        #[arg(long, default_value_t = 10)]
        sim_minutes: i64,
        /// Real seconds measured through the API.
        #[arg(long, default_value_t = 60)]
        real_secs: u64,
        /// The `chronos` binary to measure (default: the one next to meseta-bench).
        #[arg(long)]
        chronos_bin: Option<PathBuf>,
        /// Runs a second due on the real cluster.
        #[arg(long, default_value_t = 5)]
        cluster_rate: u32,
        /// Seconds of due runs on the real cluster (at most 55).
        #[arg(long, default_value_t = 30)]
        cluster_secs: u64,
    },
    /// A scheduler's view of a single-node cluster: ACCEPT → TASK_RUNNING latency and the wall
    /// time for 1000 `true` tasks to finish (needs root; uses the release binaries next to this one).
    E2e {
        /// Tasks launched one at a time for the latency figures.
        #[arg(long, default_value_t = 50)]
        latency_samples: usize,
        /// Tasks in the throughput run.
        #[arg(long, default_value_t = 1000)]
        tasks: usize,
        /// Also report where the latency goes, stage by stage (master and agent log each
        /// stage at debug level for this run).
        #[arg(long)]
        stages: bool,
        /// Keep the agent's `--runtime_dir` in the cluster's temporary directory (on disk)
        /// instead of on the tmpfs `/dev/shm`, where Mesos expects it (`/var/run/mesos`).
        #[arg(long)]
        runtime_on_disk: bool,
    },
    /// Thousands of simulated agents on the real agent↔master protocol against one master:
    /// registration time, master CPU and RSS while heart-beating them.
    MasterScale {
        /// Simulated agents.
        #[arg(long, default_value_t = 2000)]
        agents: usize,
        /// Measurement window in seconds.
        #[arg(long, default_value_t = 10)]
        window_secs: u64,
    },
    /// Agent memory: idle RSS, and RSS per running task including its supervisor and executor.
    AgentRss {
        /// Running tasks to measure with.
        #[arg(long, default_value_t = 20)]
        tasks: usize,
    },
    /// The agent's `/monitor/statistics` with many running containers: request-to-last-byte
    /// time (needs root; uses the release binaries next to this one).
    Statistics {
        /// Running containers.
        #[arg(long, default_value_t = 500)]
        containers: usize,
        /// Timed requests, 100 ms apart.
        #[arg(long, default_value_t = 100)]
        requests: usize,
        /// The agent's `--isolation` (default: Mesos's default, `posix/cpu,posix/mem`).
        #[arg(long, default_value = "posix/cpu,posix/mem")]
        isolation: String,
    },
    /// marathon-lb and HAProxy: event → live for server-only changes (runtime API) and
    /// frontend changes (reload), and failed requests during 20 reconfigurations under load
    /// (uses the `marathon-lb` binary next to this one and Debian's haproxy).
    Lb {
        /// Apps.
        #[arg(long, default_value_t = 100)]
        apps: usize,
        /// Instances per app.
        #[arg(long, default_value_t = 10)]
        instances: usize,
        /// Changes of each kind measured.
        #[arg(long, default_value_t = 20)]
        samples: usize,
    },
    // Recovery after an agent restart.
    /// Agent recovery: time from restarting a `kill -9`'ed agent to all N executors of a
    /// checkpointing framework re-subscribed, for each N (needs root; release binaries).
    Recovery {
        /// Task counts, one run each.
        #[arg(long, value_delimiter = ',', default_value = "10,100,500")]
        tasks: Vec<usize>,
        /// The agent's --isolation.
        #[arg(long, default_value = "posix/cpu,posix/mem")]
        isolation: String,
    },
    /// Container launch latency: Meseta's containerizer vs `crun run` vs `runc run` (needs root).
    Launch {
        /// Measured runs per runtime.
        #[arg(long, default_value_t = 200)]
        iterations: usize,
        /// Unmeasured warm-up runs per runtime.
        #[arg(long, default_value_t = 10)]
        warmup: usize,
    },
    /// Master failover on a real ZooKeeper: three masters, one agent and a framework with
    /// running tasks following the leader; kill -9 then SIGTERM of the leader, timed to the
    /// new leader, the agent re-registered and the framework re-subscribed (needs root).
    Failover {
        /// Running tasks kept through the failovers.
        #[arg(long, default_value_t = 100)]
        tasks: usize,
        /// The masters' --zk_session_timeout.
        #[arg(long, default_value = "2secs")]
        zk_session_timeout: String,
    },
    /// The `marathon` scheduler on one real agent: deploy N health-checked `sleep` instances,
    /// scale to 0 and back (timed to all healthy), next to the agent's raw launch rate; then
    /// `GET /v2/apps?embed=apps.tasks` with 10,000 tasks in state (simulated Mesos side).
    /// Needs root; uses the `marathon`, `mesos-master` and `mesos-agent` next to this one.
    Marathon {
        /// Instances of the app (and raw tasks).
        #[arg(long, default_value_t = 500)]
        instances: usize,
        /// Tasks in state for the `/v2/apps` timing.
        #[arg(long, default_value_t = 10_000)]
        sim_tasks: usize,
        /// The `marathon` binary to measure (default: the one next to meseta-bench).
        #[arg(long)]
        marathon_bin: Option<PathBuf>,
    },
    /// The master's web UI: server-side render time and bytes of the overview, agents and
    /// tasks pages and of the live fragments, in-process on a large simulated cluster.
    Ui {
        /// Agents.
        #[arg(long, default_value_t = 2000)]
        agents: usize,
        /// Running tasks.
        #[arg(long, default_value_t = 50_000)]
        tasks: usize,
        /// Renders per page.
        #[arg(long, default_value_t = 20)]
        iterations: usize,
    },
    // Container images.
    /// Launching `true` from the 3-layer test image: cold (pull from a loopback registry +
    /// unpack + launch) and warm (cached), Meseta's mesos containerizer vs `docker run --rm`
    /// (needs root, dockerd and docker-registry).
    Image {
        /// Cold launches per runtime (empty store / after `docker rmi`).
        #[arg(long, default_value_t = 3)]
        cold: usize,
        /// Warm launches per runtime.
        #[arg(long, default_value_t = 20)]
        warm: usize,
        /// Measure Meseta alone (a host without dockerd): no `docker run`, no ratio.
        #[arg(long)]
        without_docker: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("meseta-bench: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Cmd::Ui {
        agents,
        tasks,
        iterations,
    } = cli.command
    {
        let out = meseta_bench::ui::run(agents, tasks, iterations)?;
        print!("{out}");
        if let Some(file) = &cli.record {
            meseta_bench::report::record(file, "ui", &format!("## ui\n\n{out}"))?;
        }
        return Ok(());
    }
    if let Cmd::Allocator { full } = cli.command {
        let out = meseta_bench::allocator::run(full);
        print!("{out}");
        if let Some(file) = &cli.record {
            meseta_bench::report::record(file, "allocator", &format!("## allocator\n\n{out}"))?;
        }
        return Ok(());
    }
    if let Cmd::Chronos {
        jobs,
        sim_minutes,
        real_secs,
        chronos_bin,
        cluster_rate,
        cluster_secs,
    } = cli.command
    {
        let out = meseta_bench::chronos::run(&meseta_bench::chronos::Options {
            jobs,
            sim_minutes,
            real_secs,
            chronos_bin,
            cluster_rate,
            cluster_secs,
        })?;
        print!("{out}");
        if let Some(file) = &cli.record {
            meseta_bench::report::record(file, "chronos", &format!("## chronos\n\n{out}"))?;
        }
        return Ok(());
    }
    if let Cmd::MasterScale {
        agents,
        window_secs,
    } = cli.command
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let out = rt.block_on(meseta_bench::master_scale::run(
            agents,
            std::time::Duration::from_secs(window_secs),
        ))?;
        print!("{out}");
        if let Some(file) = &cli.record {
            meseta_bench::report::record(
                file,
                "master-scale",
                &format!("## master-scale\n\n{out}"),
            )?;
        }
        return Ok(());
    }
    if let Cmd::Lb {
        apps,
        instances,
        samples,
    } = cli.command
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let opts = meseta_bench::lb::Options {
            apps,
            instances,
            samples,
        };
        let out = rt.block_on(meseta_bench::lb::run(&opts))?;
        print!("{out}");
        if let Some(file) = &cli.record {
            meseta_bench::report::record(file, "lb", &format!("## lb\n\n{out}"))?;
        }
        return Ok(());
    }
    if !nix::unistd::Uid::effective().is_root() {
        anyhow::bail!("meseta-bench needs root (cgroups, namespaces, mounts)");
    }
    match cli.command {
        Cmd::Allocator { .. }
        | Cmd::MasterScale { .. }
        | Cmd::Lb { .. }
        | Cmd::Chronos { .. }
        | Cmd::Ui { .. } => {}
        Cmd::Recovery { tasks, isolation } => {
            let opts = meseta_bench::recovery::Options {
                counts: tasks,
                isolation,
            };
            let out = meseta_bench::recovery::run(&opts)?;
            print!("{out}");
            if let Some(file) = &cli.record {
                meseta_bench::report::record(
                    file,
                    "recovery",
                    &format!(
                        "## recovery

{out}"
                    ),
                )?;
            }
        }
        Cmd::Failover {
            tasks,
            zk_session_timeout,
        } => {
            let out = meseta_bench::failover::run(&meseta_bench::failover::Options {
                tasks,
                session_timeout: zk_session_timeout,
            })?;
            print!("{out}");
            if let Some(file) = &cli.record {
                meseta_bench::report::record(file, "failover", &format!("## failover\n\n{out}"))?;
            }
        }
        Cmd::E2e {
            latency_samples,
            tasks,
            stages,
            runtime_on_disk,
        } => {
            let out = meseta_bench::e2e::run(&meseta_bench::e2e::Options {
                latency_samples,
                tasks,
                stages,
                runtime_on_disk,
            })?;
            print!("{out}");
            if let Some(file) = &cli.record {
                meseta_bench::report::record(file, "e2e", &format!("## e2e\n\n{out}"))?;
            }
        }
        Cmd::Statistics {
            containers,
            requests,
            isolation,
        } => {
            let out = meseta_bench::statistics::run(&meseta_bench::statistics::Options {
                containers,
                requests,
                isolation,
            })?;
            print!("{out}");
            if let Some(file) = &cli.record {
                meseta_bench::report::record(
                    file,
                    "statistics",
                    &format!("## statistics\n\n{out}"),
                )?;
            }
        }
        Cmd::Marathon {
            instances,
            sim_tasks,
            marathon_bin,
        } => {
            let out = meseta_bench::marathon::run(&meseta_bench::marathon::Options {
                instances,
                sim_tasks,
                marathon_bin,
            })?;
            print!("{out}");
            if let Some(file) = &cli.record {
                meseta_bench::report::record(file, "marathon", &format!("## marathon\n\n{out}"))?;
            }
        }
        Cmd::AgentRss { tasks } => {
            let out = meseta_bench::rss::run(tasks)?;
            print!("{out}");
            if let Some(file) = &cli.record {
                meseta_bench::report::record(file, "agent-rss", &format!("## agent-rss\n\n{out}"))?;
            }
        }
        Cmd::Launch { iterations, warmup } => {
            // Before any thread exists: unshare(CLONE_NEWNS) refuses multi-threaded callers.
            meseta_bench::launch::enter_private_mount_namespace()?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let opts = meseta_bench::launch::Options { iterations, warmup };
            let out = rt.block_on(meseta_bench::launch::run(&opts))?;
            print!("{out}");
            if let Some(file) = cli.record {
                meseta_bench::report::record(&file, "launch", &format!("## launch\n\n{out}"))?;
            }
        }
        Cmd::Image {
            cold,
            warm,
            without_docker,
        } => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let opts = meseta_bench::image::Options {
                cold,
                warm,
                docker: !without_docker,
            };
            let out = rt.block_on(meseta_bench::image::run(&opts))?;
            print!("{out}");
            if let Some(file) = cli.record {
                meseta_bench::report::record(&file, "image", &format!("## image\n\n{out}"))?;
            }
        }
    }
    Ok(())
}
