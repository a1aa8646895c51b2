//! Benchmark drivers for `meseta-bench allocator`.
//!
//! * [`decline_offers`] reproduces Mesos's `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers`:
//!   agents `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, each with a
//!   slice already used by one framework; every round all offers are
//!   declined with a very long filter and an allocation cycle is timed, until
//!   every framework filters every agent.
//! * [`placements`] runs frameworks that launch small tasks on every offer
//!   as fast as offers allow and reports tasks placed per second of wall time.

use std::time::{Duration, Instant};

use super::filters::refuse_duration;
use super::hierarchical::{Allocator, AllocatorConfig, Offer};
use super::parse::parse;
use super::ranges::Ranges;
use super::resources::{Resource, Resources};

const SEC: u64 = 1_000_000_000;

/// Agent shape used by the Mesos allocator benchmarks.
pub const AGENT: &str = "cpus:24;mem:4096;disk:4096;ports:[31000-32000]";

/// Timings of a DeclineOffers run.
#[derive(Debug, Clone)]
pub struct DeclineReport {
    /// Agents simulated.
    pub agents: usize,
    /// Frameworks simulated.
    pub frameworks: usize,
    /// Allocation cycles timed.
    pub rounds: usize,
    /// Mean `allocate()` time over all rounds.
    pub mean: Duration,
    /// Slowest `allocate()`.
    pub max: Duration,
    /// Mean `allocate()` time of rounds that made offers.
    pub offering: Option<Duration>,
    /// Mean `allocate()` time of rounds that made no offer (everything filtered).
    pub all_filtered: Option<Duration>,
    /// Mean `allocate()` time once everything is filtered, with the walk
    /// cache invalidated before each cycle (every agent × framework examined).
    pub all_filtered_full_walk: Option<Duration>,
    /// Offers made (and declined) in total.
    pub offers: usize,
    /// Total wall time including declines.
    pub wall: Duration,
}

fn agent_resources() -> Resources {
    parse(AGENT).unwrap_or_default()
}

fn used_slice() -> Resources {
    let mut r = parse("cpus:16;mem:2014;disk:1024").unwrap_or_default();
    r.add_resource(&Resource::ranges(
        "ports",
        Ranges::fragment(31000, 32000, 16),
    ));
    r.allocate("*");
    r
}

/// Builds the DeclineOffers cluster: `frameworks` frameworks in role `*`,
/// `agents` agents each with a used slice owned round-robin by a framework.
pub fn decline_cluster(agents: usize, frameworks: usize) -> Allocator {
    let mut a = Allocator::new(AllocatorConfig::default());
    let frameworks = frameworks.max(1);
    for f in 0..frameworks {
        let _ = a.add_framework(&format!("fw-{f}"), &["*"], &[], true);
    }
    let (total, used) = (agent_resources(), used_slice());
    for i in 0..agents {
        let fw = format!("fw-{}", i % frameworks);
        let _ = a.add_agent(
            &format!("agent-{i}"),
            total.clone(),
            vec![],
            &[(&fw, used.clone())],
        );
    }
    a
}

/// Runs DeclineOffers for `rounds` cycles (Mesos uses `2 × frameworks`).
pub fn decline_offers(agents: usize, frameworks: usize, rounds: usize) -> DeclineReport {
    let mut a = decline_cluster(agents, frameworks);
    let long = refuse_duration(f64::from(i32::MAX));
    let mut offers: Vec<Offer> = Vec::new();
    let (mut total, mut max, mut filtered, mut filtered_n, mut made) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO, 0u32, 0usize);
    let (mut offering, mut offering_n) = (Duration::ZERO, 0u32);
    let wall = Instant::now();
    for round in 0..rounds {
        let now = (round as u64 + 1) * SEC;
        for o in offers.drain(..) {
            let _ = a.recover(&o.agent_id, &o.framework_id, &o.resources, Some(long), now);
        }
        let t = Instant::now();
        offers = a.allocate(now);
        let d = t.elapsed();
        total += d;
        max = max.max(d);
        if std::env::var_os("BENCH_TRACE").is_some() {
            eprintln!("round {round} {d:?} offers {}", offers.len());
        }
        made += offers.len();
        if offers.is_empty() {
            filtered += d;
            filtered_n += 1;
        } else {
            offering += d;
            offering_n += 1;
        }
    }
    let full_walk = (made > 0 && offers.is_empty()).then(|| {
        let mut sum = Duration::ZERO;
        for k in 0..5u64 {
            a.invalidate_walk_cache();
            let t = Instant::now();
            let o = a.allocate((rounds as u64 + 1 + k) * SEC);
            sum += t.elapsed();
            debug_assert!(o.is_empty());
        }
        sum / 5
    });
    DeclineReport {
        all_filtered_full_walk: full_walk,
        agents,
        frameworks,
        rounds,
        mean: total / u32::try_from(rounds.max(1)).unwrap_or(u32::MAX),
        max,
        all_filtered: (filtered_n > 0).then(|| filtered / filtered_n),
        offering: (offering_n > 0).then(|| offering / offering_n),
        offers: made,
        wall: wall.elapsed(),
    }
}

