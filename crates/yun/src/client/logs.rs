//! `yun logs`: a container's log, stdout to stdout and stderr to stderr, followed as it is
//! written with `-f`.

use super::fail::Failure;
use super::output::{self, Format};
use super::{resolve, Session};
use clap::Args;
use futures::StreamExt;
use std::io::Write;
use yun_api::containers::LogStream;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  yun logs web\n  yun logs -f --tail 100 web\n  yun logs -o jsonl web | jq .line"
)]
pub struct LogsArgs {
    /// The container: an id, a name or the beginning of an id.
    pub container: String,
    /// Keep following the log as it is written.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Start this many lines from the end (all when left out).
    #[arg(long, value_name = "N")]
    pub tail: Option<u32>,
    /// Put each line's time (RFC 3339) before it.
    #[arg(short = 't', long)]
    pub timestamps: bool,
}

pub async fn logs(s: &Session, args: LogsArgs) -> Result<u8, Failure> {
    let all = s.client().containers(false).await.map_err(|e| s.fail(e))?;
    let c = resolve::container(&all, &args.container)?;
    let tail = args.tail;
    follow_with(s, &c.id, tail, args.follow, args.timestamps).await?;
    Ok(0)
}

/// Follows the log of `id` from its start (or its last `tail` lines) until it ends.
pub async fn follow(
    s: &Session,
    id: &str,
    tail: Option<u32>,
    timestamps: bool,
) -> Result<(), Failure> {
    follow_with(s, id, tail, true, timestamps).await
}

async fn follow_with(
    s: &Session,
    id: &str,
    tail: Option<u32>,
    follow: bool,
    timestamps: bool,
) -> Result<(), Failure> {
    let lines = s
        .client()
        .log_lines(id, tail, follow)
        .await
        .map_err(|e| s.fail(e))?;
    let mut lines = Box::pin(lines);
    while let Some(line) = lines.next().await {
        let line = line.map_err(|e| s.fail(e))?;
        if s.format == Format::Jsonl || s.format == Format::Json {
            output::json_line(&line);
            continue;
        }
        let text = if timestamps {
            format!("{} {}\n", line.ts, line.line)
        } else {
            format!("{}\n", line.line)
        };
        // Each line flushed as it comes: a followed log is read by people and pipes alike.
        let written = match line.stream {
            LogStream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            LogStream::Stderr => {
                let mut err = std::io::stderr().lock();
                err.write_all(text.as_bytes()).and_then(|()| err.flush())
            }
        };
        if written.is_err() {
            // The reader went away (a closed pipe): nothing more to show.
            return Ok(());
        }
    }
    Ok(())
}
