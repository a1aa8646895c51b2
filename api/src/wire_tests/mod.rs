//! Round-trip tests against the JSON examples of Mesos' documentation
//! (`docs/scheduler-http-api.md`, `docs/executor-http-api.md`,
//! `docs/operator-http-api.md`): each example must parse, and re-serialise to equivalent
//! JSON (numbers compared as doubles; fields the docs show but the proto lacks dropped).

mod agent;
mod executor;
mod master;
mod scheduler;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Recursively turns every number into an `f64` so `2` and `2.0` compare equal.
fn normalize(v: Value) -> Value {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        other => other,
    }
}

/// Parses `json` as `T`, re-serialises it, and checks the result equals `expected`
/// (which defaults to `json` itself when `None`). Returns the parsed value.
fn round_trip<T: DeserializeOwned + Serialize>(json: &str, expected: Option<&str>) -> T {
    let parsed: T = serde_json::from_str(json).unwrap_or_else(|e| panic!("parse failed: {e}"));
    let out = normalize(serde_json::to_value(&parsed).unwrap());
    let want = normalize(serde_json::from_str(expected.unwrap_or(json)).unwrap());
    assert_eq!(
        out,
        want,
        "re-serialised JSON differs:\n got: {}\nwant: {}",
        serde_json::to_string_pretty(&out).unwrap(),
        serde_json::to_string_pretty(&want).unwrap()
    );
    parsed
}
