//! `yun master migrate-store`: a stopped SQLite store copied into an empty PostgreSQL
//! database, in one transaction, checked before it commits.
//!
//! Rows are copied as they are, ids, idempotency keys and balances included; what triggers
//! keep (each node's reserved resources, the counts by state, the ledger's totals) is rebuilt
//! by the target's own triggers as the rows arrive, and the container events those triggers
//! add are replaced by the source's own. Identity counters are set past the largest id.

use super::db::{Cell, Row, Tx, Value};
use super::{ledger::UNBALANCED, Store, StoreError, StoreResult};
use sqlx::Connection;
use std::collections::HashMap;
use std::str::FromStr;

/// The tables a store holds, parents before the rows that name them. The tables triggers keep
/// (node_usage, container_state_counts, order_state_counts, ledger_totals) are not copied.
const TABLES: &[&str] = &[
    "cluster",
    "users",
    "nodes",
    "node_names",
    "node_certificates",
    "join_tokens",
    "images",
    "containers",
    "port_allocations",
    "ledger",
    "orders",
    "audit_log",
    "container_events",
    "sessions",
    "access_tokens",
    "known_devices",
];

/// Identity columns whose counters go past the largest id copied.
const IDENTITIES: &[(&str, &str)] = &[
    ("ledger", "id"),
    ("audit_log", "id"),
    ("container_events", "seq"),
];

/// Rows read from the source at a time.
const CHUNK: i64 = 1000;

/// What a move copied: rows per table, in `TABLES`' order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
}

/// Copies the SQLite store at `from` (no master may hold it) into the empty PostgreSQL
/// database at `to`. Either every row arrives and every count and balance checks out, or the
/// target is left as empty as it was.
pub async fn copy_sqlite_to_postgres(from: &str, to: &str) -> StoreResult<Copied> {
    if !from.starts_with("sqlite:") {
        return Err(StoreError::UnsupportedUrl(super::redacted_url(from)));
    }
    if !super::db::is_postgres(to) {
        return Err(StoreError::UnsupportedUrl(super::redacted_url(to)));
    }
    let _claim = super::claim_sqlite(from)?;
    let mut target = sqlx::PgConnection::connect(to).await?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut target)
    .await?;
    if tables > 0 && !holds_an_empty_store(&mut target).await? {
        return Err(StoreError::TargetNotEmpty(super::redacted_url(to)));
    }
    // Both schemas at this version's migrations (the source's brought up first, if older).
    Store::open(from).await?;
    Store::open(to).await?;
    let path = sqlx::sqlite::SqliteConnectOptions::from_str(from)?
        .get_filename()
        .to_path_buf();
    let mut source = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )?;
    let mut tx = target.begin().await?;
    let mut copied = Vec::new();
    for table in TABLES {
        let types = column_types(&mut tx, table).await?;
        if *table == "container_events" {
            // The containers just copied made events of their own; the source's are the record.
            sqlx::query("DELETE FROM container_events")
                .execute(&mut *tx)
                .await?;
        }
        let n = copy_table(&mut source, &mut tx, table, &types).await?;
        copied.push((table.to_string(), n));
    }
    for (table, column) in IDENTITIES {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
             COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        ))
        .execute(&mut *tx)
        .await?;
    }
    check(&mut source, &mut tx, &copied).await?;
    tx.commit().await?;
    Ok(Copied { tables: copied })
}

/// Whether the database holds a store with no rows (an earlier move that failed left only
/// the schema): it may be moved into again.
async fn holds_an_empty_store(db: &mut sqlx::PgConnection) -> StoreResult<bool> {
    let ours: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(&mut *db)
        .await?;
    if ours.is_none() {
        return Ok(false);
    }
    for table in TABLES {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {table})");
        if sqlx::query_scalar::<_, bool>(&sql)
            .fetch_one(&mut *db)
            .await?
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The target's columns of `table` and their types (`bigint`, `text`, `boolean`): SQLite keeps
/// flags as 0 and 1, and PostgreSQL types every parameter, nulls too.
async fn column_types(
    tx: &mut sqlx::PgConnection,
    table: &str,
) -> StoreResult<HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows.into_iter().collect())
}

async fn copy_table(
    source: &mut rusqlite::Connection,
    target: &mut sqlx::PgConnection,
    table: &str,
    types: &HashMap<String, String>,
) -> StoreResult<u64> {
    let read =
        format!("SELECT rowid AS yun_rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?");
    let mut after = i64::MIN;
    let mut copied = 0;
    // The statement and each column's type, made once per table from its first rows.
    let mut insert: Option<(String, Vec<(String, String)>)> = None;
    loop {
        let rows = Tx::Sqlite(source)
            .rows(&read, &[Value::from(after), Value::from(CHUNK)])
            .await?;
        let Some(last) = rows.last() else {
            return Ok(copied);
        };
        after = last.int("yun_rowid");
        if insert.is_none() {
            insert = Some(insert_statement(table, last, types)?);
        }
        let (sql, columns) = insert.as_ref().expect("made above");
        for row in &rows {
            let values: Vec<Value> = columns
                .iter()
                .map(|(c, kind)| match (row.cell(c), kind.as_str()) {
                    (Cell::Int(v), "boolean") => Value::Flag(Some(*v != 0)),
                    (Cell::Int(v), _) => Value::Int(Some(*v)),
                    (Cell::Real(v), _) => Value::Real(Some(*v)),
                    (Cell::Text(v), _) => Value::Text(Some(v)),
                    (Cell::Null, "boolean") => Value::Flag(None),
                    (Cell::Null, "bigint") => Value::Int(None),
                    (Cell::Null, _) => Value::Text(None),
                })
                .collect();
            Tx::Postgres(target).execute(sql, &values).await?;
            copied += 1;
        }
    }
}

/// The target's INSERT for `table`'s rows as `sample` has them, with each column's type there.
fn insert_statement(
    table: &str,
    sample: &Row,
    types: &HashMap<String, String>,
) -> StoreResult<(String, Vec<(String, String)>)> {
    let mut columns = Vec::new();
    for name in sample.names().iter().filter(|n| *n != "yun_rowid") {
        let kind = types.get(name).ok_or_else(|| {
            StoreError::CopyDiffers(format!("the target's {table} has no column {name}"))
        })?;
        columns.push((name.clone(), kind.clone()));
    }
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let marks = vec!["?"; columns.len()].join(", ");
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({marks})",
        names.join(", ")
    );
    Ok((sql, columns))
}

/// Every table holds as many rows as the source's, and every balance equals its ledger.
async fn check(
    source: &mut rusqlite::Connection,
    target: &mut sqlx::PgConnection,
    copied: &[(String, u64)],
) -> StoreResult<()> {
    for (table, n) in copied {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let had = Tx::Sqlite(source).int(&sql, &[]).await? as u64;
        let has = Tx::Postgres(target).int(&sql, &[]).await? as u64;
        if had != *n || has != *n {
            return Err(StoreError::CopyDiffers(format!(
                "{table}: {had} rows in the store, {n} copied, {has} in the target"
            )));
        }
    }
    let unbalanced = Tx::Postgres(target).rows(UNBALANCED, &[]).await?;
    if !unbalanced.is_empty() {
        return Err(StoreError::CopyDiffers(format!(
            "{} balance(s) differ from their ledger",
            unbalanced.len()
        )));
    }
    Ok(())
}
