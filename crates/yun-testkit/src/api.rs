//! A small client of yun's HTTP API, as a renter's script would use it.

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

pub type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    /// The error envelope's code, if this is an error.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("http client"),
            base: base.trim_end_matches('/').to_string(),
            token: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// The typed client of the same master, signed in as the same user.
    pub fn client(&self) -> yun_api::Client {
        let root = self.base.trim_end_matches("/api/v1");
        let c = yun_api::Client::new(root).expect("a master's address");
        match &self.token {
            Some(t) => c.with_token(t),
            None => c,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, self.url(path));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        r
    }

    pub async fn send(r: reqwest::RequestBuilder) -> Reply {
        let resp = r.send().await.expect("the API answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        Self::send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        Self::send(self.request(reqwest::Method::POST, path).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        Self::send(self.request(reqwest::Method::DELETE, path)).await
    }

    /// Registers `username` and returns a client logged in as them.
    pub async fn sign_up(&self, username: &str, password: &str) -> Api {
        let r = self
            .post(
                "/auth/register",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status, 201, "register {username}: {}", r.text);
        self.log_in(username, password).await
    }

    pub async fn log_in(&self, username: &str, password: &str) -> Api {
        let r = self
            .post(
                "/auth/login",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status, 200, "login {username}: {}", r.text);
        self.with_token(r.body["token"].as_str().expect("a token"))
    }

    /// The id of the session this client uses (from `GET /me/sessions`).
    pub async fn current_session(&self) -> String {
        let r = self.get("/me/sessions").await;
        r.body["sessions"]
            .as_array()
            .and_then(|list| list.iter().find(|s| s["current"] == true))
            .and_then(|s| s["id"].as_str())
            .unwrap_or_else(|| panic!("no current session in {}", r.text))
            .to_string()
    }

    /// An admin's view of the whole fleet: the node list's first page with every page's nodes.
    pub async fn all_nodes(&self) -> Value {
        let mut first = self.get("/admin/nodes?limit=200").await.body;
        let mut cursor = first["next_cursor"].as_str().map(str::to_string);
        while let Some(c) = cursor {
            let page = self
                .get(&format!("/admin/nodes?limit=200&cursor={c}"))
                .await
                .body;
            let more = page["nodes"].as_array().cloned().unwrap_or_default();
            if let Some(list) = first["nodes"].as_array_mut() {
                list.extend(more);
            }
            cursor = page["next_cursor"].as_str().map(str::to_string);
        }
        first
    }

    /// An admin's view of the node with this name (Null when there is none).
    pub async fn node(&self, name: &str) -> Value {
        let nodes = self.all_nodes().await;
        nodes["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// This user's balance, as `GET /me` shows it.
    pub async fn balance(&self) -> i64 {
        let me = self.get("/me").await;
        me.body["user"]["balance"].as_i64().expect("a balance")
    }

    /// A GET whose body the caller reads as a stream (followed logs).
    pub async fn get_stream(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("the API answers")
    }

    /// Opens a WebSocket on `path` as this user; an HTTP refusal comes back as its status.
    pub async fn websocket(&self, path: &str) -> Result<WebSocket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = self.url(path).replacen("http", "ws", 1);
        let mut req = url.into_client_request().expect("a WebSocket URL");
        if let Some(t) = &self.token {
            req.headers_mut().insert(
                "authorization",
                format!("Bearer {t}").parse().expect("a header value"),
            );
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("WebSocket to {path}: {e}"),
        }
    }

    /// Runs a container and returns its JSON; panics unless the API answers 201.
    pub async fn run(&self, spec: Value) -> Value {
        let r = self.post("/containers", spec).await;
        assert_eq!(r.status, 201, "create: {}", r.text);
        r.body["container"].clone()
    }
}
