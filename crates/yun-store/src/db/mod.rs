//! The one seam between the store's operations and a database engine.
//!
//! Operations are written once, against `Tx`: statements in SQL both engines read (`?` or
//! `?N` placeholders, which PostgreSQL is handed as `$N`), parameters as `Value`s, rows read
//! back as owned `Row`s by column name. No module but this one names a driver's types.
//!
//! On SQLite every statement runs directly on the connection's handle (rusqlite, built on
//! sqlx's libsqlite3-sys), so a transaction of many statements costs no thread hand-offs.

mod postgres;
mod sqlite;

use crate::{timing::StoreTimings, StoreError, StoreResult};

use std::sync::Arc;

/// A parameter. Nulls are typed, since PostgreSQL types every parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<&'a str>),
    Flag(Option<bool>),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Self::Int(Some(v.into()))
    }
}
impl From<u16> for Value<'_> {
    fn from(v: u16) -> Self {
        Self::Int(Some(v.into()))
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Self::Flag(Some(v))
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Self::Text(Some(v))
    }
}
impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Self::Text(Some(v))
    }
}
impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Self::Text(v)
    }
}
impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Self::Text(v.as_deref())
    }
}

/// Parameters for a statement: `args![a, b, c]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        &[$($crate::db::Value::from($v)),*][..]
    };
}
pub(crate) use args;

/// One value of a row as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A row, owned: its columns' names (shared by the rows of one statement) and values.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    names: Arc<[String]>,
    cells: Vec<Cell>,
}

impl Row {
    /// The columns' names, in the statement's order.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// A column's value as read.
    pub(crate) fn cell(&self, column: &str) -> &Cell {
        let i = self
            .names
            .iter()
            .position(|n| n == column)
            .unwrap_or_else(|| panic!("the statement reads no column {column:?}"));
        &self.cells[i]
    }

    /// An integer column; a flag reads as 0 or 1. Null reads as 0 (use `opt_int` where
    /// null means something).
    pub(crate) fn int(&self, column: &str) -> i64 {
        self.opt_int(column).unwrap_or(0)
    }

    pub(crate) fn opt_int(&self, column: &str) -> Option<i64> {
        match self.cell(column) {
            Cell::Int(v) => Some(*v),
            Cell::Real(v) => Some(*v as i64),
            _ => None,
        }
    }

    pub(crate) fn flag(&self, column: &str) -> bool {
        self.int(column) != 0
    }

    /// A text column; null reads as "" (use `opt_text` where null means something).
    pub(crate) fn text(&self, column: &str) -> String {
        self.opt_text(column).unwrap_or_default()
    }

    pub(crate) fn opt_text(&self, column: &str) -> Option<String> {
        match self.cell(column) {
            Cell::Text(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// The first column as an integer (a count, an id).
    pub(crate) fn first_int(&self) -> i64 {
        match self.cells.first() {
            Some(Cell::Int(v)) => *v,
            Some(Cell::Real(v)) => *v as i64,
            _ => 0,
        }
    }

    /// The first column as text.
    pub(crate) fn first_text(&self) -> Option<String> {
        match self.cells.first() {
            Some(Cell::Text(v)) => Some(v.clone()),
            _ => None,
        }
    }
}

/// What a statement ran into.
#[derive(Debug)]
pub(crate) enum DbError {
    /// A unique key was taken; the text names its columns or its constraint (for the caller
    /// to tell which of a table's keys it was).
    Unique(String),
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unique(what) => write!(f, "a unique key is taken: {what}"),
            Self::Other(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DbError {}

impl DbError {
    /// A taken unique key as the `Unique` it means (`which` reads the key's text); any other
    /// failure as it is.
    pub(crate) fn unique(self, which: impl FnOnce(&str) -> super::Unique) -> super::StoreError {
        match self {
            Self::Unique(what) => super::StoreError::Conflict(which(&what)),
            Self::Other(e) => super::StoreError::Database(e),
        }
    }
}

impl From<DbError> for super::StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unique(what) => Self::Database(what.into()),
            DbError::Other(e) => Self::Database(e),
        }
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// Whether `url` names a PostgreSQL database.
pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The engine behind the store, chosen by the URL it was opened with.
#[derive(Clone)]
pub(crate) enum Engine {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// Connections the store keeps to PostgreSQL (each master); PgBouncer or the server's
/// `max_connections` must allow this many per master.
pub(crate) const POSTGRES_CONNECTIONS: u32 = 16;

impl Engine {
    pub(crate) async fn open(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(sqlite::Sqlite::open(url).await?))
        } else if is_postgres(url) {
            Ok(Self::Postgres(
                postgres::Postgres::open(url, POSTGRES_CONNECTIONS).await?,
            ))
        } else {
            Err(StoreError::UnsupportedUrl(crate::redacted_url(url)))
        }
    }

    /// Runs `f` in one write transaction; nothing of it is kept if it fails.
    pub(crate) async fn write<R>(
        &self,
        timings: &Arc<StoreTimings>,
        f: impl AsyncFnOnce(&mut Tx<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        match self {
            Self::Sqlite(e) => e.write(timings, f).await,
            Self::Postgres(e) => e.write(timings, f).await,
        }
    }

    /// Runs `f`'s reads, each statement as of the latest commit.
    pub(crate) async fn read<R>(
        &self,
        f: impl AsyncFnOnce(&mut Tx<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        match self {
            Self::Sqlite(e) => e.read(f).await,
            Self::Postgres(e) => e.read(f).await,
        }
    }

    /// SQLite's write-ahead log starts over; nothing to do on PostgreSQL.
    pub(crate) async fn checkpoint(&self) -> StoreResult<()> {
        match self {
            Self::Sqlite(e) => e.checkpoint().await,
            Self::Postgres(_) => Ok(()),
        }
    }

    pub(crate) fn connections(&self) -> [(&'static str, u32, u32); 2] {
        match self {
            Self::Sqlite(e) => e.connections(),
            Self::Postgres(e) => e.connections(),
        }
    }
}

/// A connection inside a transaction (or, for reads, in autocommit).
pub(crate) enum Tx<'c> {
    Sqlite(&'c mut rusqlite::Connection),
    Postgres(&'c mut sqlx::PgConnection),
}

impl Tx<'_> {
    /// Runs a statement; answers how many rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, args: &[Value<'_>]) -> DbResult<u64> {
        match self {
            Self::Sqlite(c) => sqlite::execute(c, sql, args),
            Self::Postgres(c) => postgres::execute(c, sql, args).await,
        }
    }

    /// Every row a statement answers.
    pub(crate) async fn rows(&mut self, sql: &str, args: &[Value<'_>]) -> DbResult<Vec<Row>> {
        match self {
            Self::Sqlite(c) => sqlite::rows(c, sql, args),
            Self::Postgres(c) => postgres::rows(c, sql, args).await,
        }
    }

    /// The first row a statement answers, if any.
    pub(crate) async fn row(&mut self, sql: &str, args: &[Value<'_>]) -> DbResult<Option<Row>> {
        match self {
            Self::Sqlite(c) => sqlite::row(c, sql, args),
            Self::Postgres(c) => postgres::row(c, sql, args).await,
        }
    }

    /// The first column of the first row as an integer (0 when there is none): a count.
    pub(crate) async fn int(&mut self, sql: &str, args: &[Value<'_>]) -> DbResult<i64> {
        Ok(self
            .row(sql, args)
            .await?
            .map(|r| r.first_int())
            .unwrap_or(0))
    }
}
