//! `yun`: one binary for the master, the workers and the one-command dev platform.

mod cli;
mod client;
mod logging;

use clap::Parser;

// The master allocates and frees many small buffers across threads; glibc's allocator spent a
// tenth of its CPU there under load and held on to freed memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.log_format == "json");
    std::process::ExitCode::from(cli::run(cli).await)
}
