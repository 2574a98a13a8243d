//! How a client's process ends for each error code: one table, so every client (the `yun`
//! command line, scripts that read its exit status) tells the same three kinds of failure apart.

use crate::ErrorCode;

/// The kind of failure, as a process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// Something went wrong: a wrong id, bad input, a state that does not allow it.
    Error = 1,
    /// A refusal the user can act on: the balance, the quota, no node fits, a name or a port
    /// taken.
    Refusal = 2,
    /// The master cannot be reached or used: down, stopping, broken, or not this client's kind
    /// of server; or no session to use it with.
    Unusable = 125,
}

impl ExitClass {
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// Every class, in exit-code order.
    pub const ALL: [ExitClass; 3] = [ExitClass::Error, ExitClass::Refusal, ExitClass::Unusable];

    pub const fn meaning(self) -> &'static str {
        match self {
            ExitClass::Error => "an error",
            ExitClass::Refusal => {
                "a refusal you can act on (balance, quota, capacity, a name or port taken)"
            }
            ExitClass::Unusable => {
                "the master cannot be reached or used (or you are not logged in)"
            }
        }
    }
}

impl ErrorCode {
    /// The exit status a client ends with when the server answers this code. Every code is
    /// named here (no wildcard), so a new code must be placed.
    pub const fn exit_class(self) -> ExitClass {
        use ErrorCode::*;
        match self {
            InsufficientBalance | QuotaExceeded | NameTaken | UsernameTaken | PortTaken
            | PortUnavailable | PortOutOfRange | NodeResources | NoCapacity | NoFreePort
            | NoReadyNode | RegistryNotAllowed | BalanceTooLow | TooManyRequests
            | RegistrationClosed | ImageTooLarge => ExitClass::Refusal,
            Unauthorized | AmbiguousSession | AccountBanned | ForeignOrigin | NodeHost
            | NoSuchRoute | SessionRequired | MethodNotAllowed | WebsocketRequired
            | UnsupportedMediaType | Internal | NodeUnavailable | ShuttingDown => {
                ExitClass::Unusable
            }
            InvalidQuery
            | InvalidHeader
            | MalformedJson
            | WrongCredentials
            | NotFound
            | InvalidState
            | NotRunning
            | Conflict
            | OrderNotPending
            | ProviderConfirmsPayments
            | CannotBanSelf
            | GoneFromNode
            | BodyTooLarge
            | InvalidInput
            | UnknownImage
            | ImageUnavailable
            | CommandCannotRun
            | NodeRefused => ExitClass::Error,
        }
    }
}

/// The table as text, for `yun --help`.
pub fn exit_table() -> String {
    let mut out = String::from("Exit status:\n  0    success\n");
    for class in ExitClass::ALL {
        out.push_str(&format!("  {:<4} {}", class.code(), class.meaning()));
        let codes: Vec<&str> = ErrorCode::ALL
            .iter()
            .filter(|c| c.exit_class() == class)
            .map(|c| c.as_str())
            .collect();
        if class != ExitClass::Error {
            out.push_str(&format!(": {}", codes.join(", ")));
        }
        out.push('\n');
    }
    out.push_str("  N    exec and an attached run end with the command's own exit code\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_class_and_the_named_refusals_are_refusals() {
        for code in [
            ErrorCode::InsufficientBalance,
            ErrorCode::QuotaExceeded,
            ErrorCode::NoCapacity,
            ErrorCode::NameTaken,
            ErrorCode::PortTaken,
        ] {
            assert_eq!(code.exit_class(), ExitClass::Refusal, "{code}");
        }
        assert_eq!(ErrorCode::Unauthorized.exit_class(), ExitClass::Unusable);
        assert_eq!(ErrorCode::Internal.exit_class(), ExitClass::Unusable);
        assert_eq!(ErrorCode::NotFound.exit_class(), ExitClass::Error);
        let table = exit_table();
        for code in ErrorCode::ALL {
            let listed = table.contains(code.as_str());
            assert_eq!(
                listed,
                code.exit_class() != ExitClass::Error,
                "{code} in the help's table"
            );
        }
        assert!(table.contains("125"));
    }
}
