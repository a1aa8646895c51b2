//! Scheduler API examples from `docs/scheduler-http-api.md`.

use super::round_trip;
use crate::scheduler::{Call, CallType, Event, EventType};
use crate::{
    FrameworkCapabilityType, FrameworkId, OfferOperationType, Reason, Source, TaskId, TaskState,
    TaskStatus, ValueType,
};

const SUBSCRIBE: &str = r#"{
   "type"		: "SUBSCRIBE",
   "subscribe"	: {
      "framework_info"	: {
        "user" :  "foo",
        "name" :  "Example HTTP Framework",
        "roles": ["test1", "test2"],
        "capabilities" : [{"type": "MULTI_ROLE"}]
      },
      "suppressed_roles" : ["test2"],
      "offer_constraints" : {
        "role_constraints": {
          "test1": {
            "groups": [{
              "attribute_constraints": [{
                "selector": {"attribute_name": "foo"},
                "predicate": {"exists": {}}
              }]
            }]
          }
        }
      }
   }
}"#;

#[test]
fn subscribe_call() {
    let call: Call = round_trip(SUBSCRIBE, None);
    assert_eq!(call.r#type, CallType::Subscribe);
    let sub = call.subscribe.as_ref().unwrap();
    assert_eq!(sub.framework_info.user, "foo");
    assert!(sub
        .framework_info
        .has_capability(FrameworkCapabilityType::MultiRole));
    assert_eq!(sub.framework_info.effective_roles(), vec!["test1", "test2"]);
    assert_eq!(sub.suppressed_roles, vec!["test2"]);
    assert_eq!(call.validate(), Ok(()));
    // Also through the server-facing entry point.
    assert_eq!(Call::from_json(SUBSCRIBE.as_bytes()).unwrap(), call);
}

#[test]
fn pymesos_subscribe_call() {
    let json = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"","name":"MinimalScheduler",
        "hostname":"box","failover_timeout":100,"capabilities":[{"type":"GPU_RESOURCES"}],
        "id":{"value":"abc-0001"}}},"framework_id":{"value":"abc-0001"}}"#;
    let call: Call = round_trip(json, None);
    assert_eq!(call.validate(), Ok(()));
    let mut mismatched = call.clone();
    mismatched.framework_id = None;
    let err = mismatched.validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "'framework_id' differs from 'subscribe.framework_info.id'"
    );
}

#[test]
fn subscribed_event() {
    let json = r#"{
     "type"			: "SUBSCRIBED",
     "subscribed"	: {
         "framework_id"               : {"value":"12220-3440-12532-2345"},
         "heartbeat_interval_seconds" : 15
      }
    }"#;
    let event: Event = round_trip(json, None);
    let sub = event.subscribed.as_ref().unwrap();
    assert_eq!(sub.framework_id, FrameworkId::new("12220-3440-12532-2345"));
    assert_eq!(sub.heartbeat_interval_seconds, Some(15.0));
    let built = Event::subscribed(FrameworkId::new("12220-3440-12532-2345"), 15.0, None);
    assert_eq!(built, event);
}

