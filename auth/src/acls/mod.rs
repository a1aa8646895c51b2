//! `--acls`: Mesos's `ACLs` message (`include/mesos/authorizer/acls.proto`) as JSON, and its
//! validation (`LocalAuthorizer::validate`). The value is inline JSON, or a path (`/path` or
//! `file:///path`) to a file holding it, as stout's flag parser accepts.
//!
//! ```json
//! {"permissive": false,
//!  "register_frameworks": [{"principals": {"values": ["fw"]}, "roles": {"values": ["web"]}}],
//!  "teardown_frameworks": [{"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}}]}
//! ```
//!
//! Every action of `acls.proto` is accepted, so any file Mesos takes loads here; a key that is
//! not a Mesos action is refused rather than ignored, since a misspelled action would silently
//! grant what its rules meant to deny. Evaluation lives in [`authorizer`].

pub mod authorizer;
pub mod entity;

use std::collections::HashMap;
use std::path::Path;

use entity::Entity;

/// How the object of an action is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    /// Values compared as they are.
    Plain,
    /// Roles: `a/%` also covers every role nested under `a/`.
    Roles,
    /// Only `ANY` or `NONE` may be given (`LocalAuthorizer::validate`).
    AnyOrNone,
    /// `get_endpoints`: only the authorizable endpoints may be named.
    Paths,
}

/// Every ACL action of Mesos 1.11: JSON key, object field, how the object is checked.
const ACTIONS: &[(&str, &str, ObjectKind)] = {
    use ObjectKind::{AnyOrNone, Paths, Plain, Roles};
    &[
        ("register_frameworks", "roles", Roles),
        ("run_tasks", "users", Plain),
        ("reserve_resources", "roles", Roles),
        ("unreserve_resources", "reserver_principals", Plain),
        ("create_volumes", "roles", Roles),
        ("destroy_volumes", "creator_principals", Plain),
        ("teardown_frameworks", "framework_principals", Plain),
        ("update_weights", "roles", Roles),
        ("get_endpoints", "paths", Paths),
        ("get_quotas", "roles", Roles),
        ("update_quotas", "roles", Roles),
        ("view_frameworks", "users", Plain),
        ("view_tasks", "users", Plain),
        ("view_executors", "users", Plain),
        ("access_sandboxes", "users", Plain),
        ("access_mesos_logs", "logs", AnyOrNone),
        ("view_roles", "roles", Roles),
        ("view_flags", "flags", AnyOrNone),
        ("launch_nested_containers_as_user", "users", Plain),
        (
            "launch_nested_containers_under_parent_with_user",
            "users",
            Plain,
        ),
        ("kill_nested_containers", "users", Plain),
        ("wait_nested_containers", "users", Plain),
        ("launch_nested_container_sessions_as_user", "users", Plain),
        (
            "launch_nested_container_sessions_under_parent_with_user",
            "users",
            Plain,
        ),
        ("attach_containers_input", "users", Plain),
        ("attach_containers_output", "users", Plain),
        ("view_containers", "users", Plain),
        ("set_log_level", "level", AnyOrNone),
        ("remove_nested_containers", "users", Plain),
        ("register_agents", "agents", AnyOrNone),
        ("update_maintenance_schedules", "machines", AnyOrNone),
        ("get_maintenance_schedules", "machines", AnyOrNone),
        ("start_maintenances", "machines", AnyOrNone),
        ("stop_maintenances", "machines", AnyOrNone),
        ("get_maintenance_statuses", "machines", AnyOrNone),
        ("drain_agents", "agents", AnyOrNone),
        ("deactivate_agents", "agents", AnyOrNone),
        ("reactivate_agents", "agents", AnyOrNone),
        ("mark_agents_gone", "agents", Plain),
        ("launch_standalone_containers", "users", AnyOrNone),
        ("kill_standalone_containers", "users", AnyOrNone),
        ("wait_standalone_containers", "users", AnyOrNone),
        ("remove_standalone_containers", "users", AnyOrNone),
        ("view_standalone_containers", "users", AnyOrNone),
        (
            "modify_resource_provider_configs",
            "resource_providers",
            AnyOrNone,
        ),
        (
            "mark_resource_providers_gone",
            "resource_providers",
            AnyOrNone,
        ),
        ("view_resource_providers", "resource_providers", AnyOrNone),
        ("prune_images", "images", AnyOrNone),
        ("resize_volumes", "roles", Roles),
        ("create_block_disks", "roles", Roles),
        ("destroy_block_disks", "roles", Roles),
        ("create_mount_disks", "roles", Roles),
        ("destroy_mount_disks", "roles", Roles),
        ("destroy_raw_disks", "roles", Roles),
    ]
};

/// Endpoints `get_endpoints` may name (`AUTHORIZABLE_ENDPOINTS`, src/common/authorization.cpp).
pub const AUTHORIZABLE_ENDPOINTS: &[&str] = &[
    "/containers",
    "/containerizer/debug",
    "/files/debug",
    "/logging/toggle",
    "/metrics/snapshot",
    "/monitor/statistics",
];

/// Why `--acls` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AclsError {
    /// The file could not be read.
    #[error("Failed to read ACLs file '{path}': {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not JSON.
    #[error("Contents of 'acls' could not be parsed as JSON: {0}")]
    Json(String),
    /// JSON, but not a valid `ACLs` message.
    #[error("Invalid ACLs: {0}")]
    Invalid(String),
}

/// One rule: who (`principals`) may do the action on what (the object field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `principals`.
    pub subjects: Entity,
    /// The object entity (`roles`, `users`, ...).
    pub objects: Entity,
}

