//! Which engine a test's master keeps its store on: a SQLite file in the test's directory, or
//! a new database of its own on the test server (`scripts/test` starts one).

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// A store for one test: its URL, with what lives beside it in `dir` (the CA's files).
    pub async fn database(self, dir: &Path) -> String {
        match self {
            Self::Sqlite => format!("sqlite://{}", dir.join("yun.db").display()),
            Self::Postgres => yun_store::scratch::new_database(&yun_store::scratch::test_server())
                .await
                .expect("a database of the test's own on the test server"),
        }
    }
}
