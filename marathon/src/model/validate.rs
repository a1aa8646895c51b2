//! Parsing, normalising and validating app definitions with Marathon's answers: malformed
//! JSON or wrong types are `400 {"message":"Invalid JSON","details":[...]}`, a well-formed
//! but invalid definition is `422 {"message":"Object is not valid","details":[{"path",
//! "errors"}]}` (upstream `api/v2/Validation.scala`, `AppValidation.scala`).

use serde_json::{json, Map, Value};

use super::app::App;
use super::container::PortDefinition;
use super::health::PROTOCOLS;
use super::pathid::PathId;

/// One violation: a JSON pointer into the definition and its messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Path such as `/id` or `/container/docker/image`.
    pub path: String,
    /// Messages.
    pub errors: Vec<String>,
}

/// Why a definition was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DefinitionError {
    /// Not JSON, or a field of the wrong type: 400.
    #[error("Invalid JSON")]
    InvalidJson(Vec<Violation>),
    /// Well-formed but invalid: 422.
    #[error("Object is not valid")]
    Invalid(Vec<Violation>),
}

impl DefinitionError {
    /// Marathon's error body.
    pub fn body(&self) -> Value {
        let details = match self {
            Self::InvalidJson(v) | Self::Invalid(v) => v,
        };
        json!({
            "message": self.to_string(),
            "details": details.iter().map(|v| json!({"path": v.path, "errors": v.errors})).collect::<Vec<_>>(),
        })
    }
}

fn violation(path: &str, msg: impl Into<String>) -> Violation {
    Violation {
        path: path.into(),
        errors: vec![msg.into()],
    }
}

/// Parses a request body as a JSON object (400 otherwise).
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, DefinitionError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(DefinitionError::InvalidJson(vec![violation(
            "/",
            "error.expected.jsobject",
        )])),
        Err(e) => Err(DefinitionError::InvalidJson(vec![violation(
            "/",
            e.to_string(),
        )])),
    }
}

/// Turns a JSON object into an app (400 on wrong field types), normalised under `base`.
pub fn app_from_object(obj: Map<String, Value>, base: &PathId) -> Result<App, DefinitionError> {
    let mut app: App = serde_json::from_value(Value::Object(obj))
        .map_err(|e| DefinitionError::InvalidJson(vec![violation("/", e.to_string())]))?;
    normalise(&mut app, base)?;
    validate(&app).map(|()| app)
}

/// Resolves ids against `base`, folds legacy fields (`uris`, `ports`) into their current form
/// and applies the default port definition.
pub fn normalise(app: &mut App, base: &PathId) -> Result<(), DefinitionError> {
    if app.id.is_empty() {
        return Err(DefinitionError::Invalid(vec![violation(
            "/id",
            "error.path.missing",
        )]));
    }
    let id = PathId::parse_in(&app.id, base)
        .map_err(|e| DefinitionError::Invalid(vec![violation("/id", e.to_string())]))?;
    if id.is_root() {
        return Err(DefinitionError::Invalid(vec![violation(
            "/id",
            "Path must contain at least one path element",
        )]));
    }
    app.id = id.to_string();
    let parent = id.parent();
    for (i, dep) in app.dependencies.iter_mut().enumerate() {
        let d = PathId::parse_in(dep, &parent).map_err(|e| {
            DefinitionError::Invalid(vec![violation(
                &format!("/dependencies({i})"),
                e.to_string(),
            )])
        })?;
        *dep = d.to_string();
    }
    if let Some(uris) = app.uris.take() {
        if app.fetch.is_empty() {
            app.fetch = uris
                .into_iter()
                .map(|u| {
                    let extract = [
                        ".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip",
                    ]
                    .iter()
                    .any(|s| u.ends_with(s));
                    json!({"uri": u, "extract": extract, "executable": false, "cache": false})
                })
                .collect();
        }
    }
    if app.is_bridge() {
        app.port_definitions = None;
        app.ports = None;
    } else if app.port_definitions.is_none() {
        let ports = app.ports.take().unwrap_or_else(|| vec![0]);
        app.port_definitions = Some(
            ports
                .into_iter()
                .map(|port| PortDefinition {
                    port,
                    protocol: "tcp".into(),
                    name: None,
                    labels: Default::default(),
                })
                .collect(),
        );
    }
    app.ports = None;
    Ok(())
}

const OPERATORS: &[&str] = &[
    "UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS",
];

