//! What can go wrong with a launcher request, and how each case is answered.
//!
//! Every [`ApiError`] becomes a JSON body `{"error": "<message>"}` with the status of
//! [`ApiError::status`]. The JS client only looks for the `error` key (and retries on
//! 503 when `launcherRetry` is set), so the reference's messages are kept word for word
//! where it has them:
//!
//! | case | status | message |
//! |---|---|---|
//! | no `application` in the body (or not a JSON object) | 400 | `The request is not complete` |
//! | unknown application | 404 | `Unknown application: <name>` (the reference: 500 and a leaked port) |
//! | every port taken | 503 | `All the resources are currently taken` |
//! | the command could not be spawned, or exited before being ready | 503 | `The process did not properly start. <program>` |
//! | not ready within `timeout` | 503 | `Session did not start before timeout expired. Check session logs.` |
//! | `GET`/`DELETE` of an unknown id | 404 | `No session with id: <id>` (the reference: 400 for GET) |
//! | missing or wrong bearer token | 401 | `Authentication required` |
//! | body over `max_body` | 413 | `The request is too large` |
//! | the launcher is stopping | 503 | `The launcher is shutting down` |
//!
//! Start failures name only the program, never its arguments: those may carry the
//! session secret.

use http::StatusCode;

/// A request the launcher refused or could not satisfy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The body has no `application` (or is not a JSON object).
    #[error("The request is not complete")]
    Incomplete,
    /// The application is not in the config.
    #[error("Unknown application: {0}")]
    UnknownApplication(String),
    /// No free port.
    #[error("All the resources are currently taken")]
    NoResources,
    /// Spawning failed, or the process ended before it was ready.
    #[error("The process did not properly start. {program}")]
    StartFailed {
        /// The program (`cmd[0]`).
        program: String,
        /// Why (logged, not sent).
        reason: String,
    },
    /// The process was not ready in time (it has been killed).
    #[error("Session did not start before timeout expired. Check session logs.")]
    Timeout,
    /// No session has this id.
    #[error("No session with id: {0}")]
    NoSession(String),
    /// Missing or wrong `Authorization: Bearer` token.
    #[error("Authentication required")]
    Unauthorized,
    /// The body is larger than `max_body`.
    #[error("The request is too large")]
    TooLarge,
    /// The launcher is stopping and starts nothing more.
    #[error("The launcher is shutting down")]
    ShuttingDown,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Incomplete => StatusCode::BAD_REQUEST,
            ApiError::UnknownApplication(_) | ApiError::NoSession(_) => StatusCode::NOT_FOUND,
            ApiError::NoResources
            | ApiError::StartFailed { .. }
            | ApiError::Timeout
            | ApiError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// The JSON body `{"error": message}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_reference() {
        assert_eq!(
            ApiError::Incomplete.body().to_string(),
            r#"{"error":"The request is not complete"}"#
        );
        assert_eq!(
            ApiError::NoResources.body().to_string(),
            r#"{"error":"All the resources are currently taken"}"#
        );
        let e = ApiError::StartFailed {
            program: "python".into(),
            reason: "exit status: 1".into(),
        };
        assert_eq!(e.to_string(), "The process did not properly start. python");
        assert_eq!(e.status(), 503);
        assert_eq!(ApiError::UnknownApplication("x".into()).status(), 404);
    }
}
