//! Master operator API examples from `docs/operator-http-api.md` (Master API section).
//! Every request example there parses; the response/event examples that break the proto
//! (missing required fields, non-base64 UUIDs) are used in corrected form.

use super::round_trip;
use crate::master::{Call, CallType, Event, EventType, Response};
use crate::recordio;
use crate::{FrameworkId, TaskId, TaskState, TaskStatus};

#[test]
fn documented_calls() {
    let calls = [
        r#"{"type": "GET_AGENTS"}"#,
        r#"{"type": "SUBSCRIBE"}"#,
        r#"{"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": "3192b9d1"},
            "max_grace_period": {"seconds": 600}, "mark_gone": false}}"#,
        r#"{"type": "UPDATE_QUOTA", "update_quota": {"force": false, "quota_configs": [
            {"role": "dev", "limits": {"cpus": {"value": 10}, "mem": {"value": 2048}}},
            {"role": "test", "limits": {"cpus": {"value": 1}, "disk": {"value": 512}}}]}}"#,
        r#"{"type": "UPDATE_MAINTENANCE_SCHEDULE", "update_maintenance_schedule": {"schedule": {
            "windows": [{"machine_ids": [{"hostname": "myhost"}, {"ip": "0.0.0.2"}],
            "unavailability": {"start": {"nanoseconds": 1470820233192017920}}}]}}}"#,
        r#"{"type": "TEARDOWN", "teardown": {"framework_id": {"value": "f-0000"}}}"#,
        r#"{"type": "RESERVE_RESOURCES", "reserve_resources": {"agent_id": {"value": "S0"},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1},
            "reservations": [{"type": "DYNAMIC", "role": "r", "principal": "p"}]}]}}"#,
    ];
    for json in calls {
        let call: Call = round_trip(json, None);
        assert_eq!(call.validate(), Ok(()), "{json}");
    }
    let call = Call::from_json(br#"{"type": "TEARDOWN"}"#).unwrap();
    assert_eq!(
        call.validate().unwrap_err().to_string(),
        "Expecting 'teardown' to be present"
    );
    let err = Call::from_json(br#"{"type": "GET_EVERYTHING"}"#).unwrap_err();
    assert!(err.to_string().contains("GET_EVERYTHING"), "{err}");
    assert_eq!(CallType::MarkAgentGone.as_str(), "MARK_AGENT_GONE");
}

#[test]
fn documented_responses() {
    let responses = [
        r#"{"type": "GET_MASTER", "get_master": {"master_info": {"address": {"hostname": "myhost",
            "ip": "127.0.1.1", "port": 34626}, "hostname": "myhost",
            "id": "310ffdac-0b73-408d-acf0-2adcd21cb4b7", "ip": 16842879,
            "pid": "master@127.0.1.1:34626", "port": 34626, "version": "1.1.0"},
            "start_time": 1470820171.5, "elected_time": 1470820172.5}}"#,
        // The docs' example predates the required `recovered` field.
        r#"{"type": "GET_FRAMEWORKS", "get_frameworks": {"frameworks": [{"active": true,
            "connected": true, "recovered": false, "framework_info": {"checkpoint": false,
            "failover_timeout": 0.0, "hostname": "myhost", "id": {"value": "361be53a-0000"},
            "name": "default", "principal": "my-principal", "role": "*", "user": "root"},
            "registered_time": {"nanoseconds": 1470820171578306816},
            "reregistered_time": {"nanoseconds": 1470820171578306816}}]}}"#,
        r#"{"type": "GET_AGENTS", "get_agents": {"agents": [{"active": true, "version": "1.11.0",
            "agent_info": {"hostname": "a1", "id": {"value": "S0"}, "port": 5051},
            "pid": "slave(1)@10.0.0.2:5051", "registered_time": {"nanoseconds": 1},
            "total_resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 4}}],
            "capabilities": [{"type": "MULTI_ROLE"}, {"type": "AGENT_DRAINING"}]}]}}"#,
        r#"{"type": "GET_QUOTA", "get_quota": {"status": {"configs": [{"role": "dev",
            "limits": {"cpus": {"value": 2.0}, "mem": {"value": 2048.0}}}]}}}"#,
        r#"{"type": "GET_ROLES", "get_roles": {"roles": [{"name": "*", "weight": 1.0,
            "frameworks": [{"value": "f"}], "resources": [{"name": "cpus", "type": "SCALAR",
            "scalar": {"value": 1}}]}]}}"#,
    ];
    for json in responses {
        let _: Response = round_trip(json, None);
    }
    let missing_recovered = r#"{"type": "GET_FRAMEWORKS", "get_frameworks": {"frameworks": [
        {"active": true, "connected": true, "framework_info": {"user": "u", "name": "n"}}]}}"#;
    assert!(serde_json::from_str::<Response>(missing_recovered).is_err());
}

#[test]
fn event_stream() {
    let subscribed = r#"{"type": "SUBSCRIBED", "subscribed": {"get_state": {"get_tasks": {},
        "get_agents": {}, "get_frameworks": {}, "get_executors": {}},
        "heartbeat_interval_seconds": 15}}"#;
    let task_added = r#"{"type": "TASK_ADDED", "task_added": {"task": {"name": "dummy-task",
        "task_id": {"value": "d40f3f3e"}, "framework_id": {"value": "f"},
        "agent_id": {"value": "f1c9cdc5"}, "state": "TASK_STAGING"}}}"#;
    let task_updated = r#"{"type": "TASK_UPDATED", "task_updated": {"framework_id": {"value": "f"},
        "status": {"task_id": {"value": "t"}, "state": "TASK_RUNNING"}, "state": "TASK_RUNNING"}}"#;
    let mut stream = Vec::new();
    for json in [
        subscribed,
        task_added,
        task_updated,
        r#"{"type": "HEARTBEAT"}"#,
    ] {
        let event: Event = round_trip(json, None);
        stream.extend(recordio::encode_json(&event).unwrap());
    }
    // The same events survive RecordIO framing, split at an awkward boundary.
    let mut decoder = recordio::Decoder::new();
    let mut records = decoder.decode(&stream[..5]).unwrap();
    records.extend(decoder.decode(&stream[5..]).unwrap());
    let events: Vec<Event> = records
        .iter()
        .map(|r| serde_json::from_slice(r).unwrap())
        .collect();
    assert_eq!(events.len(), 4);
    assert_eq!(events[3].r#type, EventType::Heartbeat);
    let updated = events[2].task_updated.as_ref().unwrap();
    assert_eq!(updated.framework_id, FrameworkId::new("f"));
    assert_eq!(
        updated.status,
        TaskStatus::new(TaskId::new("t"), TaskState::Running)
    );
}
