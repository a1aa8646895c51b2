//! Behavioural tests of the allocator against Mesos semantics.

use std::collections::HashMap;
use std::time::Duration;

use super::*;

const SEC: u64 = 1_000_000_000;

fn res(s: &str) -> Resources {
    parse_resources(s).unwrap()
}

fn alloc_with_agents(n: usize, agent: &str) -> Allocator {
    let mut a = Allocator::new(AllocatorConfig::default());
    for i in 0..n {
        a.add_agent(&format!("a{i}"), res(agent), vec![], &[])
            .unwrap();
    }
    a
}

/// Each offer: launch one `task` (if it fits) for frameworks present in
/// `tasks`, and decline the rest without a filter. Returns launches.
fn launch_one_per_offer(
    a: &mut Allocator,
    now: u64,
    tasks: &HashMap<&str, Resources>,
    launched: &mut HashMap<String, usize>,
) -> usize {
    launch_counting_misses(a, now, tasks, launched).0
}

/// Like [`launch_one_per_offer`], also returning offers where the task did not fit.
fn launch_counting_misses(
    a: &mut Allocator,
    now: u64,
    tasks: &HashMap<&str, Resources>,
    launched: &mut HashMap<String, usize>,
) -> (usize, usize) {
    let offers = a.allocate(now);
    let (mut n, mut missed) = (0, 0);
    for o in offers {
        let mut leftover = o.resources.clone();
        if let Some(t) = tasks.get(&*o.framework_id) {
            let mut t = t.clone();
            t.allocate(&o.role);
            if o.resources.contains(&t) {
                leftover.subtract(&t);
                *launched.entry(o.framework_id.to_string()).or_default() += 1;
                n += 1;
            } else {
                missed += 1;
            }
        }
        a.recover(&o.agent_id, &o.framework_id, &leftover, None, now)
            .unwrap();
    }
    (n, missed)
}

fn dominant(a: &Allocator, fw: &str, role: &str) -> f64 {
    sorter::dominant_share(&a.allocation(fw, role), a.cluster_total(), &[])
}

#[test]
fn drf_converges_to_equal_dominant_shares() {
    // 400 one-task agents; the CPU-heavy framework already runs on 100 of
    // them. Leftovers are made unallocatable so every offer fits one task.
    let cpu_task = res("cpus:1;mem:128");
    let mem_task = res("cpus:0.1;mem:1024");
    let mut a = Allocator::new(AllocatorConfig {
        min_allocatable_resources: parse_min_allocatable("cpus:1|mem:1024").unwrap(),
        ..Default::default()
    });
    a.add_framework("cpu-heavy", &["*"], &[], true).unwrap();
    for i in 0..400 {
        let mut used = cpu_task.clone();
        used.allocate("*");
        let used: Vec<(&str, Resources)> = if i < 100 {
            vec![("cpu-heavy", used)]
        } else {
            vec![]
        };
        a.add_agent(&format!("a{i}"), res("cpus:1;mem:1024"), vec![], &used)
            .unwrap();
    }
    assert!((dominant(&a, "cpu-heavy", "*") - 0.25).abs() < 1e-9);
    a.add_framework("mem-heavy", &["*"], &[], true).unwrap();
    let tasks: HashMap<&str, Resources> = [("cpu-heavy", cpu_task), ("mem-heavy", mem_task)].into();
    let mut launched = HashMap::new();
    let mut c = 0;
    while launch_one_per_offer(&mut a, c * SEC, &tasks, &mut launched) > 0 {
        c += 1;
        assert!(c < 100);
    }
    // cpu-heavy's dominant resource is cpus, mem-heavy's is mem.
    let (sa, sb) = (
        dominant(&a, "cpu-heavy", "*"),
        dominant(&a, "mem-heavy", "*"),
    );
    assert_eq!(launched["mem-heavy"], 200, "{launched:?}");
    assert!(
        (sa - 0.5).abs() < 1e-9 && (sb - 0.5).abs() < 1e-9,
        "cpu-heavy {sa} vs mem-heavy {sb}"
    );
}

