//! The typed client of the API (feature `client`): one method per operation, each returning
//! the wire type or a `ClientError` that carries the server's code, message and field.
//! Streams (logs, pull progress) come as async streams; stats and the console as WebSockets.

use crate::accounts::{
    AccessToken, AccessTokenCreated, AccessTokenList, Credentials, LoginAnswer, NewAccessToken,
    PasswordChange, PasswordChanged, Session, SessionList, SessionMode, User, UserAnswer,
};
use crate::admin::{
    Adjusted, Adjustment, AuditLog, BillingCheck, Forgotten, JoinToken, JoinTokenCreated,
    JoinTokenList, NewJoinToken, NodeList, UserList,
};
use crate::billing::{LedgerPage, Order, OrderAnswer, OrderCreated, OrderList, OrderRequest};
use crate::containers::{
    Container, ContainerAnswer, ContainerList, ContainerState, CreateContainer, LogLine,
};
use crate::events::ContainerEvent;
use crate::health::{Health, Readiness};
use crate::images::{Image, ImageAnswer, ImageList, PullEvent, PullRequest};
use crate::live::StatsMessage;
use crate::plans::PlanList;
use crate::{ErrorBody, ErrorCode, ErrorEnvelope};
use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// What a call can end in besides its answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused, with its code.
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
        field: Option<String>,
    },
    /// The server could not be reached, or the connection broke.
    #[error("could not reach the API: {0}")]
    Transport(String),
    /// The server answered something this client does not understand (another version?).
    #[error("the API answered HTTP {status} with a body this client cannot read: {detail}")]
    Unreadable { status: u16, detail: String },
    /// The client was set up wrongly (a bad address or CA file).
    #[error("{0}")]
    Setup(String),
}

impl ClientError {
    /// The server's code, when the server refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Unreadable { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        Self::Transport(root_cause(&e))
    }
}

/// The innermost cause of an error (`Connection refused (os error 111)`), which says more to a
/// person than the outer "error sending request for url (…)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// A WebSocket to the master (stats or the console).
pub type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Which page of a list: at most `limit` items (server default 50, at most 200) after the
/// previous page's `next_cursor`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl Page {
    pub fn first(limit: u32) -> Self {
        Self {
            limit: Some(limit),
            cursor: None,
        }
    }

    fn after(cursor: Option<String>) -> Self {
        Self {
            limit: Some(200),
            cursor,
        }
    }
}

/// What `DELETE /containers/{id}` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Removal {
    /// The container is gone.
    Done,
    /// Its node is down; it is `removing` and goes when the node is back.
    Deferred(Box<Container>),
}

/// A client of one master, optionally signed in.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `http(s)://host:port`, without `/api/v1`.
    base: String,
    token: Option<String>,
    ca_pem: Option<Arc<Vec<u8>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of logs and panics.
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("signed_in", &self.token.is_some())
            .finish()
    }
}

impl Client {
    /// A client of the master at `base` (`http://127.0.0.1:8088`).
    pub fn new(base: &str) -> Result<Self> {
        Self::build(base, None)
    }

    /// A client that trusts the CA in `ca_pem` (PEM) besides the usual roots, for a master
    /// whose certificate a private CA signed.
    pub fn with_ca(base: &str, ca_pem: &[u8]) -> Result<Self> {
        Self::build(base, Some(ca_pem.to_vec()))
    }

