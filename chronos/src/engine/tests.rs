//! The engine on a simulated clock.

use chrono::{DateTime, TimeDelta, Utc};

use super::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn job(name: &str, schedule: &str) -> Job {
    Job {
        name: name.into(),
        command: "true".into(),
        schedule: Some(schedule.into()),
        ..Job::default()
    }
}

fn dependent(name: &str, parents: &[&str]) -> Job {
    Job {
        name: name.into(),
        command: "true".into(),
        parents: Some(parents.iter().map(|p| (*p).to_owned()).collect()),
        ..Job::default()
    }
}

/// Launches and finishes every queued run with `outcome`; returns their task ids.
fn finish_all(e: &mut Engine, outcome: Outcome, now: DateTime<Utc>) -> Vec<String> {
    let ids: Vec<String> = e.queued().map(|r| r.task_id.clone()).collect();
    for id in &ids {
        e.mark_launched(id, "agent", now);
        assert!(e.on_status(id, outcome, now));
    }
    ids
}

#[test]
fn a_minutely_job_runs_each_minute_and_counts_successes() {
    let mut e = Engine::new(EngineConfig::default());
    let start = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("a", "R/2027-01-01T00:00:00Z/PT1M"), start)
        .unwrap();
    for minute in 0..5 {
        let now = start + TimeDelta::minutes(minute) + TimeDelta::milliseconds(3);
        assert_eq!(e.tick(now), 1, "minute {minute}");
        assert_eq!(e.tick(now), 0);
        let ids = finish_all(&mut e, Outcome::Finished, now);
        assert_eq!(
            ids,
            vec![format!(
                "ct:{}:0:a:",
                (start + TimeDelta::minutes(minute)).timestamp_millis()
            )]
        );
    }
    let j = e.job("a").unwrap();
    assert_eq!(j.success_count, 5);
    assert_eq!(
        j.schedule.as_deref(),
        Some("R/2027-01-01T00:05:00.000Z/PT1M")
    );
    assert_eq!(e.next_wake(), Some(t("2027-01-01T00:05:00Z")));
}

#[test]
fn after_downtime_a_job_catches_up_once_not_in_a_burst() {
    let mut e = Engine::new(EngineConfig::default());
    let start = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("a", "R/2027-01-01T00:00:00Z/PT1M"), start)
        .unwrap();
    let later = t("2027-01-01T03:00:30Z");
    assert_eq!(e.tick(later), 1);
    assert_eq!(e.queue_len(), 1);
    assert_eq!(e.next_wake(), Some(t("2027-01-01T03:01:00Z")));
    assert_eq!(e.tick(later + TimeDelta::seconds(1)), 0);
}

#[test]
fn rn_counts_down_and_r0_stops() {
    let mut e = Engine::new(EngineConfig::default());
    let start = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("a", "R2/2027-01-01T00:00:00Z/PT1M"), start)
        .unwrap();
    e.put_scheduled(job("z", "R0/2027-01-01T00:00:00Z/PT1M"), start)
        .unwrap();
    let mut runs = 0;
    for minute in 0..10 {
        let now = start + TimeDelta::minutes(minute);
        runs += e.tick(now);
        finish_all(&mut e, Outcome::Finished, now);
    }
    assert_eq!(runs, 2);
    assert_eq!(
        e.job("a").unwrap().schedule.as_deref(),
        Some("R0/2027-01-01T00:02:00.000Z/PT1M")
    );
    assert_eq!(e.job("z").unwrap().success_count, 0);
    assert_eq!(e.next_wake(), None);
}

#[test]
fn not_concurrent_skips_while_the_previous_run_goes() {
    let mut e = Engine::new(EngineConfig::default());
    let start = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("a", "R/2027-01-01T00:00:00Z/PT1M"), start)
        .unwrap();
    let mut c = job("c", "R/2027-01-01T00:00:00Z/PT1M");
    c.concurrent = true;
    e.put_scheduled(c, start).unwrap();
    assert_eq!(e.tick(start), 2);
    assert_eq!(e.tick(start + TimeDelta::minutes(1)), 1); // only c
    assert_eq!(e.job_state("a"), "queued");
    assert_eq!(e.runs().filter(|r| r.job == "c").count(), 2);
}

