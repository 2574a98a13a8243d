//! Accounts: register, log in (a bearer token for scripts, or the console's HttpOnly cookie),
//! log out, who am I. Failed logins back off by account and by address, sign-ups are limited
//! per address, and both leave lines in the audit log.

use super::extract::{ApiJson, AuthUser, ClientIp};
use super::origin;
use crate::accounts::throttle::Attempt;
use crate::accounts::{hash_password, hash_token, new_token, policy, verify_password};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::wire;
use axum::extract::State;
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::Json;
use std::net::IpAddr;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::accounts::{Credentials, LoginAnswer, LoginResult, SessionMode, UserAnswer};
use yun_api::ErrorCode;
use yun_store::NewSession;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    (
        "register",
        &[
            ErrorCode::UsernameTaken,
            ErrorCode::RegistrationClosed,
            ErrorCode::TooManyRequests,
        ],
    ),
    (
        "login",
        &[
            ErrorCode::InvalidInput,
            ErrorCode::WrongCredentials,
            ErrorCode::AccountBanned,
            ErrorCode::ForeignOrigin,
            ErrorCode::NodeHost,
            ErrorCode::TooManyRequests,
        ],
    ),
    ("logout", &[]),
    ("me", &[]),
];

/// Opens an account with the sign-up credits. Refused when the operator closed registration,
/// and past a few accounts per address and hour (429 with `Retry-After`).
#[utoipa::path(post, path = "/auth/register", tag = "accounts", security(()),
    request_body = Credentials,
    responses((status = 201, description = "The new account", body = UserAnswer)))]
async fn register(
    State(state): State<AppState>,
    ClientIp(source): ClientIp,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult<(StatusCode, Json<UserAnswer>)> {
    if !state.config.registration_open {
        return Err(ApiError::new(
            ErrorCode::RegistrationClosed,
            "this yun does not open accounts for strangers; ask its operator for one",
        ));
    }
    acceptable_account(&c.username, &c.password)?;
    if let Err(wait) = state.signup_throttle.take(source) {
        let _ = state
            .store
            .audit(
                "anonymous",
                "registration_throttled",
                &format!("source:{source}"),
                "too many accounts from this address in an hour",
            )
            .await;
        return Err(ApiError::too_many(
            "too many accounts were opened from this address; try again later",
            wait,
        ));
    }
    let user = open_account(&state, &c.username, c.password, None).await?;
    tracing::info!(
        user = user.id,
        username = user.username,
        "account registered"
    );
    Ok((
        StatusCode::CREATED,
        Json(UserAnswer {
            user: wire::user(&user),
        }),
    ))
}

/// Whether a new account's name and password are acceptable (nothing is written).
pub(super) fn acceptable_account(username: &str, password: &str) -> ApiResult<()> {
    yun_core::validate::username(username)?;
    policy::check(password, username)?;
    Ok(())
}

/// Opens a renter's account with the sign-up credits, once `acceptable_account` said yes;
/// `opened_by` is the operator who opened it, for the audit log.
pub(super) async fn open_account(
    state: &AppState,
    username: &str,
    password: String,
    opened_by: Option<&str>,
) -> ApiResult<yun_store::UserRow> {
    let hash = hash_password(password).await.map_err(ApiError::internal)?;
    state
        .store
        .create_user(
            username,
            &hash,
            yun_core::Role::User,
            state.config.pricing.signup_credits,
            opened_by,
        )
        .await
        .map_err(|e| match e {
            yun_store::StoreError::Conflict(yun_store::Unique::Username) => ApiError::new(
                ErrorCode::UsernameTaken,
                format!("the username '{username}' is taken; choose another"),
            )
            .on("username"),
            other => other.into(),
        })
}

fn throttled(wait: std::time::Duration) -> ApiError {
    ApiError::too_many(
        format!(
            "too many failed logins for this account or from this address; wait {} s and try again",
            wait.as_secs_f64().ceil().max(1.0)
        ),
        wait,
    )
}

/// Counts a failed login (or a wrong current password) against what the attempt is counted
/// by, in the audit log (one entry a day per account, source and kind of attempt, counting its
/// repeats), and notes throttling when it starts.
pub(super) async fn login_failed(
    state: &AppState,
    attempt: Attempt<'_>,
    username: &str,
    who: Option<&str>,
    source: IpAddr,
) {
    let subject = match who {
        Some(id) => format!("user:{id}"),
        None => format!("unknown username:{username}"),
    };
    let (kind, from) = match attempt {
        Attempt::Stranger { .. } => ("stranger", format!("from {source}")),
        Attempt::Known(_) => ("known", format!("from {source}, a known device or session")),
    };
    let tally = format!("login_failed {subject} {source} {kind}");
    let _ = state
        .store
        .audit_tallied(&tally, "anonymous", "login_failed", &subject, &from)
        .await;
    if let Some(wait) = state.login_throttle.failed(attempt) {
        tracing::warn!(%source, wait_s = wait.as_secs(), "logins throttled");
        let tally = format!("login_throttled {subject} {source} {kind}");
        let _ = state
            .store
            .audit_tallied(
                &tally,
                "anonymous",
                "login_throttled",
                &subject,
                &format!("{from}: logins made to wait (first {} s)", wait.as_secs()),
            )
            .await;
    }
}

/// The device token, of those a login brought, that is a known device of `username`.
async fn known_device(
    state: &AppState,
    brought: &[String],
    username: &str,
) -> ApiResult<Option<String>> {
    for token in brought {
        let owner = state.store.known_device_owner(&hash_token(token)).await?;
        if owner.as_deref() == Some(username) {
            return Ok(Some(token.clone()));
        }
    }
    Ok(None)
}

/// Starts a session: a bearer token in the body for scripts (`session: token`, the default),
/// or, for the console, only an HttpOnly, SameSite=Strict cookie (`session: cookie`; the answer
/// carries no token, and the login must come from the console's own page and host). After a
/// few failures, logins for the account or from the address wait (429 with `Retry-After`);
/// a login from a known device of the account (the `device` it was given, or the console's
/// `yun_device` cookie) waits only for that device's own failures.
#[utoipa::path(post, path = "/auth/login", tag = "accounts", security(()),
    request_body = Credentials,
    responses((status = 200, description = "A new session: `{token, user}`, or `{user}` with the cookie", body = LoginResult,
        headers(("set-cookie" = String, description = "With `session: cookie`: the session cookie (HttpOnly, SameSite=Strict; over HTTPS `__Host-yun_session`, Secure) and the device cookie (`yun_device`, over HTTPS `__Host-yun_device`)")))))]
