//! Agent operator API examples from `docs/operator-http-api.md` (Agent API section).

use super::round_trip;
use crate::agent::{Call, CallType, Response, ResponseType};
use crate::{TaskState, VersionInfo};

#[test]
fn documented_calls() {
    let calls = [
        r#"{"type": "GET_HEALTH"}"#,
        r#"{"type": "GET_FLAGS"}"#,
        r#"{"type": "GET_VERSION"}"#,
        r#"{"type": "GET_STATE"}"#,
        r#"{"type": "GET_METRICS", "get_metrics": {"timeout": {"nanoseconds": 5000000000}}}"#,
        r#"{"type": "LIST_FILES", "list_files": {"path": "one/"}}"#,
        r#"{"type": "READ_FILE", "read_file": {"length": 6, "offset": 1, "path": "myname"}}"#,
        r#"{"type": "GET_CONTAINERS", "get_containers": {"show_nested": true, "show_standalone": false}}"#,
        r#"{"type": "LAUNCH_NESTED_CONTAINER", "launch_nested_container": {
            "container_id": {"parent": {"value": "p"}, "value": "c"},
            "command": {"value": "sleep 1000"}}}"#,
        r#"{"type": "WAIT_CONTAINER", "wait_container": {"container_id": {"value": "c"}}}"#,
        r#"{"type": "KILL_CONTAINER", "kill_container": {"container_id": {"value": "c"}, "signal": 15}}"#,
        r#"{"type": "LAUNCH_CONTAINER", "launch_container": {"container_id": {"value": "c"},
            "command": {"value": "true"}, "resources": [{"name": "cpus", "type": "SCALAR",
            "scalar": {"value": 0.5}}], "container": {"type": "MESOS"}}}"#,
    ];
    for json in calls {
        let call: Call = round_trip(json, None);
        assert_eq!(call.validate(), Ok(()), "{json}");
    }
    assert_eq!(
        serde_json::to_string(&Call::bare(CallType::GetHealth)).unwrap(),
        r#"{"type":"GET_HEALTH"}"#
    );
}

#[test]
fn call_errors() {
    let err = Call::from_json(br#"{"type": "GET_WEATHER"}"#).unwrap_err();
    assert!(err.to_string().contains("GET_WEATHER"), "{err}");
    let call = Call::from_json(br#"{"type": "READ_FILE"}"#).unwrap();
    assert_eq!(
        call.validate().unwrap_err().to_string(),
        "Expecting 'read_file' to be present"
    );
    // READ_FILE requires path and offset.
    assert!(Call::from_json(br#"{"type": "READ_FILE", "read_file": {"path": "x"}}"#).is_err());
}

#[test]
fn documented_responses() {
    let responses = [
        r#"{"type": "GET_HEALTH", "get_health": {"healthy": true}}"#,
        r#"{"type": "GET_FLAGS", "get_flags": {"flags": [{"name": "acls", "value": ""},
            {"name": "appc_store_dir", "value": "/tmp/mesos/store/appc"}]}}"#,
        r#"{"type": "GET_VERSION", "get_version": {"version_info": {"version": "1.0.0",
            "build_date": "2016-06-24 23:18:37", "build_time": 1466810317, "build_user": "root"}}}"#,
        r#"{"type": "GET_METRICS", "get_metrics": {"metrics": [
            {"name": "allocator/event_queue_dispatches", "value": 1.0},
            {"name": "master/slaves_active", "value": 0.0}]}}"#,
        r#"{"type": "LIST_FILES", "list_files": {"file_infos": [{"gid": "root", "mode": 16877,
            "mtime": {"nanoseconds": 1470820172000000000}, "nlink": 2, "path": "one/2",
            "size": 4096, "uid": "root"}]}}"#,
        r#"{"type": "READ_FILE", "read_file": {"data": "b2R5", "size": 4}}"#,
        r#"{"type": "GET_CONTAINERS", "get_containers": {"containers": [{
            "container_id": {"value": "f0f97041-1860-4b4a-b279-91fec4e0ebd8"},
            "container_status": {"network_infos": [{"ip_addresses": [{"ip_address": "192.168.1.20"}]}]},
            "executor_id": {"value": "default"}, "executor_name": "",
            "framework_id": {"value": "cbe3c0f1-5655-4110-bc01-ae658a9dbab9-0000"},
            "resource_statistics": {"mem_limit_bytes": 2048, "timestamp": 0.0}}]}}"#,
        r#"{"type": "GET_AGENT", "get_agent": {"agent_info": {"hostname": "a", "port": 5051,
            "id": {"value": "S0"}}}}"#,
        r#"{"type": "WAIT_CONTAINER", "wait_container": {"exit_status": 0,
            "state": "TASK_FINISHED", "message": "Command exited with status 0"}}"#,
    ];
    for json in responses {
        let _: Response = round_trip(json, None);
    }
    let r: Response =
        serde_json::from_str(r#"{"type": "READ_FILE", "read_file": {"data": "b2R5", "size": 4}}"#)
            .unwrap();
    assert_eq!(r.read_file.unwrap().data.as_slice(), b"ody");
}