#[test]
fn weights_two_to_one_give_two_to_one_shares() {
    let mut a = alloc_with_agents(100, "cpus:4;mem:4096");
    a.update_weights(&[("heavy", 2.0)]).unwrap();
    a.add_framework("f1", &["heavy"], &[], true).unwrap();
    a.add_framework("f2", &["light"], &[], true).unwrap();
    let t = res("cpus:1;mem:128");
    let tasks: HashMap<&str, Resources> = [("f1", t.clone()), ("f2", t)].into();
    let mut launched = HashMap::new();
    let mut c = 0;
    while launch_one_per_offer(&mut a, c * SEC, &tasks, &mut launched) > 0 {
        c += 1;
    }
    let (h, l) = (dominant(&a, "f1", "heavy"), dominant(&a, "f2", "light"));
    assert!((h / l - 2.0).abs() < 0.05, "heavy {h} light {l}");
    assert_eq!(launched["f1"] + launched["f2"], 400);
    assert!(a.update_weights(&[("x", 0.0)]).is_err());
    assert!(a.update_weights(&[("x", f64::NAN)]).is_err());
}

#[test]
fn quota_limits_never_exceeded_and_guarantees_hold_headroom() {
    let mut a = alloc_with_agents(10, "cpus:4;mem:1024");
    let limit = QuotaConfig::from_f64(&[], &[("cpus", 5.5)]).unwrap();
    a.update_quota("capped", limit).unwrap();
    let guarantee = QuotaConfig::from_f64(&[("cpus", 8.0)], &[]).unwrap();
    a.update_quota("guaranteed", guarantee).unwrap();
    a.add_framework("capped-fw", &["capped"], &[], true)
        .unwrap();
    a.add_framework("greedy", &["*"], &[], true).unwrap();
    for c in 0..5 {
        a.allocate(c * SEC); // Frameworks hold every offer.
        assert!(a.consumed_quota("capped").get("cpus") <= Scalar::from_milli(5500));
    }
    assert_eq!(
        a.consumed_quota("capped").get("cpus"),
        Scalar::from_milli(5500)
    );
    // 40 cpus - 5.5 capped - 8 held back for the guarantee.
    assert_eq!(
        a.allocation("greedy", "*").get("cpus"),
        Scalar::from_milli(26_500)
    );
    a.add_framework("g-fw", &["guaranteed"], &[], true).unwrap();
    a.allocate(10 * SEC);
    assert_eq!(
        a.allocation("g-fw", "guaranteed").get("cpus"),
        Scalar::from_units(8)
    );
    assert!(a.update_quota("*", QuotaConfig::none()).is_err());
    let bad = QuotaConfig::from_f64(&[("cpus", 2.0)], &[("cpus", 1.0)]).unwrap();
    assert!(a.update_quota("x", bad).is_err());
}

#[test]
fn filter_honoured_for_its_duration_and_cleared_by_revive() {
    let mut a = alloc_with_agents(1, "cpus:2;mem:1024");
    a.add_framework("f", &["*"], &[], true).unwrap();
    let o = a.allocate(0).pop().unwrap();
    a.recover(
        &o.agent_id,
        "f",
        &o.resources,
        Some(Duration::from_secs(10)),
        0,
    )
    .unwrap();
    assert_eq!(a.filter_count(), 1);
    assert!(a.allocate(SEC).is_empty());
    assert!(a.allocate(9 * SEC).is_empty());
    let o = a.allocate(10 * SEC).pop().expect("filter expired");
    a.recover(
        &o.agent_id,
        "f",
        &o.resources,
        Some(Duration::from_secs(3600)),
        10 * SEC,
    )
    .unwrap();
    assert!(a.allocate(11 * SEC).is_empty());
    // A larger agent is not covered by the filter any more.
    a.update_agent("a0", res("cpus:3;mem:1024")).unwrap();
    let o = a.allocate(12 * SEC).pop().expect("bigger than filter");
    a.recover(
        &o.agent_id,
        "f",
        &o.resources,
        Some(Duration::from_secs(3600)),
        12 * SEC,
    )
    .unwrap();
    assert!(a.allocate(13 * SEC).is_empty());
    a.revive("f", &[]).unwrap();
    assert_eq!(a.filter_count(), 0);
    assert_eq!(a.allocate(14 * SEC).len(), 1);
}

