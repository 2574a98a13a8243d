//! Accounts: registration, login, the signed-in user, their sessions, password and access
//! tokens.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A username and password, to register or to log in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 3 to 32 characters: lowercase letters, digits, `-` and `_`.
    #[schema(pattern = "^[a-z0-9_-]{3,32}$", example = "alice")]
    pub username: String,
    /// On register: 10 to 128 characters that are hard to guess (a few unrelated words work
    /// well). On login: the account's password.
    #[schema(min_length = 1, max_length = 128, example = "correct-horse")]
    pub password: String,
    /// On login: `token` (the default) answers a bearer token for scripts and sets no cookie;
    /// `cookie` sets the console's HttpOnly cookie and answers no token. Ignored on register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionMode>,
    /// On login with `session: token`: the device token an earlier login of this account
    /// answered. A login from a known device waits only for that device's own failures, never
    /// for a stranger's guesses at the account or for its address. The console's device rides
    /// in the HttpOnly `yun_device` cookie instead. Ignored on register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
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
    /// This device's token for the account: keep it (the CLI does, in its context) and send it
    /// as `device` with the next login.
    pub device: String,
}

/// What a login answers: a token (`session: token`), or only the user when the session went
/// into the cookie (`session: cookie`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LoginResult {
    Token(LoginAnswer),
    Cookie(UserAnswer),
}

/// One of my login sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; recorded at most once a minute.
    pub last_used_at: String,
    /// RFC 3339: the absolute expiry or, if sooner, when it ends unless used again.
    pub expires_at: String,
    /// The address it logged in from.
    pub source: String,
    /// The client's `User-Agent` at login.
    pub user_agent: String,
    /// This is the session making the request.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionList {
    /// Newest first.
    pub sessions: Vec<Session>,
}

/// A new password, with the current one as proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 10 to 128 characters that are hard to guess.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// What a password change did: every other session ended; access tokens are not sessions
/// and keep working until revoked (`DELETE /me/tokens/{id}`), which this says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChanged {
    pub sessions_ended: u32,
    /// The account's access tokens that still work.
    pub access_tokens_kept: u32,
}

/// A personal access token to make, for scripts and CI.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccessToken {
    /// What it is for, 1 to 64 characters, such as `ci-deploy`.
    #[schema(min_length = 1, max_length = 64, example = "ci-deploy")]
    pub name: String,
    /// Days it stays good for, 1 to 365.
    #[schema(minimum = 1, maximum = 365, example = 30)]
    pub expires_in_days: u32,
}

/// An access token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessToken {
    pub id: String,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
    /// RFC 3339; null until first used; recorded at most once a minute.
    pub last_used_at: Option<String>,
}

/// A token just made: `token` is shown this once and cannot be read again. Send it as
/// `Authorization: Bearer <token>`; it is never taken as a cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenCreated {
    pub token: String,
    pub access_token: AccessToken,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenList {
    /// Newest first; expired tokens are not listed.
    pub access_tokens: Vec<AccessToken>,
}
