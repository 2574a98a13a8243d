//! Subcommands, one file each. Every flag also reads an environment variable and a key of the
//! optional yun.toml; precedence is flag > env > file > default.

mod access;
mod billing;
mod demo;
mod dev;
mod file;
mod master;
mod worker;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "yun",
    version,
    about = "A multi-tenant container cloud: run the platform (dev, master, worker), or use one (run, ps, logs, …)",
    after_help = after_help()
)]
pub struct Cli {
    /// The server's settings file (yun dev, master and worker; the client never reads it).
    #[arg(long, global = true, env = "YUN_CONFIG")]
    config: Option<PathBuf>,
    /// How the server logs to stderr: text (readable, the default) or json (one object a
    /// line, for machines).
    #[arg(long, global = true, env = "YUN_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    #[command(flatten)]
    target: crate::client::Target,
    #[command(flatten)]
    output: crate::client::Output,
    #[command(subcommand)]
    command: Command,
}

fn after_help() -> String {
    format!(
        "Start here:\n  yun dev                 the whole platform on this machine\n  yun login               then: yun run -d IMAGE, yun ps, yun logs -f NAME\n\n{}",
        yun_api::exit::exit_table()
    )
}

#[derive(Subcommand)]
enum Command {
    /// Master, one in-process worker and SQLite: the whole platform on this machine.
    Dev(dev::DevArgs),
    /// The master: HTTP API for renters and operators, RPC for workers.
    Master(Box<master::MasterArgs>),
    /// A worker on this Docker host, registering with the master.
    Worker(worker::WorkerArgs),
    #[command(flatten)]
    Client(crate::client::ClientCommand),
    /// Print a completion script for a shell.
    #[command(
        after_help = "Examples:\n  yun completions bash > /etc/bash_completion.d/yun\n  yun completions fish > ~/.config/fish/completions/yun.fish"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// Runs the command; answers the process's exit status.
pub async fn run(cli: Cli) -> u8 {
    let server = match cli.command {
        Command::Client(c) => return crate::client::run(c, cli.target, cli.output).await,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "yun", &mut std::io::stdout());
            return 0;
        }
        server => server,
    };
    let done = async {
        let file = file::FileConfig::load(cli.config.as_deref())?;
        match server {
            Command::Dev(args) => dev::run(args, file).await,
            Command::Master(args) => master::run(*args, file).await,
            Command::Worker(args) => worker::run(args, file).await,
            Command::Client(_) | Command::Completions { .. } => unreachable!("handled above"),
        }
    };
    match done.await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// Parses `START-END`, e.g. `20000-29999`.
pub fn parse_port_range(s: &str) -> anyhow::Result<(u16, u16)> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| anyhow::anyhow!("port range '{s}' must look like 20000-29999"))?;
    let a: u16 = a
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("port range start '{a}' is not a port"))?;
    let b: u16 = b
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("port range end '{b}' is not a port"))?;
    anyhow::ensure!(a > 0 && a <= b, "port range {a}-{b} is empty");
    Ok((a, b))
}

/// Parses a duration like `500ms`, `5s`, `2m`, `2h`, `1d` (a bare number is seconds).
pub fn parse_duration(s: &str) -> anyhow::Result<std::time::Duration> {
    use std::time::Duration;
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| anyhow::anyhow!("'{s}' is not a duration like 500ms, 5s or 2m"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        "d" => Duration::from_secs(n * 86400),
        _ => anyhow::bail!("'{s}' is not a duration like 500ms, 5s, 2m, 2h or 1d"),
    })
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

/// Waits for a stopping server, but not forever: a followed log stream would hold a graceful
/// shutdown open as long as its client stays.
pub async fn drain(task: tokio::task::JoinHandle<()>) {
    if tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .is_err()
    {
        tracing::warn!("open streams did not end within 5 s; stopping anyway");
    }
}

#[cfg(test)]
mod tests {
    use super::parse_port_range;

    #[test]
    fn durations() {
        use super::parse_duration;
        use std::time::Duration;
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn tenant_subnet_sizes() {
        use super::file::FileConfig;
        use super::worker::{docker_options, TenantSubnets};
        let with = |prefix| {
            let subnets = TenantSubnets { pool: None, prefix };
            docker_options(
                None,
                subnets,
                false,
                yun_worker::runtime::docker::HostShield::Required,
                std::net::Ipv4Addr::new(127, 0, 0, 2).into(),
                &FileConfig::default(),
            )
        };
        assert_eq!(with(None).unwrap().tenant_prefix_len, 26);
        assert_eq!(with(Some(24)).unwrap().tenant_prefix_len, 24);
        let refused = with(Some(31)).unwrap_err().to_string();
        assert!(refused.contains("16 to 29"), "{refused}");
    }

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range("20000-29999").unwrap(), (20000, 29999));
        assert!(parse_port_range("3-1").is_err());
        assert!(parse_port_range("x").is_err());
        assert!(parse_port_range("0-10").is_err());
    }
}
