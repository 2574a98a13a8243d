//! Empty PostgreSQL databases for tests and benchmarks: each gets its own, so they run side by
//! side on one server and never see each other's rows.

use super::{StoreError, StoreResult};
use sqlx::Connection;

/// The environment variable that names the test server (`scripts/test` starts one and sets
/// it): a URL of any database on it, whose user may create databases.
pub const TEST_SERVER: &str = "YUN_TEST_POSTGRES";

/// Makes a new empty database on the server `server_url` reaches and answers its URL.
pub async fn new_database(server_url: &str) -> StoreResult<String> {
    let name = format!("yun_test_{}", yun_core::new_id());
    let mut admin = sqlx::PgConnection::connect(server_url).await?;
    // A name made here of [a-z0-9_] only: nothing a caller gave is spliced in.
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    with_database(server_url, &name)
}

/// The test server's URL from `TEST_SERVER`; a test that needs PostgreSQL and finds none says
/// so loudly rather than pass without it.
pub fn test_server() -> String {
    std::env::var(TEST_SERVER).unwrap_or_else(|_| {
        panic!(
            "this test runs on PostgreSQL: set {TEST_SERVER} to a server's URL \
             (scripts/test starts a throwaway cluster and sets it)"
        )
    })
}

/// `url` with its database replaced by `database`, its query (the socket, TLS) kept.
fn with_database(url: &str, database: &str) -> StoreResult<String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .ok_or_else(|| StoreError::UnsupportedUrl(super::redacted_url(url)))?;
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if !query.is_empty() {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_is_replaced_and_the_socket_kept() {
        assert_eq!(
            super::with_database("postgres://pg@localhost/postgres?host=/tmp/x", "t1").unwrap(),
            "postgres://pg@localhost/t1?host=/tmp/x"
        );
        assert_eq!(
            super::with_database("postgres://pg:pw@db:5432/app", "t2").unwrap(),
            "postgres://pg:pw@db:5432/t2"
        );
    }
}
