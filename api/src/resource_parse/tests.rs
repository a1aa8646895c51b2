//! Tests for `--resources` / `--attributes` parsing.

use super::*;
use crate::value::Range;

#[test]
fn text_form_from_the_brief() {
    let r = parse_resources(
        "cpus:2;mem:1024;disk:4096;ports:[31000-32000];gpus(role):1",
        "*",
    )
    .unwrap();
    assert_eq!(r.len(), 5);
    assert_eq!(r[0], Resource::scalar("cpus", 2.0));
    assert_eq!(r[1], Resource::scalar("mem", 1024.0));
    assert_eq!(r[2], Resource::scalar("disk", 4096.0));
    assert_eq!(r[3], Resource::ranges("ports", [(31000, 32000)]));
    assert_eq!(r[4], Resource::scalar("gpus", 1.0).reserved_static("role"));
    assert_eq!(r[4].reservation_role(), Some("role"));
    assert_eq!(r[4].role, None);
}

#[test]
fn sets_spaces_and_default_role() {
    let r = parse_resources(" zones : { a, b } ; cpus:0.5;", "web").unwrap();
    assert_eq!(r[0].r#type, ValueType::Set);
    assert_eq!(r[0].set.as_ref().unwrap().item, vec!["a", "b"]);
    assert_eq!(r[0].name, "zones");
    assert_eq!(r[0].reservation_role(), Some("web"));
    assert_eq!(r[1].reservation_role(), Some("web"));
}

#[test]
fn ranges_are_coalesced_and_duplicates_merged() {
    let r = parse_resources("ports:[1000-1999,2000-2010, 5-6];cpus:1;cpus:1.5", "*").unwrap();
    assert_eq!(
        r[0].range_slice(),
        &[
            Range { begin: 5, end: 6 },
            Range {
                begin: 1000,
                end: 2010
            }
        ]
    );
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].scalar_value(), 2.5);
    // Different roles are different resources.
    let r = parse_resources("cpus:1;cpus(a):2", "*").unwrap();
    assert_eq!(r.len(), 2);
}

#[test]
fn json_form() {
    let json = r#"[
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 4}},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 512}, "role": "db"},
        {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 32000}]},
         "reservations": [{"type": "STATIC", "role": "web"}]}
    ]"#;
    let r = parse_resources(json, "*").unwrap();
    assert_eq!(r[0], Resource::scalar("cpus", 4.0));
    assert_eq!(r[1], Resource::scalar("mem", 512.0).reserved_static("db"));
    assert_eq!(r[2].reservation_role(), Some("web"));
    let r = parse_resources(
        r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]"#,
        "x",
    )
    .unwrap();
    assert_eq!(r[0].reservation_role(), Some("x"));
}

#[test]
fn bad_resources_are_errors_not_panics() {
    let cases = [
        ("cpus", "missing or extra ':'"),
        ("cpus:1:2", "missing or extra ':'"),
        ("cpus(role:1", "mismatched parentheses"),
        ("cpus:abc", "TEXT"),
        ("cpus:-1", "TEXT"),
        ("ports:[1-2", "mismatched brackets"),
        ("ports:[1-2-3]", "ranges"),
        ("ports:[a-b]", "non-negative integers"),
        ("ports:[5-1]", "begin > end"),
        ("ports:x[1-2]", "unexpected '['"),
        ("s:{a,a}", "duplicated"),
        ("cpus:1;cpus:[1-2]", "different types"),
        (r#"[{"name":"cpus"}]"#, "JSON"),
        ("[not json", "JSON"),
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"revocable":{}}]"#,
            "revocable",
        ),
        (
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":1},
                "reservations":[{"type":"DYNAMIC","role":"r"}]}]"#,
            "dynamic",
        ),
        (
            r#"[{"name":"cpus","type":"TEXT","text":{"value":"x"}}]"#,
            "unsupported",
        ),
        (
            r#"[{"name":"","type":"SCALAR","scalar":{"value":1}}]"#,
            "empty",
        ),
        (
            r#"[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":1,"end":5},{"begin":3,"end":9}]}}]"#,
            "overlapping",
        ),
    ];
    for (input, needle) in cases {
        let err = parse_resources(input, "*").expect_err(input).to_string();
        assert!(err.contains(needle), "{input:?}: {err}");
    }
    assert!(parse_resources("", "*").unwrap().is_empty());
}

