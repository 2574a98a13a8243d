//! The ledger: every change of a balance is an entry written in the same transaction as the
//! balance itself, so a balance always equals the sum of its entries. A debit is one
//! conditional update; no row changed means the balance could not pay.

use super::direct::{conflict_on_unique, direct};
use super::{now_ms, Store, StoreError, StoreResult};
use rusqlite::OptionalExtension;
use sqlx::{Row, SqliteConnection};

pub use yun_core::EntryKind;

/// One entry to post. `amount` is signed: positive credits the balance, negative debits it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub user_id: String,
    pub kind: EntryKind,
    pub amount: i64,
    pub reference: String,
    pub idempotency_key: String,
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub id: i64,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub reference: String,
    pub note: String,
    pub created_at: i64,
}

/// Moves a balance by the sum of `entries` (all one user's) and writes them, if the balance
/// before is at least `require` and stays at or above zero. Returns the new balance, or None
/// when it could not pay (nothing is written then).
pub(super) async fn post(
    tx: &mut SqliteConnection,
    user_id: &str,
    require: i64,
    entries: &[Entry],
) -> StoreResult<Option<i64>> {
    direct(tx, |db| post_in(db, user_id, require, entries)).await
}

/// `post` on a handle already in a transaction.
pub(super) fn post_in(
    db: &rusqlite::Connection,
    user_id: &str,
    require: i64,
    entries: &[Entry],
) -> StoreResult<Option<i64>> {
    let total: i64 = entries.iter().map(|e| e.amount).sum();
    let floor = require.max(-total).max(0);
    let balance: Option<i64> = db
        .prepare_cached(
            "UPDATE users SET balance = balance + ?1 WHERE id = ?2 AND balance >= ?3 RETURNING balance",
        )?
        .query_row(rusqlite::params![total, user_id, floor], |r| r.get(0))
        .optional()?;
    let Some(balance) = balance else {
        return Ok(None);
    };
    let now = now_ms();
    let mut running = balance - total;
    let mut insert = db.prepare_cached(
        "INSERT INTO ledger (user_id, kind, amount, balance_after, reference, idempotency_key, note, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for e in entries {
        debug_assert_eq!(e.user_id, user_id, "one user's entries per post");
        running += e.amount;
        insert
            .execute(rusqlite::params![
                user_id,
                e.kind.as_str(),
                e.amount,
                running,
                e.reference,
                e.idempotency_key,
                e.note,
                now
            ])
            .map_err(|err| conflict_on_unique(err, |_| super::Unique::LedgerKey))?;
    }
    Ok(Some(balance))
}

/// A user's balance as the transaction sees it; None when there is no such user.
pub(super) async fn balance_in(
    tx: &mut SqliteConnection,
    user_id: &str,
) -> StoreResult<Option<i64>> {
    direct(tx, |db| balance_of(db, user_id)).await
}

