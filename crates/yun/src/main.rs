//! `yun`: one binary for the master, the workers and the one-command dev platform.

mod cli;
mod client;

use clap::Parser;

// The master allocates and frees many small buffers across threads; glibc's allocator spent a
// tenth of its CPU there under load and held on to freed memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,h2=warn,tower=warn,hyper=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    std::process::ExitCode::from(cli::run(cli).await)
}
