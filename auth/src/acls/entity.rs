//! `ACL.Entity` (`include/mesos/authorizer/acls.proto`) and the two matrices of Mesos's local
//! authorizer (`src/authorizer/local/authorizer.cpp`, `matches` and `allows`): an ACL applies
//! to a request when both its subject and object *match*, and then grants it when both are
//! *allowed*.
//!
//! ```text
//!   matches     ACL: SOME   NONE  ANY        allows      ACL: SOME   NONE  ANY
//!   req SOME         ⊆      yes   yes        req SOME         ⊆      no    yes
//!   req NONE         no     yes   no         req NONE         no     yes   no
//!   req ANY          no     yes   yes        req ANY          no     no    yes
//! ```

/// An entity: some named values, anything, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// `{"values": [...]}` (type `SOME`, the default).
    Some(Vec<String>),
    /// `{"type": "ANY"}`.
    Any,
    /// `{"type": "NONE"}`.
    None,
}

impl Entity {
    /// A request entity for one value.
    pub fn one(value: impl Into<String>) -> Self {
        Entity::Some(vec![value.into()])
    }

    /// Parses `{"type": "SOME"|"ANY"|"NONE", "values": [...]}`.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| "an entity must be an object like {\"values\": [...]}".to_owned())?;
        for key in obj.keys() {
            if key != "type" && key != "values" {
                return Err(format!("unknown entity field '{key}'"));
            }
        }
        let values = match obj.get("values") {
            None => Vec::new(),
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| "entity values must be strings".to_owned())
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("entity 'values' must be an array of strings".into()),
        };
        match obj.get("type").map(|t| t.as_str()) {
            None | Some(Some("SOME")) => Ok(Entity::Some(values)),
            Some(Some("ANY")) => Ok(Entity::Any),
            Some(Some("NONE")) => Ok(Entity::None),
            Some(other) => Err(format!(
                "entity type must be SOME, ANY or NONE, not {}",
                other.unwrap_or("a non-string")
            )),
        }
    }

    fn subset(request: &[String], acl: &[String]) -> bool {
        request.iter().all(|r| acl.contains(r))
    }

    /// Whether an ACL entity `acl` applies to this request entity.
    pub fn matches(&self, acl: &Entity) -> bool {
        match (self, acl) {
            (Entity::None, a) => *a == Entity::None,
            (Entity::Any, a) => matches!(a, Entity::Any | Entity::None),
            (Entity::Some(_), Entity::Any | Entity::None) => true,
            (Entity::Some(r), Entity::Some(a)) => Self::subset(r, a),
        }
    }

    /// Whether an ACL entity `acl` grants this request entity.
    pub fn allowed_by(&self, acl: &Entity) -> bool {
        match (self, acl) {
            (Entity::None, a) => *a == Entity::None,
            (Entity::Any, a) => *a == Entity::Any,
            (Entity::Some(_), Entity::Any) => true,
            (Entity::Some(_), Entity::None) => false,
            (Entity::Some(r), Entity::Some(a)) => Self::subset(r, a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Entity::{self, Any, None as Nothing};

    fn some(v: &[&str]) -> Entity {
        Entity::Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn the_matrices_of_the_local_authorizer() {
        let a = some(&["a"]);
        // matches
        assert!(a.matches(&some(&["a", "b"])) && !a.matches(&some(&["b"])));
        assert!(a.matches(&Any) && a.matches(&Nothing));
        assert!(!Nothing.matches(&a) && Nothing.matches(&Nothing) && !Nothing.matches(&Any));
        assert!(!Any.matches(&a) && Any.matches(&Nothing) && Any.matches(&Any));
        // allows
        assert!(a.allowed_by(&some(&["a"])) && a.allowed_by(&Any) && !a.allowed_by(&Nothing));
        assert!(Nothing.allowed_by(&Nothing) && !Nothing.allowed_by(&Any));
        assert!(Any.allowed_by(&Any) && !Any.allowed_by(&Nothing) && !Any.allowed_by(&a));
    }

    #[test]
    fn json_forms() {
        let p = |s: &str| Entity::from_json(&serde_json::from_str(s).unwrap());
        assert_eq!(p(r#"{"values":["x"]}"#), Ok(some(&["x"])));
        assert_eq!(p(r#"{"type":"SOME","values":["x"]}"#), Ok(some(&["x"])));
        assert_eq!(p(r#"{"type":"ANY"}"#), Ok(Any));
        assert_eq!(p(r#"{"type":"NONE"}"#), Ok(Nothing));
        assert!(p(r#"{"type":"ALL"}"#).is_err());
        assert!(p(r#"{"value":["x"]}"#).is_err());
        assert!(p(r#"["x"]"#).is_err());
    }
}