/// Parsed, validated `ACLs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acls {
    /// Decision when no rule matches (default `true`).
    pub permissive: bool,
    rules: HashMap<&'static str, Vec<Rule>>,
}

impl Acls {
    /// Loads the flag value: inline JSON, `/path` or `file:///path`.
    pub fn load(flag_value: &str) -> Result<Self, AclsError> {
        let v = flag_value.trim();
        let path = v
            .strip_prefix("file://")
            .or_else(|| v.starts_with('/').then_some(v));
        match path {
            Some(p) => {
                let text =
                    std::fs::read_to_string(Path::new(p)).map_err(|source| AclsError::Read {
                        path: p.to_owned(),
                        source,
                    })?;
                Self::parse(&text)
            }
            None => Self::parse(v),
        }
    }

    /// Parses and validates the JSON text.
    pub fn parse(text: &str) -> Result<Self, AclsError> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| AclsError::Json(e.to_string()))?;
        let obj = json
            .as_object()
            .ok_or_else(|| AclsError::Invalid("expected a JSON object".into()))?;
        let mut acls = Acls {
            permissive: true,
            rules: HashMap::new(),
        };
        for (key, value) in obj {
            if key == "permissive" {
                acls.permissive = value
                    .as_bool()
                    .ok_or_else(|| AclsError::Invalid("'permissive' must be a boolean".into()))?;
                continue;
            }
            let Some(&(name, field, kind)) = ACTIONS.iter().find(|(k, _, _)| k == key) else {
                return Err(AclsError::Invalid(format!(
                    "'{key}' is not an ACL action of Mesos (see acls.proto)"
                )));
            };
            let list = value
                .as_array()
                .ok_or_else(|| AclsError::Invalid(format!("'{key}' must be an array")))?;
            let rules = list
                .iter()
                .map(|r| parse_rule(name, field, kind, r))
                .collect::<Result<Vec<_>, _>>()?;
            acls.rules.insert(name, rules);
        }
        Ok(acls)
    }

    /// The rules of `action` (its JSON key), in order.
    pub fn rules(&self, action: &str) -> &[Rule] {
        self.rules.get(action).map_or(&[], Vec::as_slice)
    }
}

fn parse_rule(
    action: &str,
    field: &str,
    kind: ObjectKind,
    v: &serde_json::Value,
) -> Result<Rule, AclsError> {
    let invalid = |m: String| AclsError::Invalid(format!("{action}: {m}"));
    let obj = v
        .as_object()
        .ok_or_else(|| invalid("each ACL must be an object".into()))?;
    for k in obj.keys() {
        if k != "principals" && k != field {
            return Err(invalid(format!(
                "unknown field '{k}' (expected 'principals' and '{field}')"
            )));
        }
    }
    let entity = |name: &str| {
        let e = obj
            .get(name)
            .ok_or_else(|| invalid(format!("missing required field '{name}'")))?;
        Entity::from_json(e).map_err(|m| invalid(format!("'{name}': {m}")))
    };
    let rule = Rule {
        subjects: entity("principals")?,
        objects: entity(field)?,
    };
    match (kind, &rule.objects) {
        (ObjectKind::AnyOrNone, Entity::Some(_)) => Err(invalid(format!(
            "'{field}' type must be either NONE or ANY"
        ))),
        (ObjectKind::Paths, Entity::Some(paths)) => {
            match paths
                .iter()
                .find(|p| !AUTHORIZABLE_ENDPOINTS.contains(&p.as_str()))
            {
                Some(p) => Err(invalid(format!("Path: '{p}' is not an authorizable path"))),
                None => Ok(rule),
            }
        }
        _ => Ok(rule),
    }
}

/// How `action`'s objects are checked (`None` for an unknown action).
pub(crate) fn object_kind(action: &str) -> Option<ObjectKind> {
    ACTIONS
        .iter()
        .find(|(k, _, _)| *k == action)
        .map(|(_, _, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mesos_examples_and_refuses_typos() {
        let a = Acls::parse(
            r#"{"permissive": false,
                "register_frameworks": [{"principals": {"values": ["fw"]}, "roles": {"values": ["web"]}}],
                "view_flags": [{"principals": {"type": "ANY"}, "flags": {"type": "NONE"}}],
                "create_volumes": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}"#,
        )
        .unwrap();
        assert!(!a.permissive);
        assert_eq!(a.rules("register_frameworks").len(), 1);
        assert_eq!(a.rules("run_tasks").len(), 0);
        assert!(Acls::parse("{}").unwrap().permissive);
        for bad in [
            r#"{"register_framework": []}"#,
            r#"{"run_tasks": [{"principals": {"type": "ANY"}}]}"#,
            r#"{"run_tasks": [{"principals": {"type": "ANY"}, "user": {"type": "ANY"}}]}"#,
            r#"{"view_flags": [{"principals": {"type": "ANY"}, "flags": {"values": ["x"]}}]}"#,
            r#"{"get_endpoints": [{"principals": {"type": "ANY"}, "paths": {"values": ["/state"]}}]}"#,
            r#"{"permissive": "no"}"#,
            "[]",
            "{",
        ] {
            assert!(Acls::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loads_inline_paths_and_file_urls() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("acls.json");
        std::fs::write(&f, r#"{"permissive": false}"#).unwrap();
        assert!(!Acls::load(&f.display().to_string()).unwrap().permissive);
        assert!(
            !Acls::load(&format!("file://{}", f.display()))
                .unwrap()
                .permissive
        );
        assert!(!Acls::load(r#" {"permissive": false} "#).unwrap().permissive);
        assert!(matches!(
            Acls::load("/nonexistent/acls"),
            Err(AclsError::Read { .. })
        ));
    }
}