#[test]
fn filtered_resources_go_to_the_next_framework() {
    let mut a = alloc_with_agents(1, "cpus:2;mem:1024");
    a.add_framework("f1", &["*"], &[], true).unwrap();
    a.add_framework("f2", &["*"], &[], true).unwrap();
    let o = a.allocate(0).pop().unwrap();
    let first = o.framework_id.clone();
    a.recover(
        &o.agent_id,
        &first,
        &o.resources,
        Some(Duration::from_secs(60)),
        0,
    )
    .unwrap();
    let o = a.allocate(SEC).pop().unwrap();
    assert_ne!(o.framework_id, first);
    // Refuse-seconds rules: zero installs nothing, negative uses the 5 s default.
    a.recover(
        &o.agent_id,
        &o.framework_id,
        &o.resources,
        Some(refuse_duration(0.0)),
        SEC,
    )
    .unwrap();
    assert_eq!(a.filter_count(), 1);
    assert_eq!(refuse_duration(-3.0), Duration::from_secs(5));
    // DECLINE without filters uses the 5 s default.
    let o = a.allocate(2 * SEC).pop().unwrap();
    a.decline(&o.agent_id, &o.framework_id, &o.resources, None, 2 * SEC)
        .unwrap();
    a.decline("a0", "nobody", &o.resources, Some(f64::NAN), 2 * SEC)
        .unwrap();
    let next = a.allocate(3 * SEC);
    assert!(next.iter().all(|x| x.framework_id != o.framework_id));
}

#[test]
fn suppress_stops_offers_until_revive() {
    let mut a = alloc_with_agents(2, "cpus:2;mem:1024");
    a.add_framework("f", &["a", "b"], &[], true).unwrap();
    a.suppress("f", &[]).unwrap();
    assert!(a.allocate(0).is_empty());
    a.revive("f", &["b"]).unwrap();
    let offers = a.allocate(SEC);
    assert_eq!(offers.len(), 2);
    assert!(offers.iter().all(|o| &*o.role == "b"));
    assert!(offers
        .iter()
        .all(|o| o.resources.allocation_roles().len() == 1));
    assert!(a.suppress("f", &["zzz"]).is_err());
}

#[test]
fn min_allocatable_filters_tiny_leftovers() {
    let mut a = alloc_with_agents(1, "cpus:1;mem:64");
    a.add_framework("f", &["*"], &[], true).unwrap();
    let o = a.allocate(0).pop().unwrap();
    let mut keep = res("cpus:0.995;mem:40");
    keep.allocate("*");
    a.recover(&o.agent_id, "f", &o.resources.minus(&keep), None, 0)
        .unwrap();
    // Leftover cpus:0.005;mem:24 is below both cpus:0.01 and mem:32.
    assert!(a.allocate(SEC).is_empty());
    let mut more = res("cpus:0.005");
    more.allocate("*");
    a.recover("a0", "f", &more, None, SEC).unwrap();
    let o = a.allocate(2 * SEC).pop().expect("cpus:0.01 is allocatable");
    assert_eq!(o.resources.scalar("cpus"), Scalar::from_milli(10));
}

#[test]
fn fixed_point_accounting_has_no_drift() {
    let mut a = alloc_with_agents(1, "cpus:1;mem:1000");
    a.add_framework("f", &["*"], &[], true).unwrap();
    let o = a.allocate(0).pop().unwrap();
    let mut tenth = res("cpus:0.1;mem:100");
    tenth.allocate("*");
    for _ in 0..10 {
        a.recover("a0", "f", &tenth, None, 0).unwrap();
    }
    assert!(a.allocation("f", "*").is_empty());
    assert_eq!(a.agent_available("a0"), Some(&o.resources.unallocated()));
    let mut x = res("cpus:0.1");
    x.add(&res("cpus:0.2"));
    assert_eq!(x, res("cpus:0.3"));
}

