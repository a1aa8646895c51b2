//! Randomised differential test: the walk cache (skipping agents that
//! cannot yield anything) and the per-agent filter cover bits must never
//! change allocation results compared with an exhaustive walk that consults
//! every filter, and resource accounting must stay exact under arbitrary
//! event sequences.

use std::time::Duration;

use super::sorter::SplitMix64;
use super::*;

const SEC: u64 = 1_000_000_000;
const ROLES: [&str; 4] = ["*", "r1", "r2", "r1/sub"];

fn res(s: &str) -> Resources {
    parse_resources(s).unwrap()
}

struct Twin {
    cached: Allocator,
    uncached: Allocator,
}

impl Twin {
    /// Applies `f` to both allocators and checks they agree on success.
    fn both<T: std::fmt::Debug + PartialEq>(
        &mut self,
        mut f: impl FnMut(&mut Allocator) -> T,
    ) -> T {
        let a = f(&mut self.cached);
        let b = f(&mut self.uncached);
        assert_eq!(a, b);
        a
    }
}

fn key(o: &Offer) -> (String, String, String, String) {
    (
        o.framework_id.to_string(),
        o.role.to_string(),
        o.agent_id.to_string(),
        o.resources.to_string(),
    )
}

fn check_accounting(a: &Allocator, agents: &[String], fws: &[(String, Vec<&str>)]) {
    let mut sum = Quantities::new();
    for ag in agents {
        if let Some(av) = a.agent_available(ag) {
            sum.add(&av.scalar_quantities());
            assert!(a.agent_total(ag).unwrap().contains(av));
        }
    }
    for (fw, _) in fws {
        for r in ROLES {
            sum.add(&a.allocation(fw, r));
        }
    }
    assert_eq!(&sum, a.cluster_total());
}

#[test]
fn walk_cache_is_transparent_and_accounting_exact() {
    for seed in 1..=40u64 {
        run(seed);
    }
}

fn run(seed: u64) {
    let cfg = AllocatorConfig {
        shuffle_agents: false,
        seed,
        ..Default::default()
    };
    let mut t = Twin {
        cached: Allocator::new(cfg.clone()),
        uncached: Allocator::new(cfg),
    };
    t.uncached.exhaustive = true;
    let mut rng = SplitMix64::new(seed);
    let shapes = [
        "cpus:4;mem:2048;ports:[1000-1099]",
        "cpus:2;mem:1024;cpus(r1):1;mem(r1):256",
        "cpus:8;mem:512;disk:100",
    ];
    let agents: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
    for (i, ag) in agents.iter().enumerate() {
        let total = res(shapes[i % shapes.len()]);
        t.both(|a| a.add_agent(ag, total.clone(), vec![], &[]).is_ok());
    }
    let mut fws: Vec<(String, Vec<&str>)> = Vec::new();
    for i in 0..4 {
        let roles = vec![ROLES[i % 4], ROLES[(i + 1) % 4]];
        let id = format!("f{i}");
        t.both(|a| a.add_framework(&id, &roles, &[], true).is_ok());
        fws.push((id, roles));
    }
    let mut held: Vec<Offer> = Vec::new();
    let mut now = 0u64;
    let mut limit: Option<Scalar> = None;
    let mut offers = 0;
    for _step in 0..300 {
        now += SEC / 2 + rng.next_u64() % (4 * SEC);
        match rng.next_u64() % 10 {
            0..=4 => {
                let before = t.cached.consumed_quota("r2").get("cpus");
                let mut a = t.cached.allocate(now);
                let mut b = t.uncached.allocate(now);
                a.sort_by_key(key);
                b.sort_by_key(key);
                assert_eq!(a, b, "seed {seed}");
                offers += a.len();
                if let Some(l) = limit {
                    let after = t.cached.consumed_quota("r2").get("cpus");
                    assert!(after <= l.max(before), "quota exceeded: {after} > {l}");
                }
                for o in a {
                    let refuse = match rng.next_u64() % 4 {
                        0 => None,
                        1 => Some(Duration::from_secs(rng.next_u64() % 20)),
                        2 => Some(Duration::from_secs(3600)),
                        _ => {
                            held.push(o);
                            continue;
                        }
                    };
                    let mut task = res("cpus:0.5;mem:64");
                    task.allocate(&o.role);
                    let mut decline = o.resources.clone();
                    if rng.next_u64() % 2 == 0 && decline.contains(&task) {
                        decline.subtract(&task);
                        held.push(Offer {
                            resources: task,
                            ..o.clone()
                        });
                    }
                    t.both(|x| x.recover(&o.agent_id, &o.framework_id, &decline, refuse, now))
                        .unwrap();
                }
            }
            5 if !held.is_empty() => {
                let i = rng.below(held.len());
                let o = held.swap_remove(i);
                t.both(|x| x.recover(&o.agent_id, &o.framework_id, &o.resources, None, now))
                    .unwrap();
            }
            6 => {
                let (fw, roles) = &fws[rng.below(fws.len())];
                let role = roles[rng.below(2)];
                if rng.next_u64() % 2 == 0 {
                    t.both(|x| x.suppress(fw, &[role]).is_ok());
                } else {
                    t.both(|x| x.revive(fw, &[role]).is_ok());
                }
            }
            7 => {
                let ag = &agents[rng.below(agents.len())];
                match rng.next_u64() % 3 {
                    0 => t.both(|x| x.deactivate_agent(ag).is_ok()),
                    1 => t.both(|x| x.activate_agent(ag).is_ok()),
                    _ => {
                        let total = res(shapes[rng.below(3)]);
                        t.both(|x| x.update_agent(ag, total.clone()).is_ok())
                    }
                };
            }
            8 if rng.next_u64() % 2 == 0 => {
                let g = Scalar::from_units((rng.next_u64() % 6) as i64);
                let cfg = QuotaConfig {
                    guarantees: Quantities::from_pairs([("cpus", g)]),
                    ..Default::default()
                };
                t.both(|x| x.update_quota("r1", cfg.clone()).is_ok());
            }
            8 => {
                let l = Scalar::from_units(1 + (rng.next_u64() % 8) as i64);
                let cfg = QuotaConfig {
                    limits: Limits::from_pairs([("cpus", l)]),
                    ..Default::default()
                };
                limit = Some(l);
                t.both(|x| x.update_quota("r2", cfg.clone()).is_ok());
            }
            _ if rng.next_u64() % 2 == 0 => {
                let w = 0.5 + (rng.next_u64() % 4) as f64;
                t.both(|x| x.update_weights(&[("r1", w)]).is_ok());
            }
            _ => {
                let i = rng.below(fws.len());
                let roles = vec![ROLES[rng.below(4)], ROLES[rng.below(4)]];
                let fw = fws[i].0.clone();
                t.both(|x| x.update_framework(&fw, &roles, &[]).is_ok());
                fws[i].1 = roles;
            }
        }
        check_accounting(&t.cached, &agents, &fws);
        check_accounting(&t.uncached, &agents, &fws);
    }
    assert!(offers > 50, "seed {seed}: only {offers} offers");
}
