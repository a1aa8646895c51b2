//! Executor API examples from `docs/executor-http-api.md`.

use super::round_trip;
use crate::executor::{Call, CallType, Event, EventType};
use crate::{ExecutorId, Source, TaskId, TaskState};

const SUBSCRIBE: &str = r#"{
  "type": "SUBSCRIBE",
  "executor_id": {"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"},
  "framework_id": {"value": "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"},
  "subscribe": {
    "unacknowledged_tasks": [{
        "name": "dummy-task",
        "task_id": {"value": "d40f3f3e-bbe3-44af-a230-4cb1eae72f67"},
        "agent_id": {"value": "f1c9cdc5-195e-41a7-a0d7-adaa9af07f81"},
        "command": {"value": "ls", "arguments": ["-l", "\/tmp"]}
    }],
    "unacknowledged_updates": [{
        "framework_id": {"value": "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"},
        "status": {
          "source": "SOURCE_EXECUTOR",
          "task_id": {"value": "d40f3f3e-bbe3-44af-a230-4cb1eae72f67"},
          "state": "TASK_RUNNING",
          "uuid": "ZDQwZjNmM2UtYmJlMy00NGFmLWEyMzAtNGNiMWVhZTcyZjY3Cg=="
        }
    }]
  }
}"#;

#[test]
fn subscribe_call() {
    // `Call.Update` has only `status`; the docs' extra `framework_id` is ignored.
    let expected = SUBSCRIBE.replace(
        r#"{
        "framework_id": {"value": "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"},
        "status""#,
        r#"{
        "status""#,
    );
    let call: Call = round_trip(SUBSCRIBE, Some(&expected));
    assert_eq!(call.r#type, CallType::Subscribe);
    let sub = call.subscribe.as_ref().unwrap();
    assert_eq!(
        sub.unacknowledged_tasks[0]
            .command
            .as_ref()
            .unwrap()
            .arguments,
        ["-l", "/tmp"]
    );
    assert_eq!(
        sub.unacknowledged_updates[0].status.state,
        TaskState::Running
    );
    assert_eq!(call.validate(), Ok(()));
}

#[test]
fn pymesos_subscribe_call() {
    let json = r#"{"type":"SUBSCRIBE","framework_id":{"value":"f-0000"},
        "executor_id":{"value":"e1"},"subscribe":{"unacknowledged_tasks":[],
        "unacknowledged_updates":[]}}"#;
    let expected = r#"{"type":"SUBSCRIBE","framework_id":{"value":"f-0000"},
        "executor_id":{"value":"e1"},"subscribe":{}}"#;
    let call: Call = round_trip(json, Some(expected));
    assert_eq!(call.executor_id, ExecutorId::new("e1"));
}

#[test]
fn subscribed_event() {
    // The docs show `agent_id` (not a field: ignored) and `agent_info.host` (should be
    // `hostname`, which is required); this is the corrected form.
    let json = r#"{
      "type": "SUBSCRIBED",
      "subscribed": {
        "executor_info": {
          "executor_id": {"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"},
          "command": {"value": "\/path\/to\/executor"},
          "framework_id": {"value": "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"}
        },
        "framework_info": {"user": "foo", "name": "my_framework",
                           "id": {"value": "49154f1b-8cf6-4421-bf13-8bd11dccd1f1"}},
        "agent_info": {"hostname": "agenthost", "port": 5051},
        "container_id": {"value": "c1"}
      }
    }"#;
    let event: Event = round_trip(json, None);
    let sub = event.subscribed.unwrap();
    assert_eq!(sub.agent_info.port, Some(5051));
    // pymesos compares `executor_info.executor_id` with `{"value": MESOS_EXECUTOR_ID}`.
    assert_eq!(
        serde_json::to_value(&sub.executor_info.executor_id).unwrap(),
        serde_json::json!({"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"})
    );
    let docs_form = json.replace(r#""hostname": "agenthost""#, r#""host": "agenthost""#);
    assert!(serde_json::from_str::<Event>(&docs_form).is_err());
}

#[test]
fn update_and_message_calls() {
    let update = r#"{
      "executor_id": {"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"},
      "framework_id": {"value": "9aaa9d0d-e00d-444f-bfbd-23dd197939a0-0000"},
      "type": "UPDATE",
      "update": {
        "status": {
          "executor_id": {"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"},
          "source": "SOURCE_EXECUTOR",
          "state": "TASK_RUNNING",
          "task_id": {"value": "66724cec-2609-4fa0-8d93-c5fb2099d0f8"},
          "uuid": "t+Wonz5fRFKMzCnEptlv5A=="
        }
      }
    }"#;
    let call: Call = round_trip(update, None);
    assert_eq!(call.validate(), Ok(()));
    let status = &call.update.as_ref().unwrap().status;
    assert_eq!(status.source, Some(Source::Executor));

    let message = r#"{
      "executor_id": {"value": "387aa966-8fc5-4428-a794-5a868a60d3eb"},
      "framework_id": {"value": "9aaa9d0d-e00d-444f-bfbd-23dd197939a0-0000"},
      "type": "MESSAGE",
      "message": {"data": "t+Wonz5fRFKMzCnEptlv5A=="}
    }"#;
    let call: Call = round_trip(message, None);
    assert_eq!(call.message.unwrap().data.len(), 16);

    let heartbeat = r#"{"executor_id": {"value": "e"}, "framework_id": {"value": "f"},
        "type": "HEARTBEAT"}"#;
    let _: Call = round_trip(heartbeat, None);
}