#[test]
fn invalid_input_is_rejected_with_state_unchanged() {
    let mut a = alloc_with_agents(1, "cpus:4;mem:1024");
    for bad in ["..", ".", "-x", "a b", "/a", "a//b", ""] {
        assert!(
            matches!(
                a.add_framework("f", &[bad], &[], true),
                Err(AllocatorError::InvalidRole(_))
            ),
            "{bad:?}"
        );
    }
    assert!(a.roles().is_empty());
    let before = a.agent_total("a0").cloned();
    let too_big = ops::dynamic_reservation(&res("cpus:5"), "web", None);
    let err = a
        .apply_operations("a0", &[Operation::Reserve(too_big)])
        .unwrap_err();
    assert!(matches!(
        err,
        AllocatorError::Reservation(ReservationError::Insufficient { .. })
    ));
    let bad_role = ops::dynamic_reservation(&res("cpus:1"), "-x", None);
    assert!(a
        .apply_operations("a0", &[Operation::Reserve(bad_role)])
        .is_err());
    let star = ops::dynamic_reservation(&res("cpus:1"), "*", None);
    assert!(a
        .apply_operations("a0", &[Operation::Reserve(star)])
        .is_err());
    // A valid first op followed by an invalid one changes nothing.
    let ok = ops::dynamic_reservation(&res("cpus:1"), "web", None);
    let over = ops::dynamic_reservation(&res("cpus:3.5"), "web", None);
    assert!(a
        .apply_operations("a0", &[Operation::Reserve(ok), Operation::Reserve(over)])
        .is_err());
    assert_eq!(a.agent_total("a0").cloned(), before);
    assert!(a.add_agent("a0", res("cpus:1"), vec![], &[]).is_err());
    assert!(parse_resources("cpus(a b):1").is_err());
}

#[test]
fn reservations_are_offered_only_to_their_role() {
    let mut a = alloc_with_agents(0, "");
    a.add_agent(
        "a0",
        res("cpus(web):2;mem(web):64;cpus:1;mem:64"),
        vec![],
        &[],
    )
    .unwrap();
    a.add_framework("db", &["db"], &[], true).unwrap();
    let o = a.allocate(0).pop().unwrap();
    assert_eq!(o.resources.unallocated(), res("cpus:1;mem:64"));
    a.add_framework("web", &["web/api"], &[], true).unwrap();
    let o = a.allocate(SEC).pop().unwrap();
    assert_eq!(&*o.framework_id, "web");
    assert_eq!(o.resources.unallocated(), res("cpus(web):2;mem(web):64"));
    assert_eq!(a.consumed_quota("web").get("cpus"), Scalar::from_units(2));
    a.recover("a0", "web", &o.resources, None, SEC).unwrap();
    // Dynamic reservation for db, then unreserve it again.
    let o = a.allocate(2 * SEC).pop().unwrap();
    a.recover(
        "a0",
        "web",
        &o.resources,
        Some(Duration::from_secs(100)),
        2 * SEC,
    )
    .unwrap();
    a.recover("a0", "db", &a_alloc(&a, "db"), None, 2 * SEC)
        .unwrap();
    let r = ops::dynamic_reservation(&res("cpus:1"), "db", Some("ops"));
    a.apply_operations("a0", &[Operation::Reserve(r.clone())])
        .unwrap();
    assert_eq!(
        a.agent_total("a0").unwrap().scalar("cpus"),
        Scalar::from_units(3)
    );
    assert!(a.agent_total("a0").unwrap().contains(&r));
    a.apply_operations("a0", &[Operation::Unreserve(r)])
        .unwrap();
    assert!(a.agent_total("a0").unwrap().contains(&res("cpus:1")));
}

fn a_alloc(a: &Allocator, _fw: &str) -> Resources {
    // `db` holds the unreserved part offered in the first cycle.
    let total = a.agent_total("a0").unwrap().unreserved();
    let mut r = total.minus(&a.agent_available("a0").unwrap().unreserved());
    r.allocate("db");
    r
}

