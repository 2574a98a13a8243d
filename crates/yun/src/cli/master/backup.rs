//! `yun master backup --to FILE`: a consistent copy of a running master's SQLite store, with
//! the fleet's CA beside it, so that restoring is starting a master on the copy.

use super::{FileConfig, TrustArgs};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct BackupArgs {
    /// The master's store (sqlite://PATH; the master may be running).
    #[arg(long, env = "YUN_DATABASE")]
    database: Option<String>,
    #[command(flatten)]
    trust: TrustArgs,
    /// The copy to make, a file that must not exist yet. The CA's ca.crt and ca.key are
    /// copied into the same directory (the key readable by its owner alone).
    #[arg(long)]
    to: PathBuf,
}

pub(super) async fn run(args: BackupArgs, file: FileConfig) -> anyhow::Result<()> {
    let database = super::database_url(args.database, &file)?;
    anyhow::ensure!(
        database.starts_with("sqlite://"),
        "yun master backup copies a SQLite store; back up PostgreSQL with its own tools \
         (pg_dump, or continuous archiving for point-in-time recovery; see README's Backups)"
    );
    anyhow::ensure!(
        !args.to.exists(),
        "{} already exists: a backup never overwrites a file; name a new one",
        args.to.display()
    );
    let dir = args
        .to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let tls = args.trust.fleet_tls(&database, &file)?;
    let ca = [
        (tls.ca_cert.clone(), dir.join("ca.crt"), 0o644),
        (tls.ca_key.clone(), dir.join("ca.key"), 0o600),
    ];
    // Checked before the copy is made, so a refused backup leaves nothing behind.
    for (from, to, _) in &ca {
        anyhow::ensure!(
            from.exists(),
            "the fleet's CA file {} is missing: a backup without it cannot be restored so that \
             workers trust it (give --ca-cert and --ca-key where the master's are)",
            from.display()
        );
        if to.exists() && !same_file(from, to)? {
            anyhow::ensure!(
                std::fs::read(from)? == std::fs::read(to)?,
                "{} holds another CA: back up into a directory of its own",
                to.display()
            );
        }
    }
    let facts = yun_store::backup_sqlite(&database, &args.to)
        .await
        .with_context(|| format!("backing up {}", yun_store::redacted_url(&database)))?;
    for (from, to, mode) in &ca {
        if !to.exists() {
            copy_with_mode(from, to, *mode)?;
        }
    }
    println!(
        "backed up {} to {}: {} users, {} containers, {} ledger entries (every balance equals \
         its ledger), {} nodes, {} join tokens; the fleet's CA beside it in {} (keep ca.key secret)",
        yun_store::redacted_url(&database),
        args.to.display(),
        facts.users,
        facts.containers,
        facts.ledger_entries,
        facts.nodes,
        facts.join_tokens,
        dir.display(),
    );
    println!(
        "to restore: stop the master, then start it with --database sqlite://{}",
        args.to.display()
    );
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> anyhow::Result<bool> {
    Ok(std::fs::canonicalize(a)? == std::fs::canonicalize(b)?)
}

/// Copies `from` to the new file `to`, made with `mode` from the start (a key is never
/// readable by others, not even for a moment).
fn copy_with_mode(from: &Path, to: &Path, mode: u32) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(to)
        .with_context(|| format!("creating {}", to.display()))?;
    out.write_all(&bytes)?;
    out.sync_all()?;
    Ok(())
}