#[test]
fn retries_two_means_three_tries_then_one_error() {
    let mut e = Engine::new(EngineConfig {
        failure_retry_ms: 5_000,
        disable_after_failures: 0,
    });
    let start = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("f", "R1/2027-01-01T00:00:00Z/PT1H"), start)
        .unwrap();
    e.tick(start);
    let mut tries = finish_all(&mut e, Outcome::Failed, start);
    for i in 1..=2 {
        let before = start + TimeDelta::milliseconds(5_000 * i - 1);
        assert_eq!(e.tick(before), 0, "retry {i} too early");
        let at = start + TimeDelta::milliseconds(5_000 * i);
        assert_eq!(e.tick(at), 1);
        tries.extend(finish_all(&mut e, Outcome::Failed, at));
        assert_eq!(e.job("f").unwrap().error_count, u64::from(i == 2));
    }
    let due = start.timestamp_millis();
    assert_eq!(tries, [0, 1, 2].map(|a| format!("ct:{due}:{a}:f:")));
    assert_eq!(e.tick(start + TimeDelta::minutes(5)), 0);
    let j = e.job("f").unwrap();
    assert_eq!(
        (j.error_count, j.errors_since_last_success, j.success_count),
        (1, 1, 0)
    );
}

#[test]
fn disabled_after_failures() {
    let mut e = Engine::new(EngineConfig {
        failure_retry_ms: 1,
        disable_after_failures: 2,
    });
    let start = t("2027-01-01T00:00:00Z");
    let mut j = job("f", "R/2027-01-01T00:00:00Z/PT1M");
    j.retries = 0;
    e.put_scheduled(j, start).unwrap();
    for m in 0..3 {
        let now = start + TimeDelta::minutes(m);
        e.tick(now);
        finish_all(&mut e, Outcome::Failed, now);
    }
    let j = e.job("f").unwrap();
    assert!(j.disabled);
    assert_eq!(j.error_count, 2);
}

#[test]
fn a_dependent_job_runs_once_all_parents_succeeded() {
    let mut e = Engine::new(EngineConfig::default());
    let now = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("p1", "R/2027-01-01T00:00:00Z/PT1H"), now)
        .unwrap();
    e.put_scheduled(job("p2", "R/2027-01-01T00:30:00Z/PT1H"), now)
        .unwrap();
    e.put_dependent(dependent("child", &["p1", "p2"])).unwrap();
    e.tick(now);
    finish_all(&mut e, Outcome::Finished, now);
    assert_eq!(e.queue_len(), 0, "child waits for p2");
    let later = t("2027-01-01T00:30:00Z");
    e.tick(later);
    finish_all(&mut e, Outcome::Finished, later);
    assert_eq!(
        e.queued().map(|r| r.job.clone()).collect::<Vec<_>>(),
        ["child"]
    );
    finish_all(&mut e, Outcome::Finished, later);
    assert_eq!(e.job("child").unwrap().success_count, 1);
    assert!(e.stored_job("child").unwrap().satisfied.is_empty());
}

#[test]
fn bad_dependencies_change_nothing() {
    let mut e = Engine::new(EngineConfig::default());
    let now = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("a", "R/2027-01-01T00:00:00Z/PT1H"), now)
        .unwrap();
    e.put_dependent(dependent("b", &["a"])).unwrap();
    e.put_dependent(dependent("c", &["b"])).unwrap();
    e.take_dirty();
    assert_eq!(
        e.put_dependent(dependent("x", &["nope"])),
        Err(PutError::UnknownParent("nope".into()))
    );
    assert_eq!(
        e.put_dependent(dependent("b", &["c"])),
        Err(PutError::Cycle("b".into()))
    );
    assert_eq!(
        e.put_dependent(dependent("b", &["b"])),
        Err(PutError::Cycle("b".into()))
    );
    assert!(e.put_scheduled(job("bad", "R/x/PT1M"), now).is_err());
    assert!(e.take_dirty().is_empty());
    assert_eq!(e.len(), 3);
    assert_eq!(
        e.job("b").unwrap().parents.as_deref(),
        Some(&["a".to_owned()][..])
    );
}

#[test]
fn deleting_a_parent_reattaches_children() {
    let mut e = Engine::new(EngineConfig::default());
    let now = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("a", "R/2027-01-01T00:00:00Z/PT1H"), now)
        .unwrap();
    e.put_dependent(dependent("b", &["a"])).unwrap();
    e.put_dependent(dependent("c", &["b"])).unwrap();
    e.delete("b", now).unwrap();
    assert_eq!(
        e.job("c").unwrap().parents.as_deref(),
        Some(&["a".to_owned()][..])
    );
    e.delete("a", now).unwrap();
    assert!(e.job("c").unwrap().schedule.is_some());
    assert_eq!(e.delete("a", now), Err(PutError::NotFound("a".into())));
}

