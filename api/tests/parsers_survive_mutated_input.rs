//! The cargo-fuzz bodies (`api/fuzz`) on the stable toolchain: valid scheduler, executor,
//! agent, master and internal calls, RecordIO streams and flag texts, mutated by byte flips,
//! cuts, duplications and splices of hostile tokens (`1e999`, `NaN`, deep nesting, NUL,
//! `..`, huge sizes). No parser may panic; what parses must round-trip.
//!
//! `MESETA_FUZZ_CASES` (default 3000 per parser, a second or two) sets the number of cases;
//! run millions offline with e.g. `MESETA_FUZZ_CASES=2000000 cargo test --release -p
//! meseta-api --test parsers_survive_mutated_input`. `MESETA_FUZZ_SEED` varies the run; a
//! failure prints the seed and case that reproduce it.

#![allow(clippy::tests_outside_test_module)]

#[path = "../fuzz/fuzz_targets/bodies.rs"]
mod bodies;

use meseta_tests::fuzz::{self, Rng};

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "0",
    "-1",
    "1e999",
    "-0",
    "NaN",
    "18446744073709551616",
    "0.5",
    "\"..\"",
    "\"a/b\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\"",
    "{\"value\":\"..\"}",
    "\"type\":",
    "\"SUBSCRIBE\"",
    "\"UNKNOWN\"",
    "[[[[[[[[[[[[[[[[",
    "\"scalar\":{\"value\":",
    "\"ranges\":{\"range\":[{\"begin\":5,\"end\":1}]}",
    "\u{feff}",
    "\"uuid\":\"!!\"",
    "\"data\":\"=\"",
];

const CALLS: &[&str] = &[
    r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"f","roles":["a","b/c"],"capabilities":[{"type":"MULTI_ROLE"}],"failover_timeout":1.5}}}"#,
    r#"{"type":"ACCEPT","framework_id":{"value":"fw"},"accept":{"offer_ids":[{"value":"o1"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31001}]}}],"command":{"value":"true","environment":{"variables":[{"name":"A","value":"b"}]}}}]}}],"filters":{"refuse_seconds":5}}}"#,
    r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"fw"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}"#,
    r#"{"type":"KILL","framework_id":{"value":"fw"},"kill":{"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":1000}}}}"#,
    r#"{"type":"RECONCILE","framework_id":{"value":"fw"},"reconcile":{"tasks":[{"task_id":{"value":"t"}}]}}"#,
    r#"{"type":"UPDATE","framework_id":{"value":"fw"},"executor_id":{"value":"e"},"update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"AAECAwQFBgcICQoLDA0ODw==","data":"aGk=","source":"SOURCE_EXECUTOR"}}}"#,
    r#"{"type":"SUBSCRIBE","framework_id":{"value":"fw"},"executor_id":{"value":"e"},"subscribe":{"unacknowledged_tasks":[],"unacknowledged_updates":[]}}"#,
    r#"{"type":"READ_FILE","read_file":{"path":"/a/b","offset":0,"length":10}}"#,
    r#"{"type":"LIST_FILES","list_files":{"path":"/a"}}"#,
    r#"{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"r","principal":"p"}]}]}}"#,
    r#"{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"r","guarantees":{"cpus":{"value":1}},"limits":{"mem":{"value":10}}}]}}"#,
    r#"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"r","weight":2.0}]}}"#,
    r#"{"type":"GET_STATE"}"#,
    r#"{"type":"TEARDOWN","teardown":{"framework_id":{"value":"fw"}}}"#,
    r#"{"type":"DRAIN_AGENT","drain_agent":{"agent_id":{"value":"a"},"max_grace_period":{"nanoseconds":5}}}"#,
];

const TEXTS: &[&str] = &[
    "cpus:4;mem:4096;disk:1000;ports:[31000-32000]",
    "cpus(role):2;mem(*):10;gpus:0",
    "rack:r1;zone:z;level:5;range:[1-2,5-9];set:{a,b}",
    r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]"#,
    "fw-0000",
    "..",
];

fn cases() -> usize {
    fuzz::cases(3000)
}

fn seed() -> u64 {
    fuzz::seed(0x9e37_79b9_7f4a_7c15)
}

/// 1-4 random edits of `base`.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.below(64)).min(out.len());
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
            4 => {
                let end = (at + rng.below(32)).min(out.len());
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..end, token.iter().copied());
            }
            _ => out.truncate(at),
        }
    }
    out
}

fn run(name: &str, seeds: &[Vec<u8>], body: fn(&[u8])) {
    let (n, seed) = (cases(), seed());
    let mut rng = Rng(seed);
    for base in seeds {
        body(base);
    }
    for case in 0..n {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base);
        let result = std::panic::catch_unwind(|| body(&input));
        assert!(
            result.is_ok(),
            "{name}: MESETA_FUZZ_SEED={seed} case {case} panicked on {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn json_call_parsers_survive_mutations() {
    let seeds: Vec<Vec<u8>> = CALLS.iter().map(|c| c.as_bytes().to_vec()).collect();
    // Every seed is a valid call of some API, so mutations start from inputs that get deep.
    for s in &seeds {
        let parses = meseta_api::scheduler::Call::from_json(s).is_ok()
            || meseta_api::executor::Call::from_json(s).is_ok()
            || meseta_api::agent::Call::from_json(s).is_ok()
            || meseta_api::master::Call::from_json(s).is_ok();
        assert!(
            parses,
            "seed does not parse: {}",
            String::from_utf8_lossy(s)
        );
    }
    run("calls", &seeds, bodies::calls);
}

#[test]
fn recordio_decoder_survives_mutations() {
    let seeds: Vec<Vec<u8>> = [&CALLS[..4], &[""], &["x"; 3]]
        .concat()
        .iter()
        .map(|c| {
            let mut s = meseta_api::recordio::encode(c.as_bytes());
            s.extend(meseta_api::recordio::encode(b"{\"type\":\"HEARTBEAT\"}"));
            s
        })
        .chain([b"99999999999999999999999\n".to_vec(), b"5\nab".to_vec()])
        .collect();
    run("recordio", &seeds, bodies::recordio);
}

#[test]
fn flag_text_parsers_survive_mutations() {
    let seeds: Vec<Vec<u8>> = TEXTS.iter().map(|c| c.as_bytes().to_vec()).collect();
    run("text", &seeds, bodies::text);
}
