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

/// A new session: the bearer token for scripts (the console gets the same as an HttpOnly cookie).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginAnswer {
    pub token: String,
    pub user: User,
}
