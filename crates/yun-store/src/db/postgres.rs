//! PostgreSQL through sqlx. Statements arrive in the store's dialect (`?` and `?N`
//! placeholders) and go out as `$N`. Every write transaction first takes one transaction-level
//! advisory lock, so writes are serialised as on SQLite's single writer (and, with several
//! masters on one database, across all of them): the store's checks (a user's container count,
//! a node's free memory) then read what no concurrent write can change before the commit.

use super::{Cell, DbError, DbResult, Row, Tx, Value};
use crate::{timing::StoreTimings, StoreResult};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Arguments, Column, PgConnection, PgPool, Row as _, TypeInfo, ValueRef};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The advisory lock every write transaction holds (an arbitrary key, the same everywhere).
const WRITER_LOCK: i64 = 0x79756e; // "yun"

#[derive(Clone)]
pub(crate) struct Postgres {
    pool: PgPool,
}

impl Postgres {
    pub(crate) async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("yun-master");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            // A request waits this long for a connection before it fails (503), never forever.
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        // sqlx's migrator holds a session advisory lock while it runs: two masters starting
        // together migrate one after the other, and the second finds nothing left to do.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    pub(crate) fn connections(&self) -> [(&'static str, u32, u32); 2] {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        let busy = self.pool.size().saturating_sub(idle);
        [("read", busy, idle), ("write", 0, 0)]
    }

    pub(crate) async fn write<R>(
        &self,
        timings: &Arc<StoreTimings>,
        f: impl AsyncFnOnce(&mut Tx<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let queued = std::time::Instant::now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITER_LOCK)
            .execute(&mut *tx)
            .await?;
        let mut held = timings.held(queued);
        let out = f(&mut Tx::Postgres(&mut tx)).await?;
        // Dropped without a commit (an error above), sqlx rolls the transaction back.
        tx.commit().await?;
        held.committed();
        Ok(out)
    }

    pub(crate) async fn read<R>(
        &self,
        f: impl AsyncFnOnce(&mut Tx<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let mut conn = self.pool.acquire().await?;
        f(&mut Tx::Postgres(&mut conn)).await
    }
}

/// The store's dialect to PostgreSQL's: `?N` becomes `$N`, and each bare `?` the next
/// number. Quoted text and identifiers are left alone.
pub(super) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), _) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    next += 1;
                    out.push_str(&next.to_string());
                } else {
                    out.push_str(&digits);
                }
            }
            (None, _) => out.push(c),
        }
    }
    out
}

fn arguments(args: &[Value<'_>]) -> DbResult<PgArguments> {
    let mut out = PgArguments::default();
    for a in args {
        let added = match *a {
            Value::Int(v) => out.add(v),
            Value::Real(v) => out.add(v),
            Value::Text(v) => out.add(v),
            Value::Flag(v) => out.add(v),
        };
        added.map_err(DbError::Other)?;
    }
    Ok(out)
}

fn failed(e: sqlx::Error) -> DbError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Unique(format!(
            "{}: {}",
            db.constraint().unwrap_or_default(),
            db.message()
        )),
        _ => DbError::Other(Box::new(e)),
    }
}

pub(super) async fn execute(c: &mut PgConnection, sql: &str, args: &[Value<'_>]) -> DbResult<u64> {
    let sql = numbered(sql);
    let done = sqlx::query_with(&sql, arguments(args)?)
        .execute(c)
        .await
        .map_err(failed)?;
    Ok(done.rows_affected())
}

pub(super) async fn rows(
    c: &mut PgConnection,
    sql: &str,
    args: &[Value<'_>],
) -> DbResult<Vec<Row>> {
    let sql = numbered(sql);
    let found = sqlx::query_with(&sql, arguments(args)?)
        .fetch_all(c)
        .await
        .map_err(failed)?;
    let Some(first) = found.first() else {
        return Ok(Vec::new());
    };
    let names = names_of(first);
    found.iter().map(|r| row_of(r, &names)).collect()
}

pub(super) async fn row(
    c: &mut PgConnection,
    sql: &str,
    args: &[Value<'_>],
) -> DbResult<Option<Row>> {
    let sql = numbered(sql);
    let found = sqlx::query_with(&sql, arguments(args)?)
        .fetch_optional(c)
        .await
        .map_err(failed)?;
    let Some(r) = found else {
        return Ok(None);
    };
    row_of(&r, &names_of(&r)).map(Some)
}

/// The columns' names of a statement's rows, shared by all of them.
fn names_of(r: &PgRow) -> Arc<[String]> {
    r.columns().iter().map(|c| c.name().to_string()).collect()
}

fn row_of(r: &PgRow, names: &Arc<[String]>) -> DbResult<Row> {
    let decode = |e: sqlx::Error| DbError::Other(Box::new(e));
    let mut cells = Vec::with_capacity(names.len());
    for i in 0..names.len() {
        let raw = r.try_get_raw(i).map_err(decode)?;
        if raw.is_null() {
            cells.push(Cell::Null);
            continue;
        }
        let kind = raw.type_info().name().to_string();
        cells.push(match kind.as_str() {
            "INT8" => Cell::Int(r.try_get::<i64, _>(i).map_err(decode)?),
            "INT4" => Cell::Int(r.try_get::<i32, _>(i).map_err(decode)?.into()),
            "INT2" => Cell::Int(r.try_get::<i16, _>(i).map_err(decode)?.into()),
            "BOOL" => Cell::Int(r.try_get::<bool, _>(i).map_err(decode)?.into()),
            "FLOAT8" => Cell::Real(r.try_get::<f64, _>(i).map_err(decode)?),
            "FLOAT4" => Cell::Real(r.try_get::<f32, _>(i).map_err(decode)?.into()),
            _ => Cell::Text(r.try_get::<String, _>(i).map_err(decode)?),
        });
    }
    Ok(Row {
        names: names.clone(),
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ?"),
            "SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2"
        );
        assert_eq!(
            numbered("UPDATE t SET a = ?2 WHERE b = ?1 OR ?1 IS NULL"),
            "UPDATE t SET a = $2 WHERE b = $1 OR $1 IS NULL"
        );
        assert_eq!(numbered("SELECT \"?\" FROM t"), "SELECT \"?\" FROM t");
    }
}