    fn build(base: &str, ca_pem: Option<Vec<u8>>) -> Result<Self> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Setup(format!(
                "'{base}' is not an address of a master; use http://HOST:PORT or https://HOST"
            )));
        }
        // Named, so a renter's session list tells the command line's logins apart.
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .user_agent(concat!("yun/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &ca_pem {
            let ca = reqwest::Certificate::from_pem(pem)
                .map_err(|e| ClientError::Setup(format!("the CA certificate is not PEM: {e}")))?;
            builder = builder.add_root_certificate(ca);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Self {
            http,
            base,
            token: None,
            ca_pem: ca_pem.map(Arc::new),
        })
    }

    /// The same client, sending this session token.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut r = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        r
    }

    async fn send<T: DeserializeOwned>(r: RequestBuilder) -> Result<(StatusCode, T)> {
        let resp = checked(r.send().await?).await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        let v = decode(status.as_u16(), &bytes)?;
        Ok((status, v))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        Ok(Self::send(self.request(Method::GET, path)).await?.1)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        Ok(Self::send(self.request(Method::POST, path).json(body))
            .await?
            .1)
    }

    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        Ok(Self::send(self.request(Method::POST, path)).await?.1)
    }

    async fn no_content(r: RequestBuilder) -> Result<()> {
        checked(r.send().await?).await.map(drop)
    }

    // Accounts.

    pub async fn register(&self, username: &str, password: &str) -> Result<User> {
        let c = Credentials {
            username: username.into(),
            password: password.into(),
            session: None,
            device: None,
        };
        Ok(self.post::<_, UserAnswer>("/auth/register", &c).await?.user)
    }

    /// Logs in; the answer's token is what `with_token` takes.
    /// Logs in for a bearer token; `device` is the device token an earlier login answered.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        device: Option<&str>,
    ) -> Result<LoginAnswer> {
        let c = Credentials {
            username: username.into(),
            password: password.into(),
            session: Some(SessionMode::Token),
            device: device.map(str::to_string),
        };
        self.post("/auth/login", &c).await
    }

    pub async fn logout(&self) -> Result<()> {
        Self::no_content(self.request(Method::POST, "/auth/logout")).await
    }

    pub async fn me(&self) -> Result<User> {
        Ok(self.get::<UserAnswer>("/me").await?.user)
    }

    /// My live login sessions, newest first.
    pub async fn sessions(&self) -> Result<Vec<Session>> {
        Ok(self.get::<SessionList>("/me/sessions").await?.sessions)
    }

    /// Ends one of my sessions; its streams close at once.
    pub async fn end_session(&self, id: &str) -> Result<()> {
        Self::no_content(self.request(Method::DELETE, &format!("/me/sessions/{}", seg(id)))).await
    }

    /// Changes my password; every other session ends.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<PasswordChanged> {
        let body = PasswordChange {
            current_password: current.into(),
            new_password: new.into(),
        };
        self.post("/me/password", &body).await
    }

    /// Makes a personal access token; its secret is in the answer only.
    pub async fn create_access_token(
        &self,
        name: &str,
        expires_in_days: u32,
    ) -> Result<AccessTokenCreated> {
        let body = NewAccessToken {
            name: name.into(),
            expires_in_days,
        };
        self.post("/me/tokens", &body).await
    }

    pub async fn access_tokens(&self) -> Result<Vec<AccessToken>> {
        Ok(self
            .get::<AccessTokenList>("/me/tokens")
            .await?
            .access_tokens)
    }

    pub async fn revoke_access_token(&self, id: &str) -> Result<()> {
        Self::no_content(self.request(Method::DELETE, &format!("/me/tokens/{}", seg(id)))).await
    }

    // Images and plans.

    /// Every image the caller may run (all pages).
    pub async fn images(&self) -> Result<Vec<Image>> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page: ImageList = self.list("/images", &[], &Page::after(cursor)).await?;
            all.extend(page.images);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(all),
            }
        }
    }

    /// One page of a list: `extra` are the list's own filters.
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        extra: &[(&str, String)],
        page: &Page,
    ) -> Result<T> {
        let mut q: Vec<(&str, String)> = extra.to_vec();
        if let Some(l) = page.limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(c) = &page.cursor {
            q.push(("cursor", c.clone()));
        }
        Ok(Self::send(self.request(Method::GET, path).query(&q))
            .await?
            .1)
    }

    /// Pulls a private image and waits for it.
    pub async fn pull(&self, reference: &str) -> Result<Image> {
        let body = PullRequest {
            reference: reference.into(),
        };
        Ok(self
            .post::<_, ImageAnswer>("/images/pull", &body)
            .await?
            .image)
    }

    /// Pulls a private image, its progress as it happens (the last event is `done` or `error`).
    pub async fn pull_progress(
        &self,
        reference: &str,
    ) -> Result<impl Stream<Item = Result<PullEvent>>> {
        let body = PullRequest {
            reference: reference.into(),
        };
        let r = self
            .request(Method::POST, "/images/pull?format=ndjson")
            .json(&body);
        Ok(ndjson(checked(r.send().await?).await?))
    }

    pub async fn remove_image(&self, id: &str) -> Result<()> {
        Self::no_content(self.request(Method::DELETE, &format!("/images/{}", seg(id)))).await
    }

    pub async fn plans(&self) -> Result<PlanList> {
        self.get("/plans").await
    }

    // Containers.

    /// Runs a container. With an idempotency key a repeat answers the first container, and
    /// `made` is false.
    pub async fn create_container(
        &self,
        spec: &CreateContainer,
        idempotency_key: Option<&str>,
    ) -> Result<(Container, bool)> {
        let mut r = self.request(Method::POST, "/containers").json(spec);
        if let Some(k) = idempotency_key {
            r = r.header("idempotency-key", k);
        }
        let (status, answer): (_, ContainerAnswer) = Self::send(r).await?;
        Ok((answer.container, status == StatusCode::CREATED))
    }

    /// One page of the caller's containers (`all`: operators see everyone's), only those in
    /// `state` when given.
    pub async fn containers_page(
        &self,
        all: bool,
        state: Option<ContainerState>,
        page: &Page,
    ) -> Result<ContainerList> {
        let mut extra = Vec::new();
        if all {
            extra.push(("all", "true".to_string()));
        }
        if let Some(s) = state {
            let s = serde_json::to_value(s).map_err(|e| ClientError::Setup(e.to_string()))?;
            extra.push(("state", s.as_str().unwrap_or_default().to_string()));
        }
        self.list("/containers", &extra, page).await
    }

    /// All the caller's containers (every page); `all` (operators) for everyone's.
    pub async fn containers(&self, all: bool) -> Result<Vec<Container>> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .containers_page(all, None, &Page::after(cursor))
                .await?;
            out.extend(page.containers);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    pub async fn container(&self, id: &str) -> Result<Container> {
        Ok(self
            .get::<ContainerAnswer>(&format!("/containers/{}", seg(id)))
            .await?
            .container)
    }

    async fn power(&self, id: &str, action: &str) -> Result<Container> {
        Ok(self
            .post_empty::<ContainerAnswer>(&format!("/containers/{}/{action}", seg(id)))
            .await?
            .container)
    }

    pub async fn start(&self, id: &str) -> Result<Container> {
        self.power(id, "start").await
    }

    pub async fn stop(&self, id: &str) -> Result<Container> {
        self.power(id, "stop").await
    }

    pub async fn restart(&self, id: &str) -> Result<Container> {
        self.power(id, "restart").await
    }

    pub async fn remove_container(&self, id: &str) -> Result<Removal> {
        let r = self.request(Method::DELETE, &format!("/containers/{}", seg(id)));
        let resp = checked(r.send().await?).await?;
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(Removal::Done);
        }
        let status = resp.status().as_u16();
        let answer: ContainerAnswer = decode(status, &resp.bytes().await?)?;
        Ok(Removal::Deferred(Box::new(answer.container)))
    }

    /// The log as text, as it is written when `follow`.
    pub async fn logs(
        &self,
        id: &str,
        tail: Option<u32>,
        follow: bool,
    ) -> Result<impl Stream<Item = Result<bytes::Bytes>>> {
        let r = self
            .request(Method::GET, &format!("/containers/{}/logs", seg(id)))
            .query(&log_query(tail, follow, "raw"));
        let resp = checked(r.send().await?).await?;
        Ok(resp.bytes_stream().map_err(ClientError::from))
    }

    /// The log a line at a time, stdout told from stderr.
    pub async fn log_lines(
        &self,
        id: &str,
        tail: Option<u32>,
        follow: bool,
    ) -> Result<impl Stream<Item = Result<LogLine>>> {
        let r = self
            .request(Method::GET, &format!("/containers/{}/logs", seg(id)))
            .query(&log_query(tail, follow, "ndjson"));
        Ok(ndjson(checked(r.send().await?).await?))
    }

    /// Live stats: `StatsMessage`s until the socket closes.
    pub async fn stats(&self, id: &str) -> Result<impl Stream<Item = Result<StatsMessage>>> {
        let ws = self
            .websocket(&format!("/containers/{}/stats", seg(id)))
            .await?;
        Ok(text_frames(ws))
    }

    /// Container state changes as they happen (`all`: operators, everyone's), after the event
    /// `since` when given (to resume), over a WebSocket.
    pub async fn events(
        &self,
        all: bool,
        since: Option<i64>,
    ) -> Result<impl Stream<Item = Result<ContainerEvent>>> {
        let mut q = Vec::new();
        if all {
            q.push(("all", "true".to_string()));
        }
        if let Some(s) = since {
            q.push(("since", s.to_string()));
        }
        let ws = self
            .websocket(&format!("/events?{}", query_string(&q)))
            .await?;
        Ok(text_frames(ws))
    }

    /// The stored events after `since` (kept an hour), as NDJSON; the stream ends with them.
    pub async fn events_backlog(
        &self,
        all: bool,
        since: i64,
    ) -> Result<impl Stream<Item = Result<ContainerEvent>>> {
        let mut q = vec![("since", since.to_string())];
        if all {
            q.push(("all", "true".to_string()));
        }
        let r = self.request(Method::GET, "/events").query(&q);
        Ok(ndjson(checked(r.send().await?).await?))
    }

    /// The console: a WebSocket of terminal bytes (binary) and `ExecServerMessage`s (text).
    /// With `size` None there is no TTY: server frames start with 1 (stdout) or 2 (stderr),
    /// binary frames sent are stdin, and `ExecClientMessage::StdinClose` ends it.
    pub async fn exec(
        &self,
        id: &str,
        command: &[&str],
        size: Option<(u16, u16)>,
    ) -> Result<WebSocket> {
        let mut q: Vec<(&str, String)> =
            command.iter().map(|c| ("command", c.to_string())).collect();
        match size {
            Some((cols, rows)) => {
                q.push(("cols", cols.to_string()));
                q.push(("rows", rows.to_string()));
            }
            None => q.push(("tty", "false".to_string())),
        }
        let query = query_string(&q);
        self.websocket(&format!("/containers/{}/exec?{query}", seg(id)))
            .await
    }

    /// Opens a WebSocket on an API path as this user; a refusal before the upgrade comes back
    /// as the server's error.
    pub async fn websocket(&self, path: &str) -> Result<WebSocket> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/api/v1{path}", self.base).replacen("http", "ws", 1);
        let mut req = url
            .into_client_request()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        if let Some(t) = &self.token {
            let v = format!("Bearer {t}")
                .parse()
                .map_err(|_| ClientError::Setup("the token is not a header value".into()))?;
            req.headers_mut().insert("authorization", v);
        }
        let connector = match &self.ca_pem {
            Some(pem) => Some(tls_connector(pem)?),
            None => None,
        };
        match tokio_tungstenite::connect_async_tls_with_config(req, None, false, connector).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let status = resp.status().as_u16();
                let body = resp.body().clone().unwrap_or_default();
                Err(refusal(status, &body))
            }
            Err(e) => Err(ClientError::Transport(root_cause(&e))),
        }
    }

    // Money.

    /// A page of the ledger, newest first; `before` is the previous page's `next_before`.
    pub async fn ledger(&self, before: Option<i64>, limit: Option<u32>) -> Result<LedgerPage> {
        let mut q = Vec::new();
        if let Some(b) = before {
            q.push(("before", b.to_string()));
        }
        if let Some(l) = limit {
            q.push(("limit", l.to_string()));
        }
        Ok(
            Self::send(self.request(Method::GET, "/billing/ledger").query(&q))
                .await?
                .1,
        )
    }

    pub async fn create_order(&self, credits: i64) -> Result<OrderCreated> {
        self.post("/orders", &OrderRequest { credits }).await
    }

    /// A page of the caller's orders, newest first.
    pub async fn orders(&self, page: &Page) -> Result<OrderList> {
        self.list("/orders", &[], page).await
    }

    pub async fn order(&self, id: &str) -> Result<Order> {
        Ok(self
            .get::<OrderAnswer>(&format!("/orders/{}", seg(id)))
            .await?
            .order)
    }

    pub async fn cancel_order(&self, id: &str) -> Result<Order> {
        Ok(self
            .post_empty::<OrderAnswer>(&format!("/orders/{}/cancel", seg(id)))
            .await?
            .order)
    }

    // Operators.

    /// A page of the fleet, by node name.
    pub async fn nodes(&self, page: &Page) -> Result<NodeList> {
        self.list("/admin/nodes", &[], page).await
    }

    /// The whole fleet: the first page's figures with every page's nodes.
    pub async fn fleet(&self) -> Result<NodeList> {
        let mut fleet = self.nodes(&Page::after(None)).await?;
        while let Some(cursor) = fleet.next_cursor.take() {
            let page = self.nodes(&Page::after(Some(cursor))).await?;
            fleet.nodes.extend(page.nodes);
            fleet.next_cursor = page.next_cursor;
        }
        Ok(fleet)
    }

    pub async fn cordon(&self, node_id: &str) -> Result<()> {
        Self::no_content(self.request(
            Method::POST,
            &format!("/admin/nodes/{}/cordon", seg(node_id)),
        ))
        .await
    }

    pub async fn uncordon(&self, node_id: &str) -> Result<()> {
        Self::no_content(self.request(
            Method::POST,
            &format!("/admin/nodes/{}/uncordon", seg(node_id)),
        ))
        .await
    }

    /// Forgets a node that holds no containers: its certificates are revoked and its name
    /// can join again.
    pub async fn forget_node(&self, node_id: &str) -> Result<Forgotten> {
        self.post_empty(&format!("/admin/nodes/{}/forget", seg(node_id)))
            .await
    }

    /// A join token for new workers; its secret is in the answer only.
    pub async fn create_join_token(&self, ask: &NewJoinToken) -> Result<JoinTokenCreated> {
        self.post("/admin/join-tokens", ask).await
    }

    pub async fn join_tokens(&self) -> Result<Vec<JoinToken>> {
        Ok(self
            .get::<JoinTokenList>("/admin/join-tokens")
            .await?
            .join_tokens)
    }

    pub async fn revoke_join_token(&self, id: &str) -> Result<()> {
        Self::no_content(self.request(Method::DELETE, &format!("/admin/join-tokens/{}", seg(id))))
            .await
    }

    /// A page of the accounts, in the order they registered.
    pub async fn users(&self, page: &Page) -> Result<UserList> {
        self.list("/admin/users", &[], page).await
    }

    /// Opens an account for someone (an operator's call; registration may be closed).
    pub async fn create_user(&self, username: &str, password: &str) -> Result<User> {
        let a = crate::admin::NewAccount {
            username: username.into(),
            password: password.into(),
        };
        Ok(self.post::<_, UserAnswer>("/admin/users", &a).await?.user)
    }

    pub async fn ban(&self, user_id: &str) -> Result<User> {
        Ok(self
            .post_empty::<UserAnswer>(&format!("/admin/users/{}/ban", seg(user_id)))
            .await?
            .user)
    }

    pub async fn unban(&self, user_id: &str) -> Result<User> {
        Ok(self
            .post_empty::<UserAnswer>(&format!("/admin/users/{}/unban", seg(user_id)))
            .await?
            .user)
    }

    pub async fn publish_image(&self, reference: &str) -> Result<Image> {
        let body = PullRequest {
            reference: reference.into(),
        };
        Ok(self
            .post::<_, ImageAnswer>("/admin/images", &body)
            .await?
            .image)
    }

    pub async fn unpublish_image(&self, id: &str) -> Result<()> {
        Self::no_content(self.request(Method::DELETE, &format!("/admin/images/{}", seg(id)))).await
    }

    pub async fn adjust_credits(&self, user_id: &str, amount: i64, reason: &str) -> Result<i64> {
        let body = Adjustment {
            amount,
            reason: reason.into(),
        };
        let a: Adjusted = self
            .post(&format!("/admin/users/{}/credits", seg(user_id)), &body)
            .await?;
        Ok(a.balance)
    }

    /// A page of every user's orders, newest first.
    pub async fn all_orders(&self, page: &Page) -> Result<OrderList> {
        self.list("/admin/orders", &[], page).await
    }

    pub async fn mark_paid(&self, order_id: &str) -> Result<Order> {
        Ok(self
            .post_empty::<OrderAnswer>(&format!("/admin/orders/{}/paid", seg(order_id)))
            .await?
            .order)
    }

    pub async fn billing_check(&self) -> Result<BillingCheck> {
        self.get("/admin/billing/check").await
    }

    /// A page of the audit log, newest first.
    pub async fn audit(&self, page: &Page) -> Result<AuditLog> {
        self.list("/admin/audit", &[], page).await
    }

    /// Whether the master answers, and its version (`/healthz`).
    pub async fn health(&self) -> Result<Health> {
        self.operations("/healthz", &[200]).await
    }

    /// Whether the master is ready (`/readyz`): 200 ready, 503 not ready, both answered with
    /// a `Readiness`.
    pub async fn readiness(&self) -> Result<Readiness> {
        self.operations("/readyz", &[200, 503]).await
    }

    /// An operations route outside `/api/v1`; a status not in `answered` is a refusal.
    async fn operations<T: DeserializeOwned>(&self, path: &str, answered: &[u16]) -> Result<T> {
        let resp = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        if answered.contains(&status) {
            decode(status, &body)
        } else {
            Err(refusal(status, &body))
        }
    }
}

