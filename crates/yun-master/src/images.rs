//! Images leaving the platform: when the last record and container using content yun pulled
//! are gone, the nodes drop it too, so pulls do not fill their disks forever.

use crate::nodes::Registry;
use yun_store::{ImageRow, Store, StoreResult};

/// Forgets an image record (refused while a container uses it) and, when that was the last
/// use of content yun pulled, removes the content from the nodes.
pub async fn forget(store: &Store, registry: &Registry, id: &str) -> StoreResult<()> {
    if let Some(unused) = store.delete_image(id).await? {
        remove_from_nodes(registry, &unused).await;
    }
    Ok(())
}

/// Asks every ready node to remove `image`'s content. A node that is down or refuses keeps
/// it (logged); the record is gone either way, and an image a container uses always stays.
async fn remove_from_nodes(registry: &Registry, image: &ImageRow) {
    let calls = registry.live_nodes().into_iter().map(|lease| async move {
        if let Err(e) = lease
            .client
            .remove_image(&image.reference, &image.docker_id)
            .await
        {
            tracing::warn!(
                node = lease.node.name,
                image = image.reference,
                error = %e,
                "could not remove an unused image; it stays on the node"
            );
        }
    });
    futures::future::join_all(calls).await;
}
