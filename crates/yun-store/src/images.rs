//! The image catalog: public images (owner '') and each user's private ones.

use super::{now_ms, Store, StoreResult};
use sqlx::Row;

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

fn image_from(r: &sqlx::sqlite::SqliteRow) -> ImageRow {
    let ports: String = r.get("exposed_ports");
    ImageRow {
        id: r.get("id"),
        reference: r.get("reference"),
        docker_id: r.get("docker_id"),
        pulled: r.get::<i64, _>("pulled") != 0,
        owner_id: r.get("owner_id"),
        size_bytes: r.get::<i64, _>("size_bytes") as u64,
        exposed_ports: serde_json::from_str(&ports).unwrap_or_default(),
        created_at: r.get("created_at"),
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
        let mut tx = self.begin().await?;
        let ports = serde_json::to_string(exposed_ports).expect("ports serialise");
        sqlx::query(
            "INSERT INTO images (id, reference, owner_id, size_bytes, exposed_ports, created_at, docker_id, pulled) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(owner_id, reference) DO UPDATE SET size_bytes = excluded.size_bytes, exposed_ports = excluded.exposed_ports, \
             pulled = CASE WHEN images.docker_id = excluded.docker_id THEN MAX(images.pulled, excluded.pulled) ELSE excluded.pulled END, \
             docker_id = excluded.docker_id",
        )
        .bind(yun_core::new_id())
        .bind(reference)
        .bind(owner_id)
        .bind(size_bytes as i64)
        .bind(ports)
        .bind(now_ms())
        .bind(docker_id)
        .bind(pulled)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT * FROM images WHERE owner_id = ? AND reference = ?")
            .bind(owner_id)
            .bind(reference)
            .fetch_one(&mut *tx)
            .await?;
        let image = image_from(&row);
        // The pull's price is paid in the transaction that records the image, or neither is.
        if price > 0 {
            let entry = super::Entry {
                user_id: owner_id.to_string(),
                kind: super::EntryKind::Pull,
                amount: -price,
                reference: format!("image:{}", image.id),
                idempotency_key: format!("pull:{}:{}", image.id, yun_core::new_id()),
                note: format!("pulled {reference} ({size_bytes} bytes)"),
            };
            if super::ledger::post(&mut tx, owner_id, 0, &[entry])
                .await?
                .is_none()
            {
                return Ok(None);
            }
        }
        tx.commit().await?;
        Ok(Some(image))
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
        let mut tx = self.begin().await?;
        let balance: i64 = sqlx::query_scalar("SELECT balance FROM users WHERE id = ?")
            .bind(owner_id)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
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
            if super::ledger::post(&mut tx, owner_id, 0, &[entry])
                .await?
                .is_none()
            {
                return Ok(0);
            }
        }
        tx.commit().await?;
        Ok(amount)
    }

    /// The public catalog and `user_id`'s own images, in the order they were recorded;
    /// `page.after` is an image id.
    pub async fn visible_images(
        &self,
        user_id: &str,
        page: &super::Page,
    ) -> StoreResult<Vec<ImageRow>> {
        let rows = sqlx::query(
            "SELECT * FROM images WHERE (owner_id = '' OR owner_id = ?) AND (? IS NULL OR id > ?) \
             ORDER BY id LIMIT ?",
        )
        .bind(user_id)
        .bind(page.after.as_deref())
        .bind(page.after.as_deref())
        .bind(page.limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(image_from).collect())
    }

    /// Resolves a platform id or a reference; the user's own image wins over a public one.
    pub async fn resolve_image(
        &self,
        user_id: &str,
        id_or_ref: &str,
    ) -> StoreResult<Option<ImageRow>> {
        let row = sqlx::query(
            "SELECT * FROM images WHERE (owner_id = '' OR owner_id = ?) AND (id = ? OR reference = ?) \
             ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END, CASE WHEN owner_id = '' THEN 1 ELSE 0 END LIMIT 1",
        )
        .bind(user_id)
        .bind(id_or_ref)
        .bind(id_or_ref)
        .bind(id_or_ref)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.as_ref().map(image_from))
    }

    pub async fn image_by_id(&self, id: &str) -> StoreResult<Option<ImageRow>> {
        let row = sqlx::query("SELECT * FROM images WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(image_from))
    }

    /// Deletes an image record unless a container still uses it. Answers the record when its
    /// content should leave the nodes too: yun pulled it, and no other record or container of
    /// this cluster uses that content.
    pub async fn delete_image(&self, id: &str) -> StoreResult<Option<ImageRow>> {
        let mut tx = self.begin().await?;
        let in_use: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM containers WHERE image_id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if in_use > 0 {
            return Err(super::StoreError::ImageInUse {
                containers: in_use as u64,
            });
        }
        let Some(row) = sqlx::query("SELECT * FROM images WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let image = image_from(&row);
        sqlx::query("DELETE FROM images WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let still_used: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM images WHERE docker_id = ?1) \
                  + (SELECT COUNT(*) FROM containers WHERE image_pin = ?1)",
        )
        .bind(&image.docker_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        let unused = image.pulled && !image.docker_id.is_empty() && still_used == 0;
        Ok(unused.then_some(image))
    }
}
