//! The master's duration and byte-size flag parsers (`--allocation_interval=1secs`,
//! `--max_request_body_bytes=8MB`) against mutated text: never a panic, and what parses is in
//! range. `MESETA_FUZZ_CASES` (default 20,000, well under a second) and `MESETA_FUZZ_SEED`
//! as in `api/tests/parsers_survive_mutated_input.rs`.

use master_lite::flags::{parse_bytes, parse_duration};

/// xorshift64*, seeded so a failing case replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.next() % items.len() as u64).unwrap_or(0)]
    }
}

const PIECES: &[&str] = &[
    "0",
    "1",
    "9",
    ".",
    "..",
    "5",
    "00",
    "1.5",
    "18446744073709551616",
    "999999999999999999999",
    "1e9",
    "-",
    "+",
    " ",
    "\t",
    "ns",
    "us",
    "ms",
    "secs",
    "mins",
    "hrs",
    "days",
    "weeks",
    "B",
    "KB",
    "MB",
    "GB",
    "TB",
    "PB",
    "x",
    "é",
    "\u{0}",
    "NaN",
    "inf",
    "",
];

#[test]
fn duration_and_byte_flags_survive_mutations() {
    let cases: usize = std::env::var("MESETA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("MESETA_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_1234_abcd_ef01);
    let mut rng = Rng(seed);
    for case in 0..cases {
        let n = 1 + rng.next() % 4;
        let text: String = (0..n).map(|_| rng.pick(PIECES)).collect();
        let result = std::panic::catch_unwind(|| (parse_duration(&text), parse_bytes(&text)));
        let (duration, bytes) = result
            .unwrap_or_else(|_| panic!("MESETA_FUZZ_SEED={seed} case {case} panicked on {text:?}"));
        if let Ok(d) = duration {
            // Accepted text starts with a number and ends with a unit.
            assert!(
                text.trim().ends_with(char::is_alphabetic),
                "{text:?} -> {d:?}"
            );
        }
        if let Ok(b) = bytes {
            assert!(
                text.trim()
                    .starts_with(|c: char| c.is_ascii_digit() || c == '.'),
                "{text:?} -> {b}"
            );
        }
    }
    assert_eq!(parse_duration("1.5secs").unwrap().as_millis(), 1500);
    assert!(parse_duration("999999999999999999999weeks").is_err());
    assert_eq!(parse_bytes("8MB").unwrap(), 8 << 20);
}