/// A path segment, percent-encoded so an id can never reach another route.
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query_string(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// A body read into its wire type; what does not fit is `Unreadable`, with the status.
fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| ClientError::Unreadable {
        status,
        detail: e.to_string(),
    })
}

/// A WebSocket's text frames read into their wire type (the upgrade's status stands in for
/// the body's).
fn text_frames<T: DeserializeOwned>(ws: WebSocket) -> impl Stream<Item = Result<T>> {
    use tokio_tungstenite::tungstenite::Message;
    ws.filter_map(|m| async move {
        match m {
            Ok(Message::Text(t)) => Some(decode(101, t.as_bytes())),
            Ok(_) => None,
            Err(e) => Some(Err(ClientError::Transport(root_cause(&e)))),
        }
    })
}

fn log_query(tail: Option<u32>, follow: bool, format: &str) -> Vec<(&'static str, String)> {
    let mut q = vec![
        ("follow", follow.to_string()),
        ("format", format.to_string()),
    ];
    if let Some(t) = tail {
        q.push(("tail", t.to_string()));
    }
    q
}

/// The server's error from a refused answer's status and body.
fn refusal(status: u16, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(ErrorEnvelope {
            error:
                ErrorBody {
                    code,
                    message,
                    field,
                    ..
                },
        }) => ClientError::Api {
            status,
            code,
            message,
            field,
        },
        Err(_) => ClientError::Unreadable {
            status,
            detail: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        },
    }
}

