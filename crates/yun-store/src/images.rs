//! The image catalog: public images (owner '') and each user's private ones.

use super::db::{args, Row};
use super::{now_ms, Store, StoreResult};

#[derive(Debug, Clone)]
pub struct ImageRow {
    pub id: String,
    pub reference: String,
    /// Empty for the public catalog.
    pub owner_id: String,
    pub size_bytes: u64,
    /// `(port, protocol)` from the image's EXPOSE lines.
    pub exposed_ports: Vec<(u16, String)>,
    pub created_at: i64,
    /// The engine's image id it was published or pulled as ('' for rows from before pins).
    pub docker_id: String,
    /// yun fetched this content from a registry (rather than finding it on the node).
    pub pulled: bool,
}

fn image_from(r: &Row) -> ImageRow {
    ImageRow {
        id: r.text("id"),
        reference: r.text("reference"),
        docker_id: r.text("docker_id"),
        pulled: r.flag("pulled"),
        owner_id: r.text("owner_id"),
        size_bytes: r.int("size_bytes") as u64,
        exposed_ports: serde_json::from_str(&r.text("exposed_ports")).unwrap_or_default(),
        created_at: r.int("created_at"),
    }
}

impl Store {
    /// Adds an image to the catalog (owner '' = public), or refreshes its size and ports.
    #[allow(clippy::too_many_arguments)]
    pub async fn upsert_image(
        &self,
        owner_id: &str,
        reference: &str,
        docker_id: &str,
        pulled: bool,
        size_bytes: u64,
        exposed_ports: &[(u16, String)],
        price: i64,
    ) -> StoreResult<Option<ImageRow>> {
        let ports = serde_json::to_string(exposed_ports).expect("ports serialise");
        let written = self
            .write_if(async |tx| {
                tx.execute(
                    "INSERT INTO images (id, reference, owner_id, size_bytes, exposed_ports, created_at, docker_id, pulled) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (owner_id, reference) DO UPDATE SET size_bytes = excluded.size_bytes, \
                     exposed_ports = excluded.exposed_ports, \
                     pulled = CASE WHEN images.docker_id = excluded.docker_id \
                     THEN (images.pulled OR excluded.pulled) ELSE excluded.pulled END, \
                     docker_id = excluded.docker_id",
                    args![
                        yun_core::new_id().as_str(),
                        reference,
                        owner_id,
                        size_bytes as i64,
                        ports.as_str(),
                        now_ms(),
                        docker_id,
                        pulled
                    ],
                )
                .await?;
                let row = tx
                    .row(
                        "SELECT * FROM images WHERE owner_id = ?1 AND reference = ?2",
                        args![owner_id, reference],
                    )
                    .await?
                    .ok_or_else(|| super::StoreError::Decode("the image just written is gone".into()))?;
                let image = image_from(&row);
                // The pull's price is paid in the transaction that records the image, or
                // neither is.
                if price > 0 {
                    let entry = super::Entry {
                        user_id: owner_id.to_string(),
                        kind: super::EntryKind::Pull,
                        amount: -price,
                        reference: format!("image:{}", image.id),
                        idempotency_key: format!("pull:{}:{}", image.id, yun_core::new_id()),
                        note: format!("pulled {reference} ({size_bytes} bytes)"),
                    };
                    if super::ledger::post(tx, owner_id, 0, &[entry]).await?.is_none() {
                        return Ok(Err(()));
                    }
                }
                Ok(Ok(image))
            })
            .await?;
        Ok(written.ok())
    }

    /// Charges a pull that stopped (refused, too large, broken off) for what it downloaded:
    /// `price`, or the whole balance when that is less (a balance never goes below zero).
    /// Answers what was charged.
    pub async fn charge_failed_pull(
        &self,
        owner_id: &str,
        reference: &str,
        downloaded: u64,
        price: i64,
    ) -> StoreResult<i64> {
        if price <= 0 {
            return Ok(0);
        }
        self.write(async |tx| {
            let balance = super::ledger::balance_of(tx, owner_id).await?.unwrap_or(0);
            let amount = price.min(balance.max(0));
            if amount > 0 {
                let entry = super::Entry {
                    user_id: owner_id.to_string(),
                    kind: super::EntryKind::Pull,
                    amount: -amount,
                    reference: format!("pull:{reference}"),
                    idempotency_key: format!("failed-pull:{}", yun_core::new_id()),
                    note: format!("a pull of {reference} that stopped after {downloaded} bytes"),
                };
                if super::ledger::post(tx, owner_id, 0, &[entry])
                    .await?
                    .is_none()
                {
                    return Ok(0);
                }
            }
            Ok(amount)
        })
        .await
    }

    /// The public catalog and `user_id`'s own images, in the order they were recorded;
    /// `page.after` is an image id.
    pub async fn visible_images(
        &self,
        user_id: &str,
        page: &super::Page,
    ) -> StoreResult<Vec<ImageRow>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT * FROM images WHERE (owner_id = '' OR owner_id = ?1) \
                     AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3",
                    args![user_id, page.after.as_deref(), page.limit],
                )
                .await?;
            Ok(rows.iter().map(image_from).collect())
        })
        .await
    }

    /// Resolves a platform id or a reference; the user's own image wins over a public one.
    pub async fn resolve_image(
        &self,
        user_id: &str,
        id_or_ref: &str,
    ) -> StoreResult<Option<ImageRow>> {
        self.read(async |db| {
            let row = db
                .row(
                    "SELECT * FROM images WHERE (owner_id = '' OR owner_id = ?1) AND (id = ?2 OR reference = ?2) \
                     ORDER BY CASE WHEN id = ?2 THEN 0 ELSE 1 END, CASE WHEN owner_id = '' THEN 1 ELSE 0 END LIMIT 1",
                    args![user_id, id_or_ref],
                )
                .await?;
            Ok(row.as_ref().map(image_from))
        })
        .await
    }

    pub async fn image_by_id(&self, id: &str) -> StoreResult<Option<ImageRow>> {
        self.read(async |db| {
            let row = db
                .row("SELECT * FROM images WHERE id = ?1", args![id])
                .await?;
            Ok(row.as_ref().map(image_from))
        })
        .await
    }

    /// Deletes an image record unless a container still uses it. Answers the record when its
    /// content should leave the nodes too: yun pulled it, and no other record or container of
    /// this cluster uses that content.
    pub async fn delete_image(&self, id: &str) -> StoreResult<Option<ImageRow>> {
        self.write(async |tx| {
            let in_use = tx
                .int(
                    "SELECT COUNT(*) FROM containers WHERE image_id = ?1",
                    args![id],
                )
                .await?;
            if in_use > 0 {
                return Err(super::StoreError::ImageInUse {
                    containers: in_use as u64,
                });
            }
            let Some(row) = tx
                .row("SELECT * FROM images WHERE id = ?1", args![id])
                .await?
            else {
                return Ok(None);
            };
            let image = image_from(&row);
            tx.execute("DELETE FROM images WHERE id = ?1", args![id])
                .await?;
            let still_used = tx
                .int(
                    "SELECT (SELECT COUNT(*) FROM images WHERE docker_id = ?1) \
                          + (SELECT COUNT(*) FROM containers WHERE image_pin = ?1)",
                    args![&image.docker_id],
                )
                .await?;
            let unused = image.pulled && !image.docker_id.is_empty() && still_used == 0;
            Ok(unused.then_some(image))
        })
        .await
    }
}