#[test]
fn daily_0230_berlin_runs_once_per_day_at_the_right_instant_across_both_dst_changes() {
    for (start, expected) in [
        (
            "2027-03-27T02:30:00",
            [
                "2027-03-27T01:30:00Z",
                "2027-03-28T01:30:00Z",
                "2027-03-29T00:30:00Z",
            ],
        ),
        (
            "2027-10-30T02:30:00",
            [
                "2027-10-30T00:30:00Z",
                "2027-10-31T00:30:00Z",
                "2027-11-01T01:30:00Z",
            ],
        ),
    ] {
        let mut e = Engine::new(EngineConfig::default());
        let mut now = t(&format!("{}T00:00:00Z", &start[..10])) - TimeDelta::hours(3);
        let mut j = job("berlin", &format!("R/{start}/P1D"));
        j.schedule_time_zone = Some("Europe/Berlin".into());
        e.put_scheduled(j, now).unwrap();
        let mut fired = Vec::new();
        // A simulated clock ticking every 30 s for three days.
        for _ in 0..(3 * 24 * 120) {
            now += TimeDelta::seconds(30);
            if e.tick(now) > 0 {
                fired.push(now);
                finish_all(&mut e, Outcome::Finished, now);
            }
        }
        assert_eq!(fired, expected.map(t), "from {start}");
    }
}

#[test]
fn a_recovered_run_is_reconciled_not_repeated() {
    let mut e = Engine::new(EngineConfig::default());
    let start = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("a", "R/2027-01-01T00:00:00Z/PT1H"), start)
        .unwrap();
    e.put_scheduled(job("b", "R/2027-01-01T00:00:00Z/PT1H"), start)
        .unwrap();
    e.tick(start);
    e.mark_launched(
        &format!("ct:{}:0:a:", start.timestamp_millis()),
        "ag",
        start,
    );
    let stored_jobs: Vec<StoredJob> = ["a", "b"]
        .iter()
        .map(|n| e.stored_job(n).unwrap())
        .collect();
    let stored_runs: Vec<Run> = e.runs().cloned().collect();
    // The leader dies; a new one loads the store five minutes later.
    let now = start + TimeDelta::minutes(5);
    let mut e2 = Engine::new(EngineConfig::default());
    e2.restore(stored_jobs, stored_runs, now);
    assert_eq!(
        e2.tick(now),
        0,
        "schedules were advanced before the runs were launched"
    );
    assert_eq!(e2.recovered().len(), 2);
    let a = format!("ct:{}:0:a:", start.timestamp_millis());
    let b = format!("ct:{}:0:b:", start.timestamp_millis());
    e2.on_status(&a, Outcome::Running, now);
    e2.on_status(&b, Outcome::Unknown, now);
    assert_eq!(e2.queue_len(), 0, "a late update may still come: wait");
    let now = now + TimeDelta::milliseconds(RELAUNCH_GRACE_MS);
    assert_eq!(e2.tick(now), 1);
    assert_eq!(
        e2.queued().map(|r| r.task_id.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&b)
    );
    e2.on_status(&a, Outcome::Finished, now);
    finish_all(&mut e2, Outcome::Finished, now);
    assert_eq!(e2.job("a").unwrap().success_count, 1);
    assert_eq!(e2.job("b").unwrap().success_count, 1);
    assert_eq!(e2.next_wake(), Some(t("2027-01-01T01:00:00Z")));
}

#[test]
fn the_jobs_json_cache_follows_every_change() {
    let mut e = Engine::new(EngineConfig::default());
    let start = t("2027-01-01T00:00:00Z");
    e.put_scheduled(job("a", "R/2027-01-01T00:00:00Z/PT1M"), start)
        .unwrap();
    e.put_scheduled(job("b", "R/2027-01-01T00:00:00Z/PT1M"), start)
        .unwrap();
    let fresh = |e: &Engine| {
        serde_json::to_vec(&e.jobs().map(Job::for_display).collect::<Vec<_>>()).unwrap()
    };
    for step in 0..4 {
        if step % 2 == 0 {
            let d = e.take_dirty();
            e.warm_display(&d.jobs);
        }
        assert_eq!(e.jobs_json(), fresh(&e), "step {step}");
        assert_eq!(e.jobs_json(), fresh(&e), "cached, step {step}");
        let now = start + TimeDelta::minutes(step);
        e.tick(now);
        finish_all(&mut e, Outcome::Finished, now);
    }
    e.take_dirty();
    e.delete("a", start).unwrap();
    assert_eq!(e.jobs_json(), fresh(&e));
}
