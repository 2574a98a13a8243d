//! The money side of containers: the deposit and first interval taken at placement, the next
//! interval bought before paid time ends, unused time given back when a container stops
//! running, and everything settled when it is removed. Each runs inside one write transaction
//! that reads the rows it changes, so no two of them can act on a stale view.

use super::db::{args, Row, Tx, Value};
use super::ledger::{balance_of, credit, post, Entry, EntryKind};
use super::{now_ms, Store, StoreResult};
use yun_core::admission::RunCharge;
use yun_core::pricing::Meter;
use yun_core::state::sql_list;
use yun_core::ContainerState;

/// The answer to "pay the next interval of this container".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepaid {
    /// Paid (possibly nothing was due).
    Paid(i64),
    /// The balance cannot pay `needed`.
    Short { balance: i64, needed: i64 },
}

/// What one meter tick did.
#[derive(Debug, Default)]
pub struct MeterTick {
    pub charged: i64,
    pub refunded: i64,
    /// Users whose balance could not pay their containers' next interval.
    pub short: Vec<String>,
}

/// The columns `meter_from` reads, with the owner and id.
const METER_COLUMNS: &str =
    "id, owner_id, price_per_hour, run_ms, run_since, paid_ms, charged, deposit";

fn meter_from(r: &Row) -> Meter {
    Meter {
        price_per_hour: r.int("price_per_hour"),
        run_ms: r.int("run_ms"),
        run_since: r.opt_int("run_since"),
        paid_ms: r.int("paid_ms"),
        charged: r.int("charged"),
    }
}

/// A container's meter with its id, owner and deposit.
struct Metered {
    id: String,
    owner: String,
    deposit: i64,
    meter: Meter,
}

async fn metered(db: &mut Tx<'_>, filter: &str, params: &[Value<'_>]) -> StoreResult<Vec<Metered>> {
    let sql = format!("SELECT {METER_COLUMNS} FROM containers WHERE {filter}");
    Ok(db
        .rows(&sql, params)
        .await?
        .iter()
        .map(|r| Metered {
            id: r.text("id"),
            owner: r.text("owner_id"),
            deposit: r.int("deposit"),
            meter: meter_from(r),
        })
        .collect())
}

fn usage_entry(user_id: &str, container_id: &str, amount: i64, paid_ms: i64) -> Entry {
    Entry {
        user_id: user_id.to_string(),
        kind: EntryKind::Usage,
        amount: -amount,
        reference: format!("container:{container_id}"),
        // Exactly-once comes from the transaction that also moves paid_ms; the key only has
        // to be unique. It starts with the time so that the meter's thousands of entries a
        // second append to the end of the key index instead of dirtying a random page each.
        idempotency_key: format!("usage:{:013}:{container_id}:{paid_ms}", now_ms()),
        note: format!("running time paid up to {} s", paid_ms / 1000),
    }
}

async fn set_paid(db: &mut Tx<'_>, id: &str, paid_ms: i64, charged: i64) -> StoreResult<()> {
    db.execute(
        "UPDATE containers SET paid_ms = ?1, charged = ?2 WHERE id = ?3",
        args![paid_ms, charged, id],
    )
    .await?;
    Ok(())
}

/// Closes a container's account with what it actually ran: unused paid time comes back; time
/// run past what was paid (only while the master was down) is charged as far as the balance
/// allows and the rest is forgiven, never owed.
async fn settle(
    db: &mut Tx<'_>,
    id: &str,
    owner: &str,
    meter: Meter,
    now: i64,
) -> StoreResult<i64> {
    let closed = Meter {
        run_ms: meter.used_ms(now),
        run_since: None,
        ..meter
    };
    let (owed, delta) = closed.settle();
    let reference = format!("container:{id}");
    let key = format!("settle:{id}:{}", yun_core::new_id());
    if delta < 0 {
        credit(
            db,
            Entry {
                user_id: owner.to_string(),
                kind: EntryKind::UsageRefund,
                amount: -delta,
                reference,
                idempotency_key: key,
                note: format!("unused running time after {} s", closed.run_ms / 1000),
            },
        )
        .await?;
    } else if delta > 0 {
        let balance = balance_of(db, owner).await?.unwrap_or(0);
        let take = delta.min(balance);
        if take > 0 {
            let entry = Entry {
                user_id: owner.to_string(),
                kind: EntryKind::Usage,
                amount: -take,
                reference,
                idempotency_key: key,
                note: format!(
                    "running time past what was paid, up to {} s",
                    closed.run_ms / 1000
                ),
            };
            post(db, owner, 0, &[entry]).await?;
        }
        if take < delta {
            tracing::warn!(
                container = id,
                forgiven = delta - take,
                "balance could not pay time run while unmetered"
            );
        }
    }
    set_paid(db, id, closed.run_ms, owed).await?;
    Ok(delta)
}