/// Allocation-cycle time in the Mesos DeclineOffers steady state: after
/// every framework has declined every agent with a long filter, the mean
/// time of a cycle that examines every agent and framework (walk cache
/// invalidated) and finds everything filtered. Mesos takes ~1 s for
/// 10,000 agents × 1,000 frameworks.
pub fn decline_offers_cycle(agents: usize, frameworks: usize) -> Duration {
    let r = decline_offers(agents, frameworks, frameworks + 2);
    r.all_filtered_full_walk.unwrap_or(r.max)
}

/// Result of a placement run.
#[derive(Debug, Clone)]
pub struct PlacementReport {
    /// Tasks launched.
    pub tasks: usize,
    /// Allocation cycles run.
    pub cycles: usize,
    /// Wall time (allocation, launches, declines and task completions).
    pub wall: Duration,
    /// Time spent inside `allocate()`.
    pub allocate: Duration,
}

impl PlacementReport {
    /// Tasks placed per second of wall time.
    pub fn per_second(&self) -> f64 {
        self.tasks as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Simulates `frameworks` frameworks launching `cpus:0.1;mem:32` tasks on
/// `agents` agents for `cycles` allocation cycles. Each offer gets up to
/// `tasks_per_offer` tasks; the rest is declined without a filter; tasks
/// finish `lifetime` cycles later (their resources are recovered).
pub fn placements(
    agents: usize,
    frameworks: usize,
    cycles: usize,
    tasks_per_offer: usize,
    lifetime: usize,
) -> PlacementReport {
    let mut a = Allocator::new(AllocatorConfig::default());
    for f in 0..frameworks.max(1) {
        let _ = a.add_framework(&format!("fw-{f}"), &["*"], &[], true);
    }
    let total = agent_resources();
    for i in 0..agents {
        let _ = a.add_agent(&format!("agent-{i}"), total.clone(), vec![], &[]);
    }
    let mut task = parse("cpus:0.1;mem:32").unwrap_or_default();
    task.allocate("*");
    let no_filter = Some(Duration::ZERO);
    // running[c % lifetime] holds (agent, framework, resources) finishing at cycle c.
    let lifetime = lifetime.max(1);
    let mut running: Vec<Vec<(Offer, Resources)>> = (0..lifetime).map(|_| Vec::new()).collect();
    let (mut tasks, mut alloc_time) = (0usize, Duration::ZERO);
    let wall = Instant::now();
    for c in 0..cycles {
        let now = (c as u64 + 1) * SEC;
        for (o, used) in std::mem::take(&mut running[c % lifetime]) {
            let _ = a.recover(&o.agent_id, &o.framework_id, &used, None, now);
        }
        let t = Instant::now();
        let offers = a.allocate(now);
        alloc_time += t.elapsed();
        for mut o in offers {
            let mut used = Resources::new();
            let mut n = 0;
            while n < tasks_per_offer && o.resources.contains(&task) {
                o.resources.subtract(&task);
                used.add(&task);
                n += 1;
            }
            tasks += n;
            let _ = a.recover(&o.agent_id, &o.framework_id, &o.resources, no_filter, now);
            if n > 0 {
                running[c % lifetime].push((o, used));
            }
        }
    }
    PlacementReport {
        tasks,
        cycles,
        wall: wall.elapsed(),
        allocate: alloc_time,
    }
}

/// Tasks placed per second with 16 tasks per offer and 3-cycle task lifetimes.
pub fn placements_per_second(agents: usize, frameworks: usize, cycles: usize) -> f64 {
    placements(agents, frameworks, cycles, 16, 3).per_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_runs() {
        let r = decline_offers(20, 5, 12);
        // 20 agents × 5 frameworks offers, then everything is filtered.
        assert_eq!(r.offers, 100);
        assert!(r.all_filtered.is_some());
        let p = placements(10, 3, 6, 16, 3);
        assert!(p.tasks >= 160, "{p:?}");
    }

    /// `cargo test -p master-lite --release -- --ignored --nocapture bench_report`
    #[test]
    #[ignore]
    fn bench_report() {
        for &(agents, fws) in &[
            (1000, 1),
            (1000, 100),
            (1000, 1000),
            (10_000, 1),
            (10_000, 100),
            (10_000, 1000),
        ] {
            let r = decline_offers(agents, fws, (fws + 2).max(4));
            println!(
                "decline {agents:>6} agents {fws:>5} fws: {} rounds; offering rounds {:?}; all filtered: cached {:?}, full walk {:?}; max {:?}; offers {}; wall {:?}",
                r.rounds, r.offering, r.all_filtered, r.all_filtered_full_walk, r.max, r.offers, r.wall
            );
        }
        let p = placements(10_000, 100, 20, 16, 3);
        println!(
            "placements: {} tasks in {:?} (allocate {:?}) = {:.0}/s",
            p.tasks,
            p.wall,
            p.allocate,
            p.per_second()
        );
    }

    /// One shape from the environment: `BENCH_AGENTS`, `BENCH_FWS`, `BENCH_ROUNDS`.
    #[test]
    #[ignore]
    fn bench_one() {
        let var = |k: &str, d: usize| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(d)
        };
        let (agents, fws) = (var("BENCH_AGENTS", 1000), var("BENCH_FWS", 100));
        let r = decline_offers(agents, fws, var("BENCH_ROUNDS", (2 * fws).max(4)));
        println!("{r:?}");
        if var("BENCH_PLACE", 0) > 0 {
            let p = placements(agents, fws, var("BENCH_PLACE", 0), 16, 3);
            println!("{p:?} {:.0}/s", p.per_second());
        }
    }
}
