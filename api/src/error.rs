//! Errors shared by the API modules.

/// A message that parsed but breaks a rule Mesos enforces before acting on it (e.g.
/// `Expecting 'accept' to be present`). The text matches Mesos' where there is one, so a
/// server can answer `400 Bad Request` with `Failed to validate <Call>: <text>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

impl ValidationError {
    /// `Expecting '<field>' to be present`.
    pub fn missing(field: &str) -> Self {
        Self(format!("Expecting '{field}' to be present"))
    }
}

/// Checks that a status-update UUID is 16 bytes, as Mesos' `UUID::fromBytes` requires.
pub(crate) fn check_uuid(uuid: &[u8]) -> Result<(), ValidationError> {
    if uuid.len() == 16 {
        Ok(())
    } else {
        Err(ValidationError(format!(
            "Not a valid UUID: expected 16 bytes, got {}",
            uuid.len()
        )))
    }
}
