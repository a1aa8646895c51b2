//! The agent's integration tests, one module per former test file, linked as one binary: each
//! binary links the whole agent, and ~30 of them kept a from-scratch build over 4 GB. Each
//! module says what it tests. `no_leaks_after_100_launches` keeps its own binary: it counts
//! this process's fds, mounts and children, which concurrent tests would disturb.

#![allow(clippy::tests_outside_test_module)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../daemon_harness/mod.rs"]
mod daemon_harness;
#[path = "../docker_common/mod.rs"]
mod docker_common;
#[path = "../fault_rig/mod.rs"]
mod fault_rig;

mod agent_answers_pings_and_redetects_a_silent_master;
mod agent_flags_and_command_executor;
mod agent_http_authentication;
mod agent_kill9_keeps_50_tasks;
mod agent_master_flag_zookeeper;
mod agent_reconfiguration_policy;
mod agent_recovers_checkpointed_tasks;
mod agent_runs_executor_tasks;
mod agentctl_recover_dry_run;
mod containerizer_on_cgroup_v2;
mod containerizer_runs_isolated_tasks;
mod docker_agent_restart_recovers_docker_tasks;
mod docker_containerizer_runs_docker_tasks;
mod docker_engine_api_against_dockerd;
mod docker_health_checks;
mod docker_pull_with_registry_auth;
mod docker_remove_delay_survives_restart;
mod executor_calls_cannot_be_forged;
mod executor_kill_reports_task_failed;
mod files_cannot_escape_or_block_the_agent;
mod gc_and_disk_quota;
mod idle_supervisor_parks;
mod image_flags_are_validated;
mod image_pull_with_credentials;
mod image_rootfs_is_cleaned_up;
mod kill_waits_for_recovered_executor;
mod launch_kill_loop_leaks_nothing;
mod master_away_keeps_tasks;
mod posix_isolation_reports_usage;
