//! How the daemon's control replies are worded where several request handlers share them: every
//! [`StoreError`] becomes a control protocol error code here, in one place, and a file name a
//! control peer chose is shown one way. A leaf: the request handlers ([`super::requests`],
//! [`super::store_requests`]) and the history jobs ([`super::history`]) import it, it imports
//! none of them.

use crate::store::{RecoverError, StoreError};
use mu_ctl::proto::{ErrorCode, Reply};

/// What the administrator's tool is told a store error was.
impl From<&StoreError> for ErrorCode {
    fn from(e: &StoreError) -> ErrorCode {
        match e.kind() {
            // Not permitted here or now; the request itself may be fine elsewhere.
            StoreError::Disabled
            | StoreError::NotNow(_)
            | StoreError::Refused(_)
            | StoreError::TooBig(_) => ErrorCode::Refused,
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::Corrupt(_) | StoreError::Io { .. } | StoreError::Failed(_) => {
                ErrorCode::Failed
            }
            // Start-up only; a state file someone else put there is refused, like a passed one.
            StoreError::Recover(RecoverError::Foreign { .. }) => ErrorCode::Refused,
            StoreError::Recover(_) => ErrorCode::Failed,
            // `kind` looks under every context.
            StoreError::Context(..) => ErrorCode::Internal,
        }
    }
}

/// The error reply for a store error: its code and its sentence.
pub(super) fn store_reply(e: &StoreError) -> Reply {
    Reply::error(ErrorCode::from(e), e.to_string())
}

/// `Done` with the store's sentence, or the error reply.
pub(super) fn done_or(r: Result<String, StoreError>) -> Reply {
    match r {
        Ok(m) => Reply::done(m),
        Err(e) => store_reply(&e),
    }
}

/// The file name a control peer gave, for log lines and replies: at most 256 characters, with
/// control characters escaped (it is only a label; the peer chose it).
pub(super) fn shown(name: &str) -> String {
    let mut short: String = name.chars().take(256).collect();
    if short.len() < name.len() {
        short.push('…');
    }
    if short.chars().any(char::is_control) {
        short = format!("{short:?}");
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_store_error_gets_the_code_docs_mu_ctl_md_names() {
        let io = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let code = |e: StoreError| ErrorCode::from(&e);
        assert_eq!(code(StoreError::Disabled), ErrorCode::Refused);
        assert_eq!(code(StoreError::NotNow("x".into())), ErrorCode::Refused);
        assert_eq!(code(StoreError::TooBig("x".into())), ErrorCode::Refused);
        assert_eq!(code(StoreError::NotFound("x".into())), ErrorCode::NotFound);
        assert_eq!(code(StoreError::io("/d", io())), ErrorCode::Failed);
        assert_eq!(code(StoreError::Corrupt("x".into())), ErrorCode::Failed);
        // The code is the kind's under every context, not `internal`.
        let deep = StoreError::NotFound("x".into()).context("a").context("b");
        assert_eq!(code(deep), ErrorCode::NotFound);
        let r = store_reply(&StoreError::Disabled.context("there is no history"));
        assert!(
            matches!(
                r,
                Reply::Error {
                    code: ErrorCode::Refused,
                    ..
                }
            ),
            "{r:?}"
        );
    }
}
