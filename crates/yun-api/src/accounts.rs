//! Accounts: registration, login, the signed-in user.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A username and password, to register or to log in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 3 to 32 characters: lowercase letters, digits, `-` and `_`.
    #[schema(pattern = "^[a-z0-9_-]{3,32}$", example = "alice")]
    pub username: String,
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128, example = "correct-horse")]
    pub password: String,
    /// On login: `token` (the default) answers a bearer token for scripts and sets no cookie;
    /// `cookie` sets the console's HttpOnly cookie and answers no token. Ignored on register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionMode>,
}

/// How a login hands over its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionMode {
    Token,
    Cookie,
}

/// An account as its owner (or an operator) sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub banned: bool,
    /// Whole credits (1 credit = 0.01 CNY by default).
    pub balance: i64,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

/// One user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAnswer {
    pub user: User,
}

/// A new session: the bearer token for scripts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginAnswer {
    pub token: String,
    pub user: User,
}

/// What a login answers: a token (`session: token`), or only the user when the session went
/// into the cookie (`session: cookie`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LoginResult {
    Token(LoginAnswer),
    Cookie(UserAnswer),
}
