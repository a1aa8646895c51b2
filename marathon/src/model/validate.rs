//! Parsing, normalising and validating app definitions with Marathon's answers: malformed
//! JSON or wrong types are `400 {"message":"Invalid JSON","details":[...]}`, a well-formed
//! but invalid definition is `422 {"message":"Object is not valid","details":[{"path",
//! "errors"}]}` (upstream `api/v2/Validation.scala`, `AppValidation.scala`).

use serde_json::{json, Map, Value};

use super::app::App;
use super::checks::validate;
use super::container::PortDefinition;
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

pub(crate) fn violation(path: &str, msg: impl Into<String>) -> Violation {
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
