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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,h2=warn,tower=warn,hyper=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_format == "json" {
        // One JSON object a line, with the request's span (its id) on each.
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.init();
    }
    std::process::ExitCode::from(cli::run(cli).await)
}