#[test]
fn accept_call_with_launch() {
    let json = r#"{
      "framework_id": {"value": "12220-3440-12532-2345"},
      "type": "ACCEPT",
      "accept": {
        "offer_ids": [{"value": "12220-3440-12532-O12"}],
        "operations": [{
            "type": "LAUNCH",
            "launch": {
              "task_infos": [{
                  "name": "My Task",
                  "task_id": {"value": "12220-3440-12532-my-task"},
                  "agent_id": {"value": "12220-3440-12532-S1233"},
                  "executor": {
                    "command": {"shell": true, "value": "sleep 1000"},
                    "executor_id": {"value": "12214-23523-my-executor"}
                  },
                  "resources": [
                    {"allocation_info": {"role": "engineering"}, "name": "cpus", "role": "*",
                     "type": "SCALAR", "scalar": {"value": 1.0}},
                    {"allocation_info": {"role": "engineering"}, "name": "mem", "role": "*",
                     "type": "SCALAR", "scalar": {"value": 128.0}}
                  ],
                  "limits": {"cpus": "Infinity", "mem": 512.0}
              }]
            }
        }],
        "filters": {"refuse_seconds": 5.0}
      }
    }"#;
    // The docs abbreviate `limits` values; the proto form is `{"value": ...}`.
    let expected = json
        .replace(r#""cpus": "Infinity""#, r#""cpus": {"value": "Infinity"}"#)
        .replace(r#""mem": 512.0"#, r#""mem": {"value": 512.0}"#);
    let call: Call = round_trip(json, Some(&expected));
    assert_eq!(call.validate(), Ok(()));
    let accept = call.accept.unwrap();
    let op = &accept.operations[0];
    assert_eq!(op.r#type, Some(OfferOperationType::Launch));
    let task = &op.launch.as_ref().unwrap().task_infos[0];
    assert_eq!(task.resources[1].scalar_value(), 128.0);
    assert_eq!(task.limits["cpus"].value, f64::INFINITY);
    assert_eq!(accept.filters.unwrap().effective_refuse_seconds(), 5.0);
}

#[test]
fn other_documented_calls() {
    let fw = r#""framework_id": {"value": "12220-3440-12532-2345"}"#;
    let calls = [
        format!(r#"{{{fw}, "type": "TEARDOWN"}}"#),
        format!(
            r#"{{{fw}, "type": "DECLINE", "decline": {{"offer_ids": [{{"value": "O12"}},
            {{"value": "O13"}}], "filters": {{"refuse_seconds": 5.0}}}}}}"#
        ),
        format!(r#"{{{fw}, "type": "REVIVE", "revive": {{"roles": ["r1"]}}}}"#),
        format!(r#"{{{fw}, "type": "REVIVE"}}"#),
        format!(
            r#"{{{fw}, "type": "KILL", "kill": {{"task_id": {{"value": "my-task"}},
            "agent_id": {{"value": "S1233"}}, "kill_policy": {{"grace_period": {{"nanoseconds": 1000}}}}}}}}"#
        ),
        format!(
            r#"{{{fw}, "type": "SHUTDOWN", "shutdown": {{"executor_id": {{"value": "e"}},
            "agent_id": {{"value": "S1233"}}}}}}"#
        ),
        format!(
            r#"{{{fw}, "type": "ACKNOWLEDGE", "acknowledge": {{"agent_id": {{"value": "S1"}},
            "task_id": {{"value": "t"}}, "uuid": "AAECAwQFBgcICQoLDA0ODw=="}}}}"#
        ),
        format!(
            r#"{{{fw}, "type": "ACKNOWLEDGE_OPERATION_STATUS", "acknowledge_operation_status": {{
            "agent_id": {{"value": "S1"}}, "resource_provider_id": {{"value": "rp"}},
            "uuid": "AAECAwQFBgcICQoLDA0ODw==", "operation_id": {{"value": "op"}}}}}}"#
        ),
        format!(
            r#"{{{fw}, "type": "RECONCILE", "reconcile": {{"tasks": [{{"task_id": {{"value": "312325"}},
            "agent_id": {{"value": "123535"}}}}]}}}}"#
        ),
        format!(r#"{{{fw}, "type": "RECONCILE", "reconcile": {{}}}}"#),
        format!(
            r#"{{{fw}, "type": "RECONCILE_OPERATIONS", "reconcile_operations": {{"operations": [
            {{"operation_id": {{"value": "312325"}}, "agent_id": {{"value": "123535"}},
              "resource_provider_id": {{"value": "927695"}}}}]}}}}"#
        ),
        format!(
            r#"{{{fw}, "type": "MESSAGE", "message": {{"agent_id": {{"value": "S1233"}},
            "executor_id": {{"value": "my-framework-executor"}}, "data": "aGVsbG8="}}}}"#
        ),
        format!(
            r#"{{{fw}, "type": "REQUEST", "request": {{"requests": [{{"agent_id": {{"value": "S1"}},
            "resources": [{{"name": "cpus", "type": "SCALAR", "scalar": {{"value": 1}}}}]}}]}}}}"#
        ),
        format!(r#"{{{fw}, "type": "SUPPRESS", "suppress": {{"roles": ["a", "b"]}}}}"#),
        format!(r#"{{{fw}, "type": "SUPPRESS"}}"#),
        format!(
            r#"{{{fw}, "type": "ACCEPT_INVERSE_OFFERS", "accept_inverse_offers": {{
            "inverse_offer_ids": [{{"value": "I1"}}]}}}}"#
        ),
        format!(
            r#"{{{fw}, "type": "DECLINE_INVERSE_OFFERS", "decline_inverse_offers": {{
            "inverse_offer_ids": [{{"value": "I1"}}], "filters": {{}}}}}}"#
        ),
        format!(
            r#"{{{fw}, "type": "UPDATE_FRAMEWORK", "update_framework": {{"framework_info": {{
            "user": "foo", "name": "n", "id": {{"value": "12220-3440-12532-2345"}}}},
            "suppressed_roles": ["test2"]}}}}"#
        ),
    ];
    for json in &calls {
        let call: Call = round_trip(json, None);
        assert_eq!(call.validate(), Ok(()), "{json}");
    }
}