/// Takes a new run's deposit and first interval, if the balance is at least `require`.
/// False: it could not pay (nothing taken).
pub(super) async fn charge_run(
    db: &mut Tx<'_>,
    user_id: &str,
    container_id: &str,
    charge: RunCharge,
) -> StoreResult<bool> {
    let mut entries = Vec::with_capacity(2);
    if charge.deposit > 0 {
        entries.push(Entry {
            user_id: user_id.to_string(),
            kind: EntryKind::Deposit,
            amount: -charge.deposit,
            reference: format!("container:{container_id}"),
            idempotency_key: format!("deposit:{container_id}"),
            note: "refunded when the container is removed".into(),
        });
    }
    if charge.usage > 0 {
        let mut first = usage_entry(user_id, container_id, charge.usage, 0);
        first.idempotency_key = format!("usage:{container_id}:first");
        first.note = "first interval of running time, paid in advance".into();
        entries.push(first);
    }
    if entries.is_empty() {
        return Ok(true);
    }
    Ok(post(db, user_id, charge.require, &entries).await?.is_some())
}

impl Store {
    /// Pays a container's next interval before a renter starts it again.
    pub async fn prepay(&self, id: &str, interval_ms: i64) -> StoreResult<Prepaid> {
        self.write(async |db| {
            let Some(c) = metered(db, "id = ?1", args![id]).await?.pop() else {
                return Ok(Prepaid::Paid(0));
            };
            let (paid_ms, amount) = c.meter.extend(now_ms(), interval_ms);
            if amount > 0 {
                let entry = usage_entry(&c.owner, id, amount, paid_ms);
                if post(db, &c.owner, 0, &[entry]).await?.is_none() {
                    let balance = balance_of(db, &c.owner).await?.unwrap_or(0);
                    return Ok(Prepaid::Short {
                        balance,
                        needed: amount,
                    });
                }
            }
            set_paid(db, id, paid_ms, c.meter.charged + amount).await?;
            Ok(Prepaid::Paid(amount))
        })
        .await
    }

    /// One round of the meter: settles containers that stopped running and, for each user with
    /// a container whose paid time ends within `lead_ms`, buys the next interval of all that
    /// user's running containers in one ledger entry. Buying them together keeps them due
    /// together, so a renter's hundred containers cost one entry an interval, not a hundred
    /// (the entry that made the scale benchmark slow down as the fleet filled).
    pub async fn meter_tick(&self, lead_ms: i64, interval_ms: i64) -> StoreResult<MeterTick> {
        self.write(async |db| {
            let now = now_ms();
            let mut tick = MeterTick::default();
            // A container still being created has paid its first interval and not yet run.
            let stopped = metered(
                db,
                &format!(
                    "run_since IS NULL AND paid_ms != run_ms AND state != '{}'",
                    ContainerState::Creating
                ),
                &[],
            )
            .await?;
            for c in stopped {
                let delta = settle(db, &c.id, &c.owner, c.meter, now).await?;
                if delta < 0 {
                    tick.refunded -= delta;
                } else {
                    tick.charged += delta;
                }
            }
            let due_by = now + lead_ms;
            // Every running container of every user who has one due, in one read.
            let running = metered(
                db,
                "run_since IS NOT NULL AND owner_id IN (SELECT owner_id FROM containers \
                 WHERE run_since IS NOT NULL AND run_since + paid_ms - run_ms < ?1) \
                 ORDER BY owner_id",
                args![due_by],
            )
            .await?;
            for of_one in running.chunk_by(|a, b| a.owner == b.owner) {
                let owner = &of_one[0].owner;
                // All of them if the balance pays that; else the ones that are due, as before
                // there was alignment; else the user is short.
                let all: Vec<&Metered> = of_one.iter().collect();
                let due: Vec<&Metered> = of_one
                    .iter()
                    .filter(|c| c.meter.paid_until().is_some_and(|t| t < due_by))
                    .collect();
                let paid = match buy(db, owner, &all, now, interval_ms).await? {
                    Some(total) => Some(total),
                    None if due.len() < all.len() => buy(db, owner, &due, now, interval_ms).await?,
                    None => None,
                };
                match paid {
                    Some(total) => tick.charged += total,
                    None => tick.short.push(owner.clone()),
                }
            }
            Ok(tick)
        })
        .await
    }
}

