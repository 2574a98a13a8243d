//! How a client command fails: one line on stderr (`yun: what happened; what to do`) and an
//! exit status from `yun_api::ExitClass` (1 an error, 2 a refusal you can act on, 125 the master
//! cannot be reached or used).

use yun_api::{ClientError, ErrorCode, ExitClass};

#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    /// The server's code, when the server refused.
    pub refusal: Option<ErrorCode>,
}

impl Failure {
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            code: ExitClass::Error.code(),
            message: message.into(),
            refusal: None,
        }
    }

    pub fn unusable(message: impl Into<String>) -> Self {
        Self {
            code: ExitClass::Unusable.code(),
            message: message.into(),
            refusal: None,
        }
    }

    /// A call to the master at `addr` that failed.
    pub fn from_client(addr: &str, e: ClientError) -> Self {
        match e {
            ClientError::Api { code, message, .. } => {
                let message = match code {
                    ErrorCode::Unauthorized => {
                        format!("not logged in to {addr} (or the session ended); run yun login")
                    }
                    _ => message,
                };
                Self {
                    code: code.exit_class().code(),
                    message,
                    refusal: Some(code),
                }
            }
            ClientError::Transport(cause) => Self::unusable(format!(
                "cannot reach {addr} ({}); is the master running? (yun dev)",
                plain_cause(&cause)
            )),
            ClientError::Unreadable { status, .. } => Self::unusable(format!(
                "{addr} answered HTTP {status} with something this client cannot read; is it a yun master of this version? (yun version)"
            )),
            ClientError::Setup(why) => Self::error(why),
        }
    }
}

/// Acts on each of `targets` in turn, printing each one done; a failure is reported when it
/// happens and the rest are still tried (as docker does with several ids). Answers the first
/// failure's exit status, or 0.
pub async fn each(targets: &[String], mut act: impl AsyncFnMut(&str) -> Result<(), Failure>) -> u8 {
    let mut first = None;
    for t in targets {
        match act(t).await {
            Ok(()) => println!("{t}"),
            Err(f) => {
                eprintln!("yun: {}", f.message);
                first.get_or_insert(f.code);
            }
        }
    }
    first.unwrap_or(0)
}

/// `Connection refused (os error 111)` → `connection refused`.
fn plain_cause(cause: &str) -> String {
    let cause = cause.split(" (os error").next().unwrap_or(cause);
    let mut chars = cause.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "no answer".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_master_says_what_to_do() {
        let f = Failure::from_client(
            "http://127.0.0.1:8088",
            ClientError::Transport("Connection refused (os error 111)".into()),
        );
        assert_eq!(f.code, 125);
        assert_eq!(
            f.message,
            "cannot reach http://127.0.0.1:8088 (connection refused); is the master running? (yun dev)"
        );
    }
}
