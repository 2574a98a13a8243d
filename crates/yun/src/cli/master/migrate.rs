//! `yun master migrate-store`: a stopped master's SQLite store copied into an empty
//! PostgreSQL database, checked before it commits; the master is then started on the copy.

use super::FileConfig;
use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub(super) struct MigrateArgs {
    /// The SQLite store to copy (sqlite://PATH); its master must be stopped.
    #[arg(long)]
    from: String,
    /// The empty PostgreSQL database to copy it into (postgres://…). Default: the URL in the
    /// file YUN_DATABASE_FILE names, so that its password stays out of the command line.
    #[arg(long)]
    to: Option<String>,
}

pub(super) async fn run(args: MigrateArgs, file: FileConfig) -> anyhow::Result<()> {
    let to = match args.to {
        Some(url) => url,
        None => {
            anyhow::ensure!(
                std::env::var_os("YUN_DATABASE_FILE").is_some(),
                "give the target with --to postgres://… or in the file YUN_DATABASE_FILE names"
            );
            super::database_url(None, &file)?
        }
    };
    let copied = yun_store::copy_sqlite_to_postgres(&args.from, &to)
        .await
        .with_context(|| {
            format!(
                "moving {} to {}",
                yun_store::redacted_url(&args.from),
                yun_store::redacted_url(&to)
            )
        })?;
    let rows: u64 = copied.tables.iter().map(|(_, n)| n).sum();
    println!(
        "copied {} into {}: {rows} rows, every table's count and every balance checked",
        yun_store::redacted_url(&args.from),
        yun_store::redacted_url(&to)
    );
    for (table, n) in &copied.tables {
        println!("  {table:<18} {n}");
    }
    println!(
        "next: start the master with --database on the new store and the CA's files \
         (--ca-cert, --ca-key: the ca.crt and ca.key beside the SQLite file); keep the SQLite \
         file until it runs"
    );
    Ok(())
}