async fn login(
    State(state): State<AppState>,
    ClientIp(source): ClientIp,
    parts: Parts,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult<Response> {
    let cookie_mode = c.session == Some(SessionMode::Cookie);
    if cookie_mode {
        // A cookie set here would reach renters' services, or log a victim into someone's account.
        origin::check_cookie_request(&state, &parts)?;
    }
    // A name no account can have is refused by its shape, before the throttle, the audit log
    // or a password check sees it: a flood of made-up names stores nothing.
    yun_core::validate::username(&c.username).map_err(ApiError::from)?;
    // A known device of the account waits only for its own failures: a stranger's flood
    // against the account, or a neighbour's behind the same address, never keeps it out.
    let https = state.config.serves_https();
    let cookies = if cookie_mode {
        super::device_cookie::presented(&parts, https)
    } else {
        Vec::new()
    };
    let brought: Vec<String> = c.device.iter().cloned().chain(cookies.clone()).collect();
    let device = known_device(&state, &brought, &c.username).await?;
    let device_hash = device.as_deref().map(hash_token);
    let attempt = match &device_hash {
        Some(hash) => Attempt::Known(hash),
        None => Attempt::Stranger {
            username: &c.username,
            source,
        },
    };
    if let Some(wait) = state.login_throttle.wait(attempt) {
        return Err(throttled(wait));
    }
    let user = state.store.user_by_name(&c.username).await?;
    let ok = verify_password(c.password, user.as_ref().map(|u| u.password_hash.clone())).await;
    // A wrong password for a real account is that account's failure, in the audit log too.
    let known = user.as_ref().map(|u| u.id.clone());
    let Some(user) = user.filter(|_| ok) else {
        login_failed(&state, attempt, &c.username, known.as_deref(), source).await;
        return Err(ApiError::new(
            ErrorCode::WrongCredentials,
            "wrong username or password",
        ));
    };
    if user.banned {
        return Err(banned());
    }
    state.login_throttle.succeeded(attempt);
    // A stranger becomes a known device with this login.
    let device = device.unwrap_or_else(new_token);
    let token = new_token();
    let lifetime_ms =
        i64::try_from(state.config.session_lifetime.as_millis()).unwrap_or(i64::MAX / 2);
    let user_agent: String = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    state
        .store
        .create_session(&NewSession {
            token_hash: &hash_token(&token),
            user_id: &user.id,
            lifetime_ms,
            source: &source.to_string(),
            user_agent: &user_agent,
            device_hash: &hash_token(&device),
        })
        .await?;
    if !cookie_mode {
        return Ok(Json(LoginResult::Token(LoginAnswer {
            token,
            user: wire::user(&user),
            device,
        }))
        .into_response());
    }
    let cookie = super::session_cookie::set(&token, lifetime_ms / 1000, https);
    let device_cookie = super::device_cookie::set(&device, &cookies, https);
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, cookie),
            (header::SET_COOKIE, device_cookie),
        ]),
        Json(LoginResult::Cookie(UserAnswer {
            user: wire::user(&user),
        })),
    )
        .into_response())
}

pub(super) fn banned() -> ApiError {
    ApiError::new(
        ErrorCode::AccountBanned,
        "this account is banned; contact the operator",
    )
}

/// Ends the caller's session (with an access token: revokes it) and clears the cookie; its
/// open streams end at once.
#[utoipa::path(post, path = "/auth/logout", tag = "accounts",
    responses((status = 204, description = "The session is over")))]
async fn logout(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
) -> ApiResult<impl IntoResponse> {
    state
        .store
        .end_credential(u.kind, &u.actor(), &u.id, &u.session, "logged out")
        .await?;
    state.streams.end_session(&u.session);
    Ok((
        AppendHeaders([(
            header::SET_COOKIE,
            super::session_cookie::cleared(state.config.serves_https()),
        )]),
        StatusCode::NO_CONTENT,
    ))
}

/// The signed-in user, with the balance.
#[utoipa::path(get, path = "/me", tag = "accounts",
    responses((status = 200, description = "The caller", body = UserAnswer)))]
async fn me(State(state): State<AppState>, AuthUser(u): AuthUser) -> ApiResult<Json<UserAnswer>> {
    let user = state
        .store
        .user_by_id(&u.id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(UserAnswer {
        user: wire::user(&user),
    }))
}
