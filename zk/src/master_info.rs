//! `MasterInfo` as Mesos writes it into its `json.info_` znodes: `JSON::protobuf(info)`
//! rendered by stout, whose objects are `std::map`s, so keys come out sorted. Encoding through
//! a key-sorted value gives the same bytes whatever order the struct declares its fields in.

use std::collections::BTreeMap;

use meseta_api::MasterInfo;
use serde_json::Value;

/// The znode data for `info`: compact JSON with keys sorted at every level, as Mesos writes it.
pub fn encode(info: &MasterInfo) -> Vec<u8> {
    let value = serde_json::to_value(info).unwrap_or(Value::Null);
    let mut out = Vec::new();
    write_sorted(&value, &mut out);
    out
}

fn write_sorted(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push(b'{');
            for (i, (key, value)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(key).unwrap_or_default());
                out.push(b':');
                write_sorted(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend(serde_json::to_vec(scalar).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use meseta_api::Address;

    use super::*;

    /// The example from mesos-reference.md §4.4 (a Mesos 1.11 master's znode), byte for byte.
    #[test]
    fn matches_the_bytes_mesos_writes() {
        let info = MasterInfo {
            id: "<uuid>".into(),
            ip: MasterInfo::encode_ip("10.0.0.1".parse().unwrap()),
            port: 5050,
            pid: Some("master@10.0.0.1:5050".into()),
            hostname: Some("m1".into()),
            version: Some("1.11.0".into()),
            address: Some(Address {
                hostname: Some("m1".into()),
                ip: Some("10.0.0.1".into()),
                port: 5050,
            }),
            ..MasterInfo::default()
        };
        let expected = r#"{"address":{"hostname":"m1","ip":"10.0.0.1","port":5050},"hostname":"m1","id":"<uuid>","ip":16777226,"pid":"master@10.0.0.1:5050","port":5050,"version":"1.11.0"}"#;
        assert_eq!(String::from_utf8(encode(&info)).unwrap(), expected);
        let back: MasterInfo = serde_json::from_str(expected).unwrap();
        assert_eq!(back, info);
    }
}