#[test]
fn get_state_response() {
    let json = r#"{
      "type": "GET_STATE",
      "get_state": {
        "get_executors": {"executors": [{"executor_info": {
            "command": {"arguments": ["mesos-executor", "--launcher_dir=/my-directory"],
                        "shell": false, "value": "my-directory"},
            "executor_id": {"value": "1"},
            "framework_id": {"value": "8903b84e-112f-4b5f-aad3-7366f6ae7ecc-0000"},
            "name": "Command Executor (Task: 1) (Command: sh -c 'sleep 1000')",
            "resources": [
              {"name": "cpus", "role": "*", "scalar": {"value": 0.1}, "type": "SCALAR"},
              {"name": "mem", "role": "*", "scalar": {"value": 32.0}, "type": "SCALAR"}],
            "source": "1"}}]},
        "get_frameworks": {"frameworks": [{"framework_info": {
            "checkpoint": false, "failover_timeout": 0.0, "hostname": "myhost",
            "id": {"value": "8903b84e-112f-4b5f-aad3-7366f6ae7ecc-0000"}, "name": "default",
            "principal": "my-principal", "role": "*", "user": "root"}}]},
        "get_tasks": {"launched_tasks": [{
            "agent_id": {"value": "8903b84e-112f-4b5f-aad3-7366f6ae7ecc-S0"},
            "framework_id": {"value": "8903b84e-112f-4b5f-aad3-7366f6ae7ecc-0000"},
            "name": "",
            "resources": [
              {"name": "cpus", "role": "*", "scalar": {"value": 2.0}, "type": "SCALAR"},
              {"name": "ports", "ranges": {"range": [{"begin": 31000, "end": 32000}]},
               "role": "*", "type": "RANGES"}],
            "state": "TASK_RUNNING",
            "status_update_state": "TASK_RUNNING",
            "status_update_uuid": "2qlPayEJRJGPeaWlahI+WA==",
            "statuses": [{
              "agent_id": {"value": "8903b84e-112f-4b5f-aad3-7366f6ae7ecc-S0"},
              "container_status": {"executor_pid": 19846,
                "network_infos": [{"ip_addresses": [{"ip_address": "127.0.1.1"}]}]},
              "executor_id": {"value": "1"},
              "source": "SOURCE_EXECUTOR",
              "state": "TASK_RUNNING",
              "task_id": {"value": "1"},
              "timestamp": 1470898839.48066,
              "uuid": "2qlPayEJRJGPeaWlahI+WA=="}],
            "task_id": {"value": "1"}}]}
      }
    }"#;
    let r: Response = round_trip(json, None);
    assert_eq!(r.r#type, ResponseType::GetState);
    let state = r.get_state.unwrap();
    let task = &state.get_tasks.unwrap().launched_tasks[0];
    assert_eq!(task.state, TaskState::Running);
    assert_eq!(task.status_update_uuid.as_ref().unwrap().len(), 16);
    let status = &task.statuses[0];
    assert_eq!(
        status.container_status.as_ref().unwrap().executor_pid,
        Some(19846)
    );
}

#[test]
fn response_builders() {
    let v = Response::version(VersionInfo {
        version: "1.11.0".into(),
        ..VersionInfo::default()
    });
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"type":"GET_VERSION","get_version":{"version_info":{"version":"1.11.0"}}}"#
    );
    let h = serde_json::to_string(&Response::health(true)).unwrap();
    assert_eq!(h, r#"{"type":"GET_HEALTH","get_health":{"healthy":true}}"#);
    let f = serde_json::to_value(Response::flags([("work_dir", "/var/lib/mesos")])).unwrap();
    assert_eq!(f["get_flags"]["flags"][0]["value"], "/var/lib/mesos");
    let m = serde_json::to_value(Response::metrics([("slave/uptime_secs", 3.5)])).unwrap();
    assert_eq!(m["get_metrics"]["metrics"][0]["value"], 3.5);
}
