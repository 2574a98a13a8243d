//! Reaching what runs inside a container, as its renter's users would, and waiting for state.

use crate::Api;
use std::time::Duration;

/// One HTTP GET of `http://<endpoint>/`; None when nothing answers.
pub async fn fetch(endpoint: &str) -> Option<String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("http client");
    let resp = client
        .get(format!("http://{endpoint}/"))
        .send()
        .await
        .ok()?;
    resp.text().await.ok()
}

/// Polls the endpoint for up to 5 s (a process needs a moment to bind) and returns its body.
pub async fn fetch_eventually(endpoint: &str) -> String {
    for _ in 0..50 {
        if let Some(body) = fetch(endpoint).await {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{endpoint} never answered");
}

impl Api {
    /// Polls a container for up to 5 s until `done` holds of its JSON; returns the last JSON.
    pub async fn wait_for(
        &self,
        id: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        for _ in 0..50 {
            last = self.get(&format!("/containers/{id}")).await.body["container"].clone();
            if done(&last) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }

    /// Polls a container's logs for up to 15 s until they contain `text`; returns them. (5 s
    /// was once too short for a container that writes 16 MiB before it logs, while other
    /// tests loaded the machine.)
    pub async fn wait_for_logs(&self, id: &str, text: &str) -> String {
        let mut logs = String::new();
        for _ in 0..150 {
            logs = self.get(&format!("/containers/{id}/logs")).await.text;
            if logs.contains(text) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        logs
    }
}

/// Polls `check` every 200 ms until it holds; fails the test with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "within {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
