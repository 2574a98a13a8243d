//! Helpers for tests on the typed client (`yun_api::Client`).

use std::time::Duration;
use yun_api::admin::Node;
use yun_api::containers::{Container, CreateContainer};
use yun_api::Client;

/// A create of `image` running `command` (the image's own when empty), everything else left
/// to the server; tests set the rest with struct update syntax.
pub fn container_spec(image: &str, command: &[&str]) -> CreateContainer {
    CreateContainer {
        image: image.to_string(),
        command: (!command.is_empty()).then(|| command.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

/// Polls the container (asking its node) until `done` holds or 15 s pass; returns the last
/// answer either way, so the caller's assertion says what it was.
pub async fn until_container(
    client: &Client,
    id: &str,
    done: impl Fn(&Container) -> bool,
) -> Container {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let c = client.container(id).await.expect("the container answers");
        if done(&c) || tokio::time::Instant::now() > deadline {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The operator's view of the node called `name`, if it is registered.
pub async fn node_named(admin: &Client, name: &str) -> Option<Node> {
    admin
        .fleet()
        .await
        .expect("the node list answers")
        .nodes
        .into_iter()
        .find(|n| n.name == name)
}
