//! `meseta-bench allocator`: master_lite's DRF allocator in-process (no network), in the shape
//! of Mesos's `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers` (agents
//! `cpus:24;mem:4096;disk:4096;ports:[31000-32000]`, every framework declines everything with a
//! long filter) and a placement run (10,000 agents, 100 frameworks, `cpus:0.1;mem:32` tasks).

use master_lite::allocator::bench::{decline_offers, placements};

use crate::report::ms;

/// Shapes with more agent×framework pairs than this run [`CAPPED_ROUNDS`] cycles instead of
/// frameworks + 2: walking every framework through every agent (Mesos's benchmark does
/// 2 × frameworks rounds) would take hours and ~50 GB of filters at 50k × 3000.
const PAIRS_CAP: usize = 10_000_000;
/// Cycles run for the capped shapes.
const CAPPED_ROUNDS: usize = 30;

/// Runs the matrix (`full` adds 50k agents and 3000 frameworks) and the placement run.
pub fn run(full: bool) -> String {
    let agents: &[usize] = if full {
        &[1_000, 10_000, 50_000]
    } else {
        &[1_000, 10_000]
    };
    let frameworks: &[usize] = if full {
        &[1, 100, 1_000, 3_000]
    } else {
        &[1, 100, 1_000]
    };
    let mut out = String::from(
        "DeclineOffers shape; a cycle that walks every agent and framework and finds everything filtered \
         (the steady state Mesos's benchmark times), and the mean of cycles that make offers.\n\n\
         Shapes above 10M agent×framework pairs run 30 cycles only (marked *): they never reach \
         the all-filtered state, so that column shows the slowest of their cycles instead.\n\n\
         | agents | frameworks | cycle, all filtered (ms) | cycle making offers (ms) | offers |\n|---|---|---|---|---|\n",
    );
    let mut cycle_10k_1k = f64::NAN;
    for &a in agents {
        for &f in frameworks {
            let capped = a * f > PAIRS_CAP;
            let rounds = if capped { CAPPED_ROUNDS } else { f + 2 };
            let r = decline_offers(a, f, rounds);
            let filtered = r.all_filtered_full_walk.unwrap_or(r.max);
            let mark = if capped { " *" } else { "" };
            if a == 10_000 && f == 1_000 {
                cycle_10k_1k = filtered.as_secs_f64() * 1000.0;
            }
            let offering = r.offering.map(ms).unwrap_or_else(|| "-".into());
            let row = format!(
                "| {a} | {f}{mark} | {} | {offering} | {} |\n",
                ms(filtered),
                r.offers
            );
            // Long runs show progress row by row.
            eprint!("{row}");
            out.push_str(&row);
        }
    }
    let p = placements(10_000, 100, 20, 16, 3);
    out.push_str(&format!(
        "\nPlacement: 10,000 agents, 100 frameworks, offers take up to 16 `cpus:0.1;mem:32` tasks that end 3 cycles later: \
         {} tasks in {:.2} s ({} ms inside `allocate`), **{:.0} placements/s**.\n",
        p.tasks,
        p.wall.as_secs_f64(),
        ms(p.allocate),
        p.per_second()
    ));
    out.push_str(&format!(
        "\nRESULT allocator cycle_ms_10k_1k={cycle_10k_1k:.2} placements_per_s={:.0}\n",
        p.per_second()
    ));
    out
}