/// Buys one interval beyond what each of `containers` (one owner's) has run by `now`, in one
/// ledger entry. None: the balance cannot pay it, and nothing changed.
async fn buy(
    db: &mut Tx<'_>,
    owner: &str,
    containers: &[&Metered],
    now: i64,
    interval_ms: i64,
) -> StoreResult<Option<i64>> {
    let bought: Vec<(&Metered, i64, i64)> = containers
        .iter()
        .map(|c| {
            let (paid_ms, amount) = c.meter.extend(now, interval_ms);
            (*c, paid_ms, amount)
        })
        .filter(|(c, paid_ms, _)| *paid_ms != c.meter.paid_ms)
        .collect();
    let total: i64 = bought.iter().map(|(_, _, amount)| amount).sum();
    if total > 0
        && post(db, owner, 0, &[purchase_entry(owner, &bought, total, now)])
            .await?
            .is_none()
    {
        return Ok(None);
    }
    for (c, paid_ms, amount) in bought {
        set_paid(db, &c.id, paid_ms, c.meter.charged + amount).await?;
    }
    Ok(Some(total))
}

/// The one entry of a user's purchase: about the container when there is one (a renter with one
/// container reads its cost in the ledger), about the user's running containers otherwise
/// (each container's own figure is its `charged`, stated again when it is removed).
fn purchase_entry(owner: &str, bought: &[(&Metered, i64, i64)], total: i64, now: i64) -> Entry {
    let paying: Vec<_> = bought.iter().filter(|(_, _, amount)| *amount > 0).collect();
    if let [(c, paid_ms, _)] = paying.as_slice() {
        return usage_entry(owner, &c.id, total, *paid_ms);
    }
    Entry {
        user_id: owner.to_string(),
        kind: EntryKind::Usage,
        amount: -total,
        reference: "containers".to_string(),
        // Unique, and starting with the time, as `usage_entry`'s keys do.
        idempotency_key: format!("usage:{now:013}:{}", yun_core::new_id()),
        note: format!(
            "the next interval of running time of {} containers",
            paying.len()
        ),
    }
}

/// Settles a container's money as it is forgotten: unused time and the deposit come back.
/// Answers the credits given back (the deposit and unused paid time).
pub(super) async fn close_account(db: &mut Tx<'_>, id: &str) -> StoreResult<i64> {
    let Some(c) = metered(db, "id = ?1", args![id]).await?.pop() else {
        return Ok(0);
    };
    let delta = settle(db, id, &c.owner, c.meter, now_ms()).await?;
    if c.deposit > 0 {
        credit(
            db,
            Entry {
                user_id: c.owner,
                kind: EntryKind::DepositRefund,
                amount: c.deposit,
                reference: format!("container:{id}"),
                idempotency_key: format!("deposit-refund:{id}"),
                note: format!(
                    "the container was removed; its running time cost {} in all",
                    c.meter.charged + delta
                ),
            },
        )
        .await?;
    }
    Ok(c.deposit.max(0) + (-delta).max(0))
}

impl Store {
    /// A user's containers that are running now (what a balance that ran out suspends).
    pub async fn running_containers_of(&self, owner: &str) -> StoreResult<Vec<String>> {
        let sql = format!(
            "SELECT id FROM containers WHERE owner_id = ? AND state IN ({})",
            sql_list(&ContainerState::BILLED)
        );
        self.read(async |db| {
            Ok(db
                .rows(&sql, args![owner])
                .await?
                .iter()
                .filter_map(|r| r.first_text())
                .collect())
        })
        .await
    }

    /// Records that the platform stopped a container, and why.
    pub async fn set_suspended(&self, id: &str, reason: &str) -> StoreResult<()> {
        self.write(async |tx| {
            tx.execute(
                "UPDATE containers SET state = 'suspended', desired_state = 'stopped', exit_code = NULL, \
                 status_reason = ?, updated_at = ? WHERE id = ?",
                args![reason, now_ms(), id],
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// Containers whose lifetime has ended and that are not already going.
    pub async fn expired_containers(&self) -> StoreResult<Vec<String>> {
        let sql = format!(
            "SELECT id FROM containers WHERE expires_at IS NOT NULL AND expires_at <= ? \
             AND state NOT IN ({})",
            sql_list(&ContainerState::HELD_BY_ITS_PATH)
        );
        self.read(async |db| {
            Ok(db
                .rows(&sql, args![now_ms()])
                .await?
                .iter()
                .filter_map(|r| r.first_text())
                .collect())
        })
        .await
    }
}
