//! The master's integration tests, one module per former test file, linked as one binary: each
//! binary links the master and the test harness, and ~30 of them kept a from-scratch build over
//! 4 GB. Each module says what it tests. Three keep their own binary:
//! `framework_semantics_on_real_agent` sets environment variables its agents inherit,
//! `http_server_is_bounded` opens connections up to the process's limits, and
//! `thousand_tasks_finish_quickly` times a run that concurrent tests would slow.

#![allow(clippy::tests_outside_test_module)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/ha.rs"]
mod ha;

mod agent_calls_arrive_in_batches;
mod agent_unreachable_after_ping_timeouts;
mod executors_and_offer_sets;
mod failover_and_master_restart;
mod flag_units_survive_mutated_input;
mod framework_acls_on_offer_operations;
mod framework_authentication_and_takeover;
mod http_authentication_and_acls;
mod master_binary_restart_keeps_ids;
mod master_serves_https;
mod masters_elect_a_leader_in_zookeeper;
mod offer_reserve_operations;
mod operator_api;
mod operator_drain_agent;
mod operator_event_stream;
mod operator_rejects_bad_input;
mod path_like_ids_are_refused;
mod pymesos_follows_leader_across_failover;
mod pymesos_operator_driver;
mod pymesos_scheduler_runs_tasks;
mod pymesos_weighted_roles_share_an_agent;
mod quota_and_weights_rescind_offers;
mod registry_group_commit;
mod reservations_survive_master_restart;
mod retried_update_does_not_move_task_back;
mod scheduler_launches_tasks_on_agent;
mod scheduler_rejects_bad_calls;
mod web_ui_in_chromium;
mod web_ui_with_authentication;