#[test]
fn value_inference() {
    assert_eq!(parse_value("2").unwrap().r#type, ValueType::Scalar);
    assert_eq!(parse_value("0").unwrap().r#type, ValueType::Scalar);
    assert_eq!(parse_value("1.5e3").unwrap().scalar.unwrap().value, 1500.0);
    assert_eq!(parse_value("a").unwrap().r#type, ValueType::Text);
    assert_eq!(parse_value("-3").unwrap().r#type, ValueType::Text);
    assert_eq!(parse_value("inf").unwrap().r#type, ValueType::Text);
    assert_eq!(parse_value("[1-3]").unwrap().r#type, ValueType::Ranges);
    assert_eq!(parse_value("{a,b}").unwrap().r#type, ValueType::Set);
    assert_eq!(
        parse_value("ubuntu 16.04").unwrap().text.unwrap().value,
        "ubuntu16.04"
    );
    assert!(parse_value("  ").is_err());
    assert!(parse_value("1e-310").is_err());
    assert!(parse_value("a{b}").is_err());
}

#[test]
fn attributes() {
    let a = parse_attributes("rack:2;zone:a;ids:[1-3]\nos:ubuntu").unwrap();
    assert_eq!(a.len(), 4);
    assert_eq!(a[0], Attribute::scalar("rack", 2.0));
    assert_eq!(a[1], Attribute::text("zone", "a"));
    assert_eq!(a[2].r#type, ValueType::Ranges);
    assert_eq!(a[2].ranges.as_ref().unwrap().to_string(), "[1-3]");
    assert_eq!(a[3], Attribute::text("os", "ubuntu"));
    // Value may contain ':' (split on the first one only).
    let a = parse_attributes("url:http://x").unwrap();
    assert_eq!(a[0].text.as_ref().unwrap().value, "http://x");
    assert!(parse_attributes("").unwrap().is_empty());
}

#[test]
fn bad_attributes() {
    for (input, needle) in [
        ("rack", "missing or extra ':'"),
        (":2", "missing or extra ':'"),
        ("rack:", "missing or extra ':'"),
        ("ids:{a,b}", "set attributes are not supported"),
        ("ids:[1-", "mismatched brackets"),
    ] {
        let err = parse_attributes(input).expect_err(input).to_string();
        assert!(err.contains(needle), "{input:?}: {err}");
    }
}

#[test]
fn roles_are_validated_as_mesos_does() {
    let cases = [
        ("cpus():1", "role names cannot be the empty string"),
        ("cpus(.):1", "cannot include '.' as a component"),
        ("cpus(..):1", "cannot include '..' as a component"),
        (
            "cpus(-web):1",
            "'-web' is invalid because it starts with a dash",
        ),
        ("cpus(/web):1", "cannot start with a slash"),
        ("cpus(web/):1", "cannot end with a slash"),
        ("cpus(a//b):1", "two adjacent slashes"),
        ("cpus(a/*):1", "cannot include '*' as a component"),
        (
            "cpus(a/-b):1",
            "'-b' is invalid because it starts with a dash",
        ),
        ("cpus(a\x7fb):1", "backspace or whitespace"),
        (
            r#"[{"name":"mem","type":"SCALAR","scalar":{"value":1},"role":"a/../b"}]"#,
            "cannot include '..' as a component",
        ),
        (
            r#"[{"name":"mem","type":"SCALAR","scalar":{"value":1},
                "reservations":[{"type":"STATIC","role":"a b"}]}]"#,
            "backspace or whitespace",
        ),
    ];
    for (input, needle) in cases {
        let err = parse_resources(input, "*").expect_err(input).to_string();
        assert!(err.contains(needle), "{input:?}: {err}");
        assert!(err.contains("invalid role"), "{input:?}: {err}");
    }
    // A bad --default_role is caught where it is used.
    let err = parse_resources("cpus:1", "-x").unwrap_err().to_string();
    assert!(err.contains("starts with a dash"), "{err}");
    // Hierarchical roles, dots and dashes inside components are fine.
    let r = parse_resources("cpus(eng/web):1;mem(a.b-c):2;disk(*):3", "*").unwrap();
    assert_eq!(r[0].reservation_role(), Some("eng/web"));
    assert_eq!(r[1].reservation_role(), Some("a.b-c"));
    assert_eq!(r[2].reservation_role(), None);
}