/// The response when it is a success; the server's error otherwise.
async fn checked(resp: reqwest::Response) -> Result<reqwest::Response> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let body = resp.bytes().await?;
    Err(refusal(status, &body))
}

/// An NDJSON body as a stream of values, one a line, read as it arrives.
fn ndjson<T: DeserializeOwned>(resp: reqwest::Response) -> impl Stream<Item = Result<T>> {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // Another body (a proxy's page, an older server's JSON) is said once, not misread.
    let mut wrong =
        (!content_type.starts_with("application/x-ndjson")).then(|| ClientError::Unreadable {
            status,
            detail: format!("expected application/x-ndjson, got {content_type:?}"),
        });
    let mut bytes = Box::pin(resp.bytes_stream());
    let mut buf: Vec<u8> = Vec::new();
    let mut ended = false;
    futures::stream::poll_fn(move |cx| loop {
        if ended {
            return std::task::Poll::Ready(None);
        }
        if let Some(e) = wrong.take() {
            ended = true;
            return std::task::Poll::Ready(Some(Err(e)));
        }
        if let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            if line.len() <= 1 {
                continue;
            }
            let v = decode(status, &line[..line.len() - 1]);
            return std::task::Poll::Ready(Some(v));
        }
        match bytes.poll_next_unpin(cx) {
            std::task::Poll::Ready(Some(Ok(chunk))) => buf.extend_from_slice(&chunk),
            std::task::Poll::Ready(Some(Err(e))) => {
                return std::task::Poll::Ready(Some(Err(e.into())))
            }
            std::task::Poll::Ready(None) => {
                if buf.iter().all(u8::is_ascii_whitespace) {
                    return std::task::Poll::Ready(None);
                }
                let rest = std::mem::take(&mut buf);
                let v = decode(status, &rest);
                return std::task::Poll::Ready(Some(v));
            }
            std::task::Poll::Pending => return std::task::Poll::Pending,
        }
    })
}

/// A TLS connector for WebSockets that trusts the given CA besides the public roots.
fn tls_connector(pem: &[u8]) -> Result<tokio_tungstenite::Connector> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert =
            cert.map_err(|e| ClientError::Setup(format!("the CA certificate is not PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| ClientError::Setup(format!("the CA certificate is refused: {e}")))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ClientError::Setup(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_tungstenite::Connector::Rustls(Arc::new(config)))
}