#[test]
fn validation_mirrors_mesos() {
    let no_body = r#"{"framework_id": {"value": "f"}, "type": "ACCEPT"}"#;
    let call = Call::from_json(no_body.as_bytes()).unwrap();
    assert_eq!(
        call.validate().unwrap_err().to_string(),
        "Expecting 'accept' to be present"
    );
    let no_fw = r#"{"type": "TEARDOWN"}"#;
    let call = Call::from_json(no_fw.as_bytes()).unwrap();
    assert_eq!(
        call.validate().unwrap_err().to_string(),
        "Expecting 'framework_id' to be present"
    );
    let short_uuid = r#"{"framework_id": {"value": "f"}, "type": "ACKNOWLEDGE", "acknowledge": {
        "agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "AAEC"}}"#;
    let call = Call::from_json(short_uuid.as_bytes()).unwrap();
    assert!(call.validate().unwrap_err().to_string().contains("UUID"));
}

#[test]
fn unknown_call_type_is_a_parse_error() {
    let err = Call::from_json(br#"{"type": "LAUNCH_ROCKETS"}"#).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("Failed to parse scheduler::Call"),
        "{text}"
    );
    assert!(text.contains("LAUNCH_ROCKETS"), "{text}");
    let err = Call::from_json(br#"{"framework_id": {"value": "f"}}"#).unwrap_err();
    assert!(err.to_string().contains("type"), "{err}");
}

#[test]
fn missing_required_fields_fail() {
    // Acknowledge without uuid; Kill without task_id; Subscribe without framework_info.
    for json in [
        r#"{"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"}}}"#,
        r#"{"type":"KILL","kill":{"agent_id":{"value":"a"}}}"#,
        r#"{"type":"SUBSCRIBE","subscribe":{}}"#,
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u"}}}"#,
    ] {
        assert!(Call::from_json(json.as_bytes()).is_err(), "{json}");
    }
}

#[test]
fn offers_event() {
    // The docs flatten `offers` to an array; per scheduler.proto (and what pymesos reads,
    // `event["offers"]["offers"]`) the body is the `Offers` message.
    let json = r#"{
      "type"	: "OFFERS",
      "offers"	: {"offers": [{
          "allocation_info": { "role": "engineering" },
          "id"             : {"value": "12214-23523-O235235"},
          "framework_id"   : {"value": "12124-235325-32425"},
          "agent_id"       : {"value": "12325-23523-S23523"},
          "hostname"       : "agent.host",
          "resources"      : [{
               "allocation_info": { "role": "engineering" },
               "name"   : "cpus",
               "type"   : "SCALAR",
               "scalar" : {"value" : 2},
               "role"   : "*"
          }],
          "attributes"     : [{
               "name"   : "os",
               "type"   : "TEXT",
               "text"   : {"value" : "ubuntu16.04"}
          }],
          "executor_ids"   : [{"value" : "12214-23523-my-executor"}]
      }]}
    }"#;
    let event: Event = round_trip(json, None);
    assert_eq!(event.r#type, EventType::Offers);
    let offer = &event.offers.as_ref().unwrap().offers[0];
    let flattened = json
        .replace(r#"{"offers": [{"#, "[{")
        .replace("}]}\n    }", "}]\n    }");
    assert!(serde_json::from_str::<Event>(&flattened).is_err());
    assert_eq!(offer.hostname, "agent.host");
    assert_eq!(offer.resources[0].scalar_value(), 2.0);
    assert_eq!(offer.attributes[0].r#type, ValueType::Text);
    assert_eq!(
        offer.allocation_info.as_ref().unwrap().role.as_deref(),
        Some("engineering")
    );
}

#[test]
fn update_event() {
    // The docs also show a non-proto "bytes" key, which is ignored (and so not re-emitted).
    let json = r#"{
      "type"	: "UPDATE",
      "update"	: {
        "status"	: {
            "task_id"	: { "value" : "12344-my-task"},
            "state"		: "TASK_RUNNING",
            "source"	: "SOURCE_EXECUTOR",
            "uuid"		: "adfadfadbhgvjayd23r2uahj",
            "bytes"		: "uhdjfhuagdj63d7hadkf"
          }
      }
    }"#;
    let expected = json.replace(
        r#""uuid"		: "adfadfadbhgvjayd23r2uahj",
            "bytes"		: "uhdjfhuagdj63d7hadkf""#,
        r#""uuid"		: "adfadfadbhgvjayd23r2uahj""#,
    );
    let event: Event = round_trip(json, Some(&expected));
    let status = &event.update.as_ref().unwrap().status;
    assert_eq!(status.state, TaskState::Running);
    assert_eq!(status.source, Some(Source::Executor));
    assert_eq!(status.uuid.as_ref().unwrap().len(), 18);

    // What our master sends to pymesos: agent_id set whenever uuid is.
    let mut status = TaskStatus::new(TaskId::new("t"), TaskState::Failed);
    status.reason = Some(Reason::ContainerLimitationMemory);
    status.uuid = Some(vec![7u8; 16].into());
    let out = serde_json::to_value(Event::update(status)).unwrap();
    assert_eq!(
        out["update"]["status"]["reason"],
        "REASON_CONTAINER_LIMITATION_MEMORY"
    );
    assert_eq!(out["update"]["status"]["uuid"], "BwcHBwcHBwcHBwcHBwcHBw==");
}

#[test]
fn remaining_events() {
    let events = [
        r#"{"type": "RESCIND", "rescind": {"offer_id": {"value": "12214-23523-O235235"}}}"#,
        r#"{"type": "UPDATE_OPERATION_STATUS", "update_operation_status": {"status": {
            "operation_id": {"value": "operation-1234"}, "state": "OPERATION_FAILED",
            "uuid": {"value": "AAECAwQFBgcICQoLDA0ODw=="}, "agent_id": {"value": "S235235"},
            "resource_provider_id": {"value": "83978-17885-1089645"}}}}"#,
        r#"{"type": "MESSAGE", "message": {"agent_id": {"value": "S235235"},
            "executor_id": {"value": "my-executor"}, "data": "adfadf3t2wa3353dfadf"}}"#,
        r#"{"type": "FAILURE", "failure": {"agent_id": {"value": "S235235"},
            "executor_id": {"value": "my-executor"}, "status": 1}}"#,
        r#"{"type": "ERROR", "error": {"message": "Framework is not authorized"}}"#,
        r#"{"type": "HEARTBEAT"}"#,
        r#"{"type": "RESCIND_INVERSE_OFFER", "rescind_inverse_offer": {"inverse_offer_id": {"value": "I1"}}}"#,
        r#"{"type": "INVERSE_OFFERS", "inverse_offers": {"inverse_offers": [{"id": {"value": "I1"},
            "framework_id": {"value": "f"}, "agent_id": {"value": "S1"},
            "unavailability": {"start": {"nanoseconds": 1}, "duration": {"nanoseconds": 2}}}]}}"#,
    ];
    for json in events {
        let _: Event = round_trip(json, None);
    }
    assert_eq!(
        serde_json::to_string(&Event::heartbeat()).unwrap(),
        r#"{"type":"HEARTBEAT"}"#
    );
    assert_eq!(
        serde_json::to_string(&Event::error("boom")).unwrap(),
        r#"{"type":"ERROR","error":{"message":"boom"}}"#
    );
}

#[test]
fn bytes_fields_are_base64() {
    let json = r#"{"type": "MESSAGE", "message": {"agent_id": {"value": "a"},
        "executor_id": {"value": "e"}, "data": "aGVsbG8gZXhlY3V0b3I="}}"#;
    let event: Event = serde_json::from_str(json).unwrap();
    assert_eq!(event.message.unwrap().data.as_slice(), b"hello executor");
    let bad = json.replace("aGVsbG8gZXhlY3V0b3I=", "***");
    let err = serde_json::from_str::<Event>(&bad).unwrap_err();
    assert!(err.to_string().contains("base64"), "{err}");
}

#[test]
fn null_means_unset() {
    // stout treats `null` as "not set", for repeated fields too.
    let json = r#"{"framework_id": {"value": "f"}, "type": "SUPPRESS", "suppress": {"roles": null},
        "kill": null}"#;
    let call = Call::from_json(json.as_bytes()).unwrap();
    assert!(call.suppress.unwrap().roles.is_empty());
    assert!(call.kill.is_none());
}
