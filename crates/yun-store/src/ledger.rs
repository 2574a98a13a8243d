//! The ledger: every change of a balance is an entry written in the same transaction as the
//! balance itself, so a balance always equals the sum of its entries. A debit is one
//! conditional update; no row changed means the balance could not pay.

use super::db::{args, Tx};
use super::{now_ms, Store, StoreError, StoreResult};

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
    tx: &mut Tx<'_>,
    user_id: &str,
    require: i64,
    entries: &[Entry],
) -> StoreResult<Option<i64>> {
    let total: i64 = entries.iter().map(|e| e.amount).sum();
    let floor = require.max(-total).max(0);
    let balance = tx
        .row(
            "UPDATE users SET balance = balance + ?1 WHERE id = ?2 AND balance >= ?3 RETURNING balance",
            args![total, user_id, floor],
        )
        .await?
        .map(|r| r.first_int());
    let Some(balance) = balance else {
        return Ok(None);
    };
    let now = now_ms();
    let mut running = balance - total;
    for e in entries {
        debug_assert_eq!(e.user_id, user_id, "one user's entries per post");
        running += e.amount;
        tx.execute(
            "INSERT INTO ledger (user_id, kind, amount, balance_after, reference, idempotency_key, note, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            args![
                user_id,
                e.kind.as_str(),
                e.amount,
                running,
                &e.reference,
                &e.idempotency_key,
                &e.note,
                now
            ],
        )
        .await
        .map_err(|err| err.unique(|_| super::Unique::LedgerKey))?;
    }
    Ok(Some(balance))
}

/// A user's balance as the transaction sees it; None when there is no such user.
pub(super) async fn balance_of(tx: &mut Tx<'_>, user_id: &str) -> StoreResult<Option<i64>> {
    Ok(tx
        .row("SELECT balance FROM users WHERE id = ?1", args![user_id])
        .await?
        .map(|r| r.first_int()))
}

/// Posts a single entry that must not fail for want of money (a credit or a refund).
pub(super) async fn credit(tx: &mut Tx<'_>, entry: Entry) -> StoreResult<i64> {
    debug_assert!(entry.amount >= 0);
    let user = entry.user_id.clone();
    post(tx, &user, 0, &[entry])
        .await?
        .ok_or_else(|| StoreError::Decode(format!("user {user} vanished while being credited")))
}

pub(super) async fn audit(
    tx: &mut Tx<'_>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> StoreResult<()> {
    insert_audit(tx, None, [actor, action, subject, detail]).await
}

/// An entry: `[actor, action, subject, detail]`, and the key that tallies its repeats.
async fn insert_audit(
    tx: &mut Tx<'_>,
    tally: Option<&str>,
    [actor, action, subject, detail]: [&str; 4],
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO audit_log (at, last_at, actor, action, subject, detail, tally) \
         VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6)",
        args![now_ms(), actor, action, subject, detail, tally],
    )
    .await?;
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

/// Users whose balance differs from the sum of their ledger: (id, balance, ledger's sum).
pub(super) const UNBALANCED: &str = "SELECT u.id, u.balance, \
     CAST(COALESCE(SUM(l.amount), 0) AS BIGINT) AS total FROM users u \
     LEFT JOIN ledger l ON l.user_id = u.id GROUP BY u.id, u.balance \
     HAVING u.balance != CAST(COALESCE(SUM(l.amount), 0) AS BIGINT)";

impl Store {
    pub async fn balance(&self, user_id: &str) -> StoreResult<Option<i64>> {
        self.read(async |db| balance_of(db, user_id).await).await
    }

    /// A user's entries, newest first, older than `before` (an entry id) when given.
    pub async fn ledger_page(
        &self,
        user_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<LedgerRow>> {
        let rows = self
            .read(async |db| {
                Ok(db
                    .rows(
                        "SELECT id, kind, amount, balance_after, reference, note, created_at FROM ledger \
                         WHERE user_id = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3",
                        args![user_id, before, limit],
                    )
                    .await?)
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| LedgerRow {
                id: r.int("id"),
                kind: r.text("kind"),
                amount: r.int("amount"),
                balance_after: r.int("balance_after"),
                reference: r.text("reference"),
                note: r.text("note"),
                created_at: r.int("created_at"),
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
        self.write(async |tx| {
            let counted = tx
                .execute(
                    "UPDATE audit_log SET repeats = repeats + 1, last_at = ?1 WHERE tally = ?2 AND at > ?3",
                    args![now, tally, now.saturating_sub(TALLY_WINDOW_MS)],
                )
                .await?;
            if counted == 0 {
                insert_audit(tx, Some(tally), [actor, action, subject, detail]).await?;
            }
            Ok(())
        })
        .await
    }

    /// Deletes audit entries last seen more than `retention_ms` ago; answers how many.
    pub async fn purge_audit(&self, retention_ms: i64) -> StoreResult<u64> {
        self.write(async |tx| {
            Ok(tx
                .execute(
                    "DELETE FROM audit_log WHERE last_at < ?1",
                    args![now_ms().saturating_sub(retention_ms)],
                )
                .await?)
        })
        .await
    }

    /// The audit log, newest first; `page.after` is an entry id.
    pub async fn audit_log(&self, page: &super::Page) -> StoreResult<Vec<AuditRow>> {
        let after: Option<i64> = page.after.as_deref().and_then(|a| a.parse().ok());
        let rows = self
            .read(async |db| {
                Ok(db
                    .rows(
                        "SELECT * FROM audit_log WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT ?2",
                        args![after, page.limit],
                    )
                    .await?)
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| AuditRow {
                id: r.int("id"),
                at: r.int("at"),
                repeats: r.int("repeats"),
                last_at: r.int("last_at"),
                actor: r.text("actor"),
                action: r.text("action"),
                subject: r.text("subject"),
                detail: r.text("detail"),
            })
            .collect())
    }

    /// Users whose balance differs from the sum of their ledger (always empty; checked by
    /// tests and the operator's audit endpoint).
    pub async fn unbalanced_users(&self) -> StoreResult<Vec<(String, i64, i64)>> {
        let rows = self
            .read(async |db| Ok(db.rows(UNBALANCED, &[]).await?))
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.text("id"), r.int("balance"), r.int("total")))
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
        self.write(async |tx| {
            let Some(balance) = balance_of(tx, user_id).await? else {
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
            let Some(after) = post(tx, user_id, 0, &[entry]).await? else {
                return Ok(Adjusted::WouldGoNegative(balance));
            };
            audit(
                tx,
                admin,
                "adjust_balance",
                &format!("user:{user_id}"),
                &format!("{amount:+} credits: {reason}"),
            )
            .await?;
            Ok(Adjusted::Done(after))
        })
        .await
    }
}
