//! Errors of the REST API, each with Marathon's status code and body, mapped in one place
//! ([`ApiError::status`], [`ApiError::body`]).

use serde_json::{json, Value};

use crate::model::validate::DefinitionError;
use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 / 422 for a bad definition.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// 400 with a message.
    #[error("{0}")]
    BadRequest(String),
    /// 404 with a message.
    #[error("{0}")]
    NotFound(String),
    /// 409: a duplicate id, or deployments in the way (their ids).
    #[error("{message}")]
    Conflict {
        /// Message.
        message: String,
        /// The deployments that lock the app.
        deployments: Vec<String>,
    },
    /// 405.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 413.
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    /// 503: the state could not be written.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// 503: no leader known.
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    /// The locked-by-deployment conflict with Marathon's wording.
    pub fn locked(deployments: Vec<String>) -> Self {
        let first = deployments.first().cloned().unwrap_or_default();
        Self::Conflict {
            message: format!(
                "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/{first}'."
            ),
            deployments,
        }
    }

    /// The app-not-found error.
    pub fn no_app(id: &str) -> Self {
        Self::NotFound(format!("App '{id}' does not exist"))
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::Definition(DefinitionError::InvalidJson(_)) | Self::BadRequest(_) => 400,
            Self::Definition(DefinitionError::Invalid(_)) => 422,
            Self::NotFound(_) => 404,
            Self::Conflict { .. } => 409,
            Self::MethodNotAllowed(_) => 405,
            Self::TooLarge(_) => 413,
            Self::Store(_) | Self::Unavailable(_) => 503,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        match self {
            Self::Definition(d) => d.body(),
            Self::Conflict {
                message,
                deployments,
            } => json!({
                "message": message,
                "deployments": deployments.iter().map(|d| json!({"id": d})).collect::<Vec<_>>(),
            }),
            other => json!({"message": other.to_string()}),
        }
    }
}