/// `balance_in` on a handle already in a transaction.
pub(super) fn balance_of(db: &rusqlite::Connection, user_id: &str) -> StoreResult<Option<i64>> {
    Ok(db
        .prepare_cached("SELECT balance FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?)
}

/// Posts a single entry that must not fail for want of money (a credit or a refund).
pub(super) async fn credit(tx: &mut SqliteConnection, entry: Entry) -> StoreResult<i64> {
    direct(tx, |db| credit_in(db, entry)).await
}

/// `credit` on a handle already in a transaction.
pub(super) fn credit_in(db: &rusqlite::Connection, entry: Entry) -> StoreResult<i64> {
    debug_assert!(entry.amount >= 0);
    let user = entry.user_id.clone();
    post_in(db, &user, 0, &[entry])?
        .ok_or_else(|| StoreError::Decode(format!("user {user} vanished while being credited")))
}

pub(super) async fn audit(
    tx: &mut SqliteConnection,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> StoreResult<()> {
    insert_audit(tx, None, [actor, action, subject, detail]).await
}

/// An entry: `[actor, action, subject, detail]`, and the key that tallies its repeats.
async fn insert_audit(
    tx: &mut SqliteConnection,
    tally: Option<&str>,
    [actor, action, subject, detail]: [&str; 4],
) -> StoreResult<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO audit_log (at, last_at, actor, action, subject, detail, tally) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(now)
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .bind(tally)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// `audit` on the writer's own handle, inside a transaction already open.
pub(super) fn audit_in(
    db: &rusqlite::Connection,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> StoreResult<()> {
    db.prepare_cached(
        "INSERT INTO audit_log (at, last_at, actor, action, subject, detail) VALUES (?1, ?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(rusqlite::params![now_ms(), actor, action, subject, detail])?;
    Ok(())
}

/// A tallied entry counts its repeats for this long after its first time, then a new one starts.
pub const TALLY_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// One line of the audit log.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    /// When it happened (the first time, for a tallied entry).
    pub at: i64,
    /// How many times: above 1 only for tallied entries.
    pub repeats: i64,
    /// When it happened last.
    pub last_at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

/// What happened to an admin's adjustment.
pub enum Adjusted {
    Done(i64),
    NoSuchUser,
    WouldGoNegative(i64),
}

impl Store {
    pub async fn balance(&self, user_id: &str) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT balance FROM users WHERE id = ?")
            .bind(user_id)
            .fetch_optional(&self.read)
            .await?)
    }

    /// A user's entries, newest first, older than `before` (an entry id) when given.
    pub async fn ledger_page(
        &self,
        user_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<LedgerRow>> {
        let rows = sqlx::query(
            "SELECT id, kind, amount, balance_after, reference, note, created_at FROM ledger \
             WHERE user_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(user_id)
        .bind(before)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| LedgerRow {
                id: r.get("id"),
                kind: r.get("kind"),
                amount: r.get("amount"),
                balance_after: r.get("balance_after"),
                reference: r.get("reference"),
                note: r.get("note"),
                created_at: r.get("created_at"),
            })
            .collect())
    }

    /// Records something that repeats (a failed login for one account from one source): the
    /// first time in a day it is an entry, every further time that entry's count grows.
    pub async fn audit_tallied(
        &self,
        tally: &str,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let counted = sqlx::query(
            "UPDATE audit_log SET repeats = repeats + 1, last_at = ? WHERE tally = ? AND at > ?",
        )
        .bind(now)
        .bind(tally)
        .bind(now.saturating_sub(TALLY_WINDOW_MS))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if counted == 0 {
            insert_audit(&mut tx, Some(tally), [actor, action, subject, detail]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes audit entries last seen more than `retention_ms` ago; answers how many.
    pub async fn purge_audit(&self, retention_ms: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let gone = sqlx::query("DELETE FROM audit_log WHERE last_at < ?")
            .bind(now_ms().saturating_sub(retention_ms))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }

    /// The audit log, newest first; `page.after` is an entry id.
    pub async fn audit_log(&self, page: &super::Page) -> StoreResult<Vec<AuditRow>> {
        let after: Option<i64> = page.after.as_deref().and_then(|a| a.parse().ok());
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(after)
        .bind(after)
        .bind(page.limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AuditRow {
                id: r.get("id"),
                at: r.get("at"),
                repeats: r.get("repeats"),
                last_at: r.get("last_at"),
                actor: r.get("actor"),
                action: r.get("action"),
                subject: r.get("subject"),
                detail: r.get("detail"),
            })
            .collect())
    }

    /// Users whose balance differs from the sum of their ledger (always empty; checked by
    /// tests and the operator's audit endpoint).
    pub async fn unbalanced_users(&self) -> StoreResult<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT u.id, u.balance, COALESCE(SUM(l.amount), 0) AS total FROM users u \
             LEFT JOIN ledger l ON l.user_id = u.id GROUP BY u.id HAVING u.balance != total",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("id"), r.get("balance"), r.get("total")))
            .collect())
    }

    /// An operator's adjustment, with its reason, written to the ledger and the audit log.
    pub async fn adjust_balance(
        &self,
        admin: &str,
        user_id: &str,
        amount: i64,
        reason: &str,
    ) -> StoreResult<Adjusted> {
        let mut tx = self.begin().await?;
        let Some(balance) = balance_in(&mut tx, user_id).await? else {
            return Ok(Adjusted::NoSuchUser);
        };
        let entry = Entry {
            user_id: user_id.to_string(),
            kind: EntryKind::AdminAdjustment,
            amount,
            reference: format!("user:{user_id}"),
            idempotency_key: format!("adjust:{}", yun_core::new_id()),
            note: reason.to_string(),
        };
        let Some(after) = post(&mut tx, user_id, 0, &[entry]).await? else {
            return Ok(Adjusted::WouldGoNegative(balance));
        };
        audit(
            &mut tx,
            admin,
            "adjust_balance",
            &format!("user:{user_id}"),
            &format!("{amount:+} credits: {reason}"),
        )
        .await?;
        tx.commit().await?;
        Ok(Adjusted::Done(after))
    }
}