/// Marathon's semantic checks.
pub fn validate(app: &App) -> Result<(), DefinitionError> {
    let mut v = Vec::new();
    let has_cmd = app.cmd.as_deref().is_some_and(|c| !c.trim().is_empty());
    let has_args = app.args.as_ref().is_some_and(|a| !a.is_empty());
    let has_image = app.container.as_ref().and_then(|c| c.image()).is_some();
    if !has_cmd && !has_args && !has_image {
        v.push(violation(
            "/",
            "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
        ));
    }
    if has_cmd && has_args {
        v.push(violation(
            "/",
            "AppDefinition must either contain a 'cmd' or a 'args', but not both.",
        ));
    }
    if app.instances < 0 {
        v.push(violation(
            "/instances",
            format!("got {}, expected 0 or more", app.instances),
        ));
    }
    for (name, value, min) in [
        ("cpus", app.cpus, 0.0),
        ("mem", app.mem, 0.0),
        ("disk", app.disk, 0.0),
    ] {
        if !value.is_finite() || value < min {
            v.push(violation(
                &format!("/{name}"),
                format!("got {value}, expected {min:.1} or more"),
            ));
        }
    }
    if app.gpus < 0 {
        v.push(violation(
            "/gpus",
            format!("got {}, expected 0 or more", app.gpus),
        ));
    }
    if let Some(c) = &app.container {
        validate_container(app, c, &mut v);
    }
    let ports = app.host_port_count().max(app.service_ports().len());
    for (i, hc) in app.health_checks.iter().enumerate() {
        let p = format!("/healthChecks({i})");
        if !PROTOCOLS.contains(&hc.protocol.as_str()) {
            v.push(violation(
                &format!("{p}/protocol"),
                format!("error.unknown.enum.literal: {}", hc.protocol),
            ));
        }
        if hc.protocol == "COMMAND" && hc.command_value().is_none() {
            v.push(violation(
                &format!("{p}/command"),
                "command must be set for protocol COMMAND",
            ));
        }
        if hc.protocol != "COMMAND" && hc.port.is_none() {
            let idx = hc.port_index.unwrap_or(0);
            if idx < 0 || usize::try_from(idx).unwrap_or(usize::MAX) >= ports {
                v.push(violation(
                    &format!("{p}/portIndex"),
                    "Health check port indices must address an element of the ports array or container port mappings.",
                ));
            }
        }
        if hc.interval_seconds <= 0.0 || hc.timeout_seconds <= 0.0 || hc.grace_period_seconds < 0.0
        {
            v.push(violation(&p, "intervalSeconds and timeoutSeconds must be positive, gracePeriodSeconds not negative"));
        }
    }
    for (i, c) in app.constraints.iter().enumerate() {
        validate_constraint(c, &format!("/constraints({i})"), &mut v);
    }
    let us = &app.upgrade_strategy;
    if !(0.0..=1.0).contains(&us.minimum_health_capacity) {
        v.push(violation(
            "/upgradeStrategy/minimumHealthCapacity",
            "got value, expected between 0.0 and 1.0",
        ));
    }
    if !(0.0..=1.0).contains(&us.maximum_over_capacity) {
        v.push(violation(
            "/upgradeStrategy/maximumOverCapacity",
            "got value, expected between 0.0 and 1.0",
        ));
    }
    if app.backoff_seconds < 0.0 {
        v.push(violation(
            "/backoffSeconds",
            "got value, expected 0 or more",
        ));
    }
    if app.backoff_factor < 1.0 {
        v.push(violation(
            "/backoffFactor",
            "got value, expected 1.0 or more",
        ));
    }
    if !["YOUNGEST_FIRST", "OLDEST_FIRST"].contains(&app.kill_selection.as_str()) {
        v.push(violation("/killSelection", "error.unknown.enum.literal"));
    }
    for (k, val) in &app.env {
        if !(val.is_string() || val.get("secret").is_some_and(Value::is_string)) {
            v.push(violation(
                &format!("/env/{k}"),
                "must be a string or {\"secret\": name}",
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in app.service_ports().iter().enumerate() {
        if *p < 0 || *p > 65535 {
            v.push(violation(
                &format!("/portDefinitions({i})/port"),
                "port out of range",
            ));
        } else if *p != 0 && !seen.insert(*p) {
            v.push(violation("/portDefinitions", "Ports must be unique."));
        }
    }
    if v.is_empty() {
        Ok(())
    } else {
        Err(DefinitionError::Invalid(v))
    }
}

fn validate_container(app: &App, c: &super::container::Container, v: &mut Vec<Violation>) {
    match c.kind.as_str() {
        "DOCKER" => {
            if c.image().is_none() {
                v.push(violation("/container/docker/image", "must not be empty"));
            }
            let net = c
                .docker
                .as_ref()
                .and_then(|d| d.network.as_deref())
                .unwrap_or("HOST");
            if !["HOST", "BRIDGE", "USER", "NONE"].contains(&net) {
                v.push(violation(
                    "/container/docker/network",
                    "error.unknown.enum.literal",
                ));
            }
            if !c.port_mappings().is_empty() && !app.is_bridge() {
                v.push(violation(
                    "/container/docker/portMappings",
                    "Port mappings are only allowed in BRIDGE or USER network mode",
                ));
            }
        }
        "MESOS" => {}
        other => v.push(violation(
            "/container/type",
            format!("error.unknown.enum.literal: {other}"),
        )),
    }
    for (i, m) in c.port_mappings().iter().enumerate() {
        let bad = |p: i64| !(0..=65535).contains(&p);
        if bad(m.container_port) || m.host_port.is_some_and(bad) || bad(m.service_port) {
            v.push(violation(
                &format!("/container/docker/portMappings({i})"),
                "port out of range",
            ));
        }
    }
}

fn validate_constraint(c: &[String], path: &str, v: &mut Vec<Violation>) {
    let (Some(field), Some(op)) = (c.first(), c.get(1)) else {
        v.push(violation(
            path,
            "Each constraint must have either 2 or 3 fields",
        ));
        return;
    };
    if field.is_empty() || c.len() > 3 {
        v.push(violation(
            path,
            "Each constraint must have either 2 or 3 fields",
        ));
    }
    if !OPERATORS.contains(&op.as_str()) {
        v.push(violation(
            path,
            format!("Constraint operator must be one of {OPERATORS:?}"),
        ));
        return;
    }
    let value = c.get(2);
    match op.as_str() {
        "LIKE" | "UNLIKE" => match value {
            Some(re) if regex::Regex::new(&format!("^(?:{re})$")).is_ok() => {}
            Some(_) => v.push(violation(
                path,
                "'value' must be a valid regular expression",
            )),
            None => v.push(violation(
                path,
                "A regular expression value must be provided",
            )),
        },
        "CLUSTER" | "IS" if value.is_none_or(|s| s.is_empty()) => {
            v.push(violation(path, "a value must be provided"))
        }
        "MAX_PER" if value.and_then(|s| s.parse::<u32>().ok()).is_none() => {
            v.push(violation(path, "Value was not an integer"))
        }
        "GROUP_BY" if value.is_some_and(|s| s.parse::<u32>().is_err()) => {
            v.push(violation(path, "Value was not an integer"))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<App, DefinitionError> {
        app_from_object(parse_object(s.as_bytes())?, &PathId::root())
    }

    #[test]
    fn defaults_and_unknown_fields() {
        let app = parse(r#"{"id":"web","cmd":"sleep 1","fancy":{"x":1}}"#).unwrap();
        assert_eq!(app.id, "/web");
        assert_eq!((app.instances, app.cpus, app.mem), (1, 1.0, 128.0));
        assert_eq!(app.port_defs().len(), 1);
        let out = serde_json::to_value(&app).unwrap();
        assert_eq!(out["fancy"]["x"], 1);
        assert_eq!(out["backoffFactor"], 1.15);
    }

    #[test]
    fn bad_input_has_marathons_codes() {
        assert!(matches!(parse("{"), Err(DefinitionError::InvalidJson(_))));
        assert!(matches!(
            parse(r#"{"id":"/x","cmd":"a","instances":"x"}"#),
            Err(DefinitionError::InvalidJson(_))
        ));
        let Err(DefinitionError::Invalid(v)) = parse(r#"{"id":"/Bad_ID","cmd":"a"}"#) else {
            panic!()
        };
        assert_eq!(v[0].path, "/id");
        let Err(DefinitionError::Invalid(v)) = parse(r#"{"id":"/x","cmd":"a","instances":-1}"#)
        else {
            panic!()
        };
        assert_eq!(v[0].path, "/instances");
        let Err(DefinitionError::Invalid(v)) = parse(r#"{"id":"/x"}"#) else {
            panic!()
        };
        assert_eq!(v[0].path, "/");
    }

    #[test]
    fn docker_bridge_keeps_port_mappings() {
        let app = parse(r#"{"id":"/w","container":{"type":"DOCKER","docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80,"hostPort":0}]}}}"#).unwrap();
        assert!(app.is_bridge());
        assert_eq!(app.host_port_count(), 1);
        assert!(app.port_definitions.is_none());
    }

    #[test]
    fn constraints_are_checked() {
        assert!(parse(r#"{"id":"/x","cmd":"a","constraints":[["hostname","UNIQUE"]]}"#).is_ok());
        assert!(parse(r#"{"id":"/x","cmd":"a","constraints":[["hostname","NOPE"]]}"#).is_err());
        assert!(parse(r#"{"id":"/x","cmd":"a","constraints":[["rack","MAX_PER","x"]]}"#).is_err());
    }
}
