//! `CommandInfo` (what to run), its fetcher `URI`s, `Environment` and `Secret`.

use serde::{Deserialize, Serialize};

use crate::encoding::{lenient_enum, null_as_default, Bytes};

/// A command to run (`mesos.v1.CommandInfo`).
///
/// With `shell` (the default) `value` runs as `/bin/sh -c value`; otherwise `value` is the
/// executable and `arguments` its argv (including argv\[0\]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandInfo {
    /// Files to fetch into the sandbox first.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uris: Vec<CommandUri>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Run through `/bin/sh -c` (proto default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<bool>,
    /// Shell command line, or executable path when `shell` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// argv when `shell` is false.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// User to run as (overrides `FrameworkInfo.user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl CommandInfo {
    /// A shell command.
    pub fn shell(command: impl Into<String>) -> Self {
        Self {
            shell: Some(true),
            value: Some(command.into()),
            ..Self::default()
        }
    }

    /// `shell` with the proto default (`true`) applied.
    pub fn is_shell(&self) -> bool {
        self.shell.unwrap_or(true)
    }
}

/// `CommandInfo.URI`: a file the fetcher downloads into the sandbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandUri {
    /// The URI (http(s), hdfs, file path ...).
    pub value: String,
    /// Mark the fetched file executable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<bool>,
    /// Extract archives (proto default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract: Option<bool>,
    /// Use the fetcher cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<bool>,
    /// File name to save as, relative to the sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_file: Option<String>,
}

impl CommandUri {
    /// `extract` with the proto default (`true`) applied.
    pub fn should_extract(&self) -> bool {
        self.extract.unwrap_or(true)
    }
}

/// Environment variables (`mesos.v1.Environment`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// The variables, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
}

impl Environment {
    /// Plain `VALUE` variables from `(name, value)` pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            variables: pairs
                .into_iter()
                .map(|(name, value)| Variable {
                    name: name.into(),
                    r#type: None,
                    value: Some(value.into()),
                    secret: None,
                })
                .collect(),
        }
    }

    /// The value of the first variable named `name` (ignores secrets).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| v.value.as_deref())
    }
}

/// `Environment.Variable.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VariableType {
    /// Unrecognised.
    Unknown,
    /// Plain value in `value` (the proto default).
    Value,
    /// Value from `secret`.
    Secret,
}

/// `Environment.Variable`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// Variable name.
    pub name: String,
    /// Kind of value (proto default `VALUE`).
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<VariableType>,
    /// Value for `VALUE` variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Secret for `SECRET` variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// `Secret.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecretType {
    /// Unrecognised.
    Unknown,
    /// Resolved by a secret resolver from `reference`.
    Reference,
    /// Inline in `value`.
    Value,
}

/// A secret (`mesos.v1.Secret`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// Reference or inline value.
    #[serde(default, deserialize_with = "lenient_enum")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<SecretType>,
    /// For `REFERENCE` secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<SecretReference>,
    /// For `VALUE` secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<SecretValue>,
}

/// `Secret.Reference`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretReference {
    /// Secret name in the store.
    pub name: String,
    /// Key within the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `Secret.Value`: inline secret data (base64 on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretValue {
    /// The secret bytes.
    pub data: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_absent() {
        let c: CommandInfo = serde_json::from_str(r#"{"value":"sleep 10"}"#).unwrap();
        assert!(c.is_shell());
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"value":"sleep 10"}"#
        );
        let u: CommandUri = serde_json::from_str(r#"{"value":"http://x/a.tgz"}"#).unwrap();
        assert!(u.should_extract());
    }

    #[test]
    fn environment_round_trip() {
        let json = r#"{"variables":[{"name":"A","type":"VALUE","value":"1"},
            {"name":"S","type":"SECRET","secret":{"type":"VALUE","value":{"data":"c2VjcmV0"}}}]}"#;
        let env: Environment = serde_json::from_str(json).unwrap();
        assert_eq!(env.get("A"), Some("1"));
        let secret = env.variables[1].secret.as_ref().unwrap();
        assert_eq!(secret.value.as_ref().unwrap().data.as_slice(), b"secret");
        let back = serde_json::to_value(&env).unwrap();
        let orig: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, orig);
        assert_eq!(Environment::from_pairs([("X", "y")]).get("X"), Some("y"));
    }

    #[test]
    fn variable_name_is_required() {
        assert!(serde_json::from_str::<Variable>(r#"{"value":"1"}"#).is_err());
    }
}
