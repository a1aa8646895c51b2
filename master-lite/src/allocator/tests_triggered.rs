//! Event-triggered cycles keep strict DRF order around briefly filtered
//! frameworks; regular cycles walk past them as Mesos does.

use std::time::Duration;

use super::*;

const MS: u64 = 1_000_000;

fn one_agent_two_roles() -> Allocator {
    let mut a = Allocator::new(AllocatorConfig::default());
    a.add_agent(
        "a0",
        parse_resources("cpus:3;mem:3072").unwrap(),
        vec![],
        &[],
    )
    .unwrap();
    a.update_weights(&[("heavy", 2.0), ("light", 1.0)]).unwrap();
    a.add_framework("h", &["heavy"], &[], true).unwrap();
    a.add_framework("l", &["light"], &[], true).unwrap();
    a
}

/// Launches one small task from each offer and returns the rest unfiltered.
fn take_task(a: &mut Allocator, offers: Vec<Offer>, now: u64) -> Vec<String> {
    let task = parse_resources("cpus:0.1;mem:32").unwrap();
    let mut got = Vec::new();
    for o in offers {
        let mut t = task.clone();
        t.allocate(&o.role);
        let mut rest = o.resources.clone();
        rest.subtract(&t);
        a.recover(&o.agent_id, &o.framework_id, &rest, None, now)
            .unwrap();
        got.push(o.framework_id.to_string());
    }
    got
}

#[test]
fn triggered_cycles_do_not_hand_a_briefly_declined_agent_to_the_next_framework() {
    let mut a = one_agent_two_roles();
    // One task each; then "heavy" (weight 2, so the lower weighted share)
    // comes first and declines for 200 ms.
    let o = a.allocate(0);
    assert_eq!(take_task(&mut a, o, 0), ["h"]);
    let o = a.allocate(0);
    assert_eq!(take_task(&mut a, o, 0), ["l"]);
    let o = a.allocate(0).pop().unwrap();
    assert_eq!(&*o.framework_id, "h");
    a.decline(&o.agent_id, &o.framework_id, &o.resources, Some(0.2), 0)
        .unwrap();
    // Event-triggered cycles inside the filter window give "light" nothing...
    for t in 1..10 {
        assert!(a.allocate_triggered(t * MS).is_empty(), "cycle at {t} ms");
    }
    // ...a regular cycle does (Mesos walks past filtered frameworks)...
    let offers = a.allocate(50 * MS);
    assert_eq!(take_task(&mut a, offers, 50 * MS), ["l"]);
    // ...and once the filter expired, triggered cycles follow DRF again:
    // with weights 2:1 "heavy" gets two tasks for each of "light"'s.
    let mut got: Vec<String> = Vec::new();
    // (A filter lasts at least --allocation_interval, 1 s here.)
    let mut now = 1100 * MS;
    while got.len() < 27 {
        let offers = a.allocate_triggered(now);
        assert!(!offers.is_empty(), "no offer at {now}");
        got.extend(take_task(&mut a, offers, now));
        now += MS;
    }
    let heavy = got.iter().filter(|f| *f == "h").count();
    // 3 tasks before, 27 now: 30 fill the agent.
    assert_eq!((heavy + 1, got.len() + 2 - heavy), (20, 10), "{got:?}");
}

#[test]
fn long_filters_do_not_hold_back_triggered_cycles() {
    let mut a = one_agent_two_roles();
    let o = a.allocate(0).pop().unwrap();
    assert_eq!(&*o.framework_id, "h");
    // Declining for an hour says "not soon": the agent goes to "light" at once.
    a.recover(
        &o.agent_id,
        &o.framework_id,
        &o.resources,
        Some(Duration::from_secs(3600)),
        0,
    )
    .unwrap();
    let next = a.allocate_triggered(MS);
    assert_eq!(next.len(), 1);
    assert_eq!(&*next[0].framework_id, "l");
}

#[test]
fn a_deferred_agent_is_walked_by_the_next_regular_cycle() {
    let mut a = one_agent_two_roles();
    let o = a.allocate(0);
    assert_eq!(take_task(&mut a, o, 0), ["h"]);
    let o = a.allocate(0);
    assert_eq!(take_task(&mut a, o, 0), ["l"]);
    let o = a.allocate(0).pop().unwrap();
    assert_eq!(&*o.framework_id, "h");
    a.decline(&o.agent_id, &o.framework_id, &o.resources, Some(1.0), 0)
        .unwrap();
    assert!(a.allocate_triggered(MS).is_empty());
    // Nothing changed on the agent since, yet the regular cycle offers it.
    let next = a.allocate(2 * MS);
    assert_eq!(next.len(), 1);
    assert_eq!(&*next[0].framework_id, "l");
}
