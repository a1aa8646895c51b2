//! The fuzz bodies shared by the libFuzzer targets (`api/fuzz`) and the stable mutation test
//! (`api/tests/parsers_survive_mutated_input.rs`). A body panics only on a finding: a parser
//! that panics, a parsed call that does not serialize back to something that parses to the
//! same JSON, a RecordIO stream whose records depend on how it was split into chunks.

use meseta_api::recordio::{self, Decoder};

/// Parses `data` as every JSON call type; whatever parses must validate without panicking and
/// round-trip (serialize, parse, serialize gives the same bytes).
pub fn calls(data: &[u8]) {
    macro_rules! round_trip {
        ($ty:ty) => {
            if let Ok(call) = meseta_api::from_json::<$ty>(stringify!($ty), data) {
                let json = serde_json::to_vec(&call).expect("a parsed call serializes");
                let again =
                    meseta_api::from_json::<$ty>(stringify!($ty), &json).unwrap_or_else(|e| {
                        panic!(
                            "{} does not re-parse: {e}: {}",
                            stringify!($ty),
                            String::from_utf8_lossy(&json)
                        )
                    });
                let json2 = serde_json::to_vec(&again).expect("serializes");
                assert!(
                    same(&value(&json), &value(&json2)),
                    "{} serialization is not stable: {} then {}",
                    stringify!($ty),
                    String::from_utf8_lossy(&json),
                    String::from_utf8_lossy(&json2)
                );
            }
        };
    }
    round_trip!(meseta_api::scheduler::Call);
    round_trip!(meseta_api::executor::Call);
    round_trip!(meseta_api::agent::Call);
    round_trip!(meseta_api::master::Call);
    round_trip!(meseta_api::internal::Call);
    if let Ok(c) = meseta_api::scheduler::Call::from_json(data) {
        let _ = c.validate();
    }
    if let Ok(c) = meseta_api::executor::Call::from_json(data) {
        let _ = c.validate();
    }
    if let Ok(c) = meseta_api::agent::Call::from_json(data) {
        let _ = c.validate();
    }
    if let Ok(c) = meseta_api::master::Call::from_json(data) {
        let _ = c.validate();
    }
}

fn value(json: &[u8]) -> serde_json::Value {
    serde_json::from_slice(json).expect("our own JSON parses")
}

/// JSON equality, numbers within a relative 1e-12: serde_json's default float parsing is
/// within one ULP, so a decimal with more digits than an f64 holds may move by one ULP.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Decodes `data` as a RecordIO stream in one chunk and in chunks cut where `data` says; both
/// must agree. Then encodes what was decoded and checks it decodes back.
pub fn recordio(data: &[u8]) {
    const MAX: usize = 4096;
    let whole = Decoder::with_max_record_size(MAX).decode(data);
    let mut split = Decoder::with_max_record_size(MAX);
    let mut records = Vec::new();
    let mut rest = data;
    let mut failed = None;
    while !rest.is_empty() {
        let cut = (usize::from(rest[0]) % 7 + 1).min(rest.len());
        match split.decode(&rest[..cut]) {
            Ok(r) => records.extend(r),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
        rest = &rest[cut..];
    }
    match (whole, failed) {
        (Ok(w), None) => {
            assert_eq!(w, records, "chunking changed the records");
            let mut stream = Vec::new();
            for r in &w {
                assert!(r.len() <= MAX, "a record over the limit was returned");
                recordio::encode_into(r, &mut stream);
            }
            let back = Decoder::with_max_record_size(MAX)
                .decode(&stream)
                .expect("re-decodes");
            assert_eq!(back, w);
        }
        (Err(_), Some(_)) => {}
        (w, s) => panic!("one chunking failed, the other did not: {w:?} / {s:?}"),
    }
}

/// The text parsers of flags: resources, attributes, values, and IDs.
pub fn text(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(resources) = meseta_api::resource_parse::parse_resources(&s, "*") {
        for r in &resources {
            assert!(!r.name.is_empty(), "a resource without a name from {s:?}");
        }
    }
    let _ = meseta_api::resource_parse::parse_attributes(&s);
    let _ = meseta_api::resource_parse::parse_value(&s);
    if meseta_api::validate_id(&s).is_ok() {
        assert!(!s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('\0'));
    }
}