#[test]
fn update_validation() {
    let base = r#"{"executor_id": {"value": "e"}, "framework_id": {"value": "f"},
        "type": "UPDATE", "update": {"status": STATUS}}"#;
    let check = |status: &str| {
        let call = Call::from_json(base.replace("STATUS", status).as_bytes()).unwrap();
        call.validate().map_err(|e| e.to_string())
    };
    let ok = r#"{"task_id": {"value": "t"}, "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR",
        "uuid": "AAECAwQFBgcICQoLDA0ODw=="}"#;
    assert_eq!(check(ok), Ok(()));
    let no_uuid =
        r#"{"task_id": {"value": "t"}, "state": "TASK_RUNNING", "source": "SOURCE_EXECUTOR"}"#;
    assert_eq!(check(no_uuid), Err("Expecting 'uuid' to be present".into()));
    let agent_source = ok.replace("SOURCE_EXECUTOR", "SOURCE_AGENT");
    assert!(check(&agent_source)
        .unwrap_err()
        .contains("expecting 'SOURCE_EXECUTOR'"));
    let staging = ok.replace("TASK_RUNNING", "TASK_STAGING");
    assert!(check(&staging).unwrap_err().contains("TASK_STAGING"));
    let other_executor = ok.replace(
        r#""task_id""#,
        r#""executor_id": {"value": "x"}, "task_id""#,
    );
    assert!(check(&other_executor)
        .unwrap_err()
        .contains("does not match"));
}

#[test]
fn calls_require_ids_and_known_type() {
    assert!(Call::from_json(br#"{"type": "HEARTBEAT", "framework_id": {"value": "f"}}"#).is_err());
    assert!(Call::from_json(br#"{"type": "HEARTBEAT", "executor_id": {"value": "e"}}"#).is_err());
    let err = Call::from_json(
        br#"{"type": "DANCE", "executor_id": {"value": "e"}, "framework_id": {"value": "f"}}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("DANCE"), "{err}");
}

#[test]
fn documented_events() {
    let task = r#"{"name": "dummy-task", "task_id": {"value": "d40f3f3e"},
        "agent_id": {"value": "f1c9cdc5"}, "command": {"value": "sleep", "arguments": ["100"]}}"#;
    // The docs' LAUNCH example also carries `framework_info`, which is not a field.
    let launch_docs = format!(
        r#"{{"type": "LAUNCH", "launch": {{"framework_info": {{"id": {{"value": "f"}},
        "user": "foo", "name": "my_framework"}}, "task": {task}}}}}"#
    );
    let launch = format!(r#"{{"type": "LAUNCH", "launch": {{"task": {task}}}}}"#);
    let event: Event = round_trip(&launch_docs, Some(&launch));
    assert_eq!(event.launch.unwrap().task.task_id, TaskId::new("d40f3f3e"));

    let events = [
        format!(
            r#"{{"type": "LAUNCH_GROUP", "launch_group": {{"task_group": {{"tasks": [{task}]}}}}}}"#
        ),
        r#"{"type": "KILL", "kill": {"task_id": {"value": "d40f3f3e"}}}"#.to_string(),
        r#"{"type": "ACKNOWLEDGED", "acknowledged": {"task_id": {"value": "d40f3f3e"},
            "uuid": "ZDQwZjNmM2UtYmJlMy00NGFmLWEyMzAtNGNiMWVhZTcyZjY3Cg=="}}"#
            .to_string(),
        r#"{"type": "MESSAGE", "message": {"data": "c2FtcGxlIGRhdGE="}}"#.to_string(),
        r#"{"type": "SHUTDOWN"}"#.to_string(),
        r#"{"type": "ERROR", "error": {"message": "Unrecoverable error"}}"#.to_string(),
        r#"{"type": "HEARTBEAT"}"#.to_string(),
    ];
    for json in &events {
        let _: Event = round_trip(json, None);
    }
    let ack = Event::acknowledged(TaskId::new("t"), vec![0u8; 16].into());
    assert_eq!(ack.r#type, EventType::Acknowledged);
    assert_eq!(
        serde_json::to_string(&Event::bare(EventType::Shutdown)).unwrap(),
        r#"{"type":"SHUTDOWN"}"#
    );
}

#[test]
fn pymesos_status_update() {
    // pymesos.executor.sendStatusUpdate: int timestamp, base64 uuid4, SOURCE_EXECUTOR,
    // no agent_id / executor_id (the agent fills those in).
    let json = r#"{"type": "UPDATE", "framework_id": {"value": "f-0000"},
        "executor_id": {"value": "e1"}, "update": {"status": {"task_id": {"value": "t1"},
        "state": "TASK_FINISHED", "timestamp": 1700000000, "uuid": "pb2YOBrmSSCfN1ES+7ssYA==",
        "source": "SOURCE_EXECUTOR", "data": "ZG9uZQ=="}}}"#;
    let call: Call = round_trip(json, None);
    assert_eq!(call.validate(), Ok(()));
    let status = &call.update.as_ref().unwrap().status;
    assert!(status.needs_acknowledgement());
    assert_eq!(status.timestamp, Some(1_700_000_000.0));
    assert!(status.uuid.as_ref().unwrap().to_uuid_string().is_some());
}