#[test]
fn agents_removed_deactivated_and_frameworks_removed() {
    let mut a = alloc_with_agents(2, "cpus:2;mem:1024");
    a.add_framework("f", &["*"], &[], true).unwrap();
    a.deactivate_agent("a1").unwrap();
    let offers = a.allocate(0);
    assert_eq!(offers.len(), 1);
    a.activate_agent("a1").unwrap();
    assert_eq!(a.allocate(SEC).len(), 1);
    a.remove_agent("a0").unwrap();
    assert_eq!(a.cluster_total().get("cpus"), Scalar::from_units(2));
    a.remove_framework("f").unwrap();
    assert_eq!(a.agent_available("a1"), Some(&res("cpus:2;mem:1024")));
    a.add_framework("g", &["*"], &[], true).unwrap();
    assert_eq!(a.allocate(2 * SEC).len(), 1);
    assert!(a.remove_framework("f").is_err());
}

#[test]
fn random_sorter_and_used_resources() {
    let cfg = AllocatorConfig {
        role_sorter: SorterKind::Random,
        framework_sorter: SorterKind::Random,
        ..Default::default()
    };
    let mut a = Allocator::new(cfg);
    let mut used = res("cpus:1;mem:128");
    used.allocate("r");
    a.add_agent(
        "a0",
        res("cpus:4;mem:1024"),
        vec![],
        &[("late", used.clone())],
    )
    .unwrap();
    assert_eq!(a.allocation("late", "r").get("cpus"), Scalar::from_units(1));
    assert_eq!(a.agent_available("a0"), Some(&res("cpus:3;mem:896")));
    a.add_framework("late", &["r"], &[], true).unwrap();
    a.add_framework("other", &["s"], &[], true).unwrap();
    let offers = a.allocate(0);
    assert_eq!(offers.len(), 1);
    a.recover("a0", "late", &used, None, 0).unwrap();
    assert!(a.add_framework("late", &["r"], &[], true).is_err());
}

#[test]
fn update_framework_changes_roles() {
    let mut a = alloc_with_agents(3, "cpus:2;mem:1024");
    a.add_framework("f", &["a", "b"], &[], true).unwrap();
    let offers = a.allocate(0);
    assert_eq!(offers.len(), 3);
    let held_a: Vec<Offer> = offers.iter().filter(|o| &*o.role == "a").cloned().collect();
    for o in offers.iter().filter(|o| &*o.role != "a") {
        a.recover(&o.agent_id, "f", &o.resources, None, 0).unwrap();
    }
    a.update_framework("f", &["b", "c"], &["b"]).unwrap();
    let offers = a.allocate(SEC);
    assert!(!offers.is_empty());
    assert!(offers.iter().all(|o| &*o.role == "c"), "{offers:?}");
    assert!(a.roles().contains(&"a".to_string()));
    for o in &held_a {
        a.recover(&o.agent_id, "f", &o.resources, None, SEC)
            .unwrap();
    }
    assert!(!a.roles().contains(&"a".to_string()), "{:?}", a.roles());
    assert!(a.update_framework("f", &[".."], &[]).is_err());
    assert!(a.update_framework("nope", &["x"], &[]).is_err());
}

#[test]
fn hierarchical_roles_share_parent_fairness() {
    // Two sub-roles of `eng` compete with `ops`: `eng` as a whole gets about
    // as much as `ops` (weights 1), split between its children.
    let mut a = Allocator::new(AllocatorConfig {
        min_allocatable_resources: parse_min_allocatable("cpus:1").unwrap(),
        ..Default::default()
    });
    for i in 0..90 {
        a.add_agent(&format!("a{i}"), res("cpus:1;mem:128"), vec![], &[])
            .unwrap();
    }
    a.add_framework("e1", &["eng/web"], &[], true).unwrap();
    a.add_framework("e2", &["eng/batch"], &[], true).unwrap();
    a.add_framework("o", &["ops"], &[], true).unwrap();
    let offers = a.allocate(0);
    assert_eq!(offers.len(), 90);
    let cpus = |r: &str| a.role_allocation(r).get("cpus");
    assert_eq!(cpus("eng"), Scalar::from_units(45));
    assert_eq!(cpus("ops"), Scalar::from_units(45));
    let (web, batch) = (cpus("eng/web"), cpus("eng/batch"));
    assert!((web - batch).milli().abs() <= 1000, "{web} {batch}");
}
