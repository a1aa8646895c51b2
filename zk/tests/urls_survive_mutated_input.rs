//! `zk://` URLs as hostile text: valid URLs mutated by byte flips, cuts, duplications and
//! splices of tokens that matter to the grammar (`@`, `:`, `,`, `/`, `[`, `]`, NUL, huge ports,
//! non-ASCII). Parsing never panics, and what parses is a usable URL: at least one server, an
//! absolute path, and (without credentials, which are masked when shown) the same URL again
//! when its display form is parsed.
//!
//! `MESETA_FUZZ_CASES` (default 20,000, well under a second) sets the number of cases;
//! `MESETA_FUZZ_SEED` varies the run, and a failure prints the case.

// An integration test file is its own crate: its tests belong at the top level.
#![allow(clippy::tests_outside_test_module)]

use meseta_tests::fuzz::{self, Rng};
use meseta_zk::ZkUrl;

const SEEDS: &[&str] = &[
    "zk://127.0.0.1:2181/mesos",
    "zk://u:p@h1:2181,h2:2182,h3:2183/mesos/a",
    "zk://[::1]:2181/x",
    "zk://h/",
    "zk://zk1.example.com:2181,zk2.example.com:2181/chronos/state",
];

const TOKENS: &[&str] = &[
    "@",
    ":",
    ",",
    "/",
    "//",
    "[",
    "]",
    "\0",
    "..",
    "%2f",
    "99999999",
    "65536",
    "0",
    "-1",
    "é",
    "\u{202e}",
    " ",
    "\n",
    "zk://",
    "file://",
    "user:pass@",
    "[::1]",
    ":2181",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut s: Vec<char> = seed.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(4) {
            0 if !s.is_empty() => {
                let i = at.min(s.len() - 1);
                s[i] = char::from(u8::try_from(rng.below(0x80)).unwrap_or(b'x'));
            }
            1 => s.truncate(at),
            2 => {
                let end = (at + rng.below(8)).min(s.len());
                let dup: Vec<char> = s[at.min(end)..end].to_vec();
                s.splice(at..at, dup);
            }
            _ => {
                let t: Vec<char> = TOKENS[rng.below(TOKENS.len())].chars().collect();
                s.splice(at..at, t);
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn zk_urls_survive_mutated_input() {
    let cases = fuzz::cases(20_000);
    let seed = fuzz::seed(0x5eed_2181);
    let mut rng = Rng(seed | 1);
    let mut accepted = 0;
    for _ in 0..cases {
        let base = SEEDS[rng.below(SEEDS.len())];
        let text = mutate(&mut rng, base);
        let Ok(url) = text.parse::<ZkUrl>() else {
            continue;
        };
        accepted += 1;
        assert!(!url.servers.is_empty(), "{text:?} parsed with no server");
        assert!(
            url.path.starts_with('/'),
            "{text:?} parsed to a relative path {:?}",
            url.path
        );
        if url.credentials.is_none() {
            let shown = url.to_string();
            let again: ZkUrl = shown
                .parse()
                .unwrap_or_else(|e| panic!("{text:?} → {shown:?} does not parse again: {e}"));
            assert_eq!(again, url, "{text:?} → {shown:?} parses differently");
        }
    }
    assert!(
        accepted > 0,
        "no mutated URL was accepted: the mutations are too destructive"
    );
}
