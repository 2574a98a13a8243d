//! `yun logs`: a container's log, stdout to stdout and stderr to stderr, followed as it is
//! written with `-f`.

use super::fail::Failure;
use super::output::Format;
use super::{resolve, Session};
use clap::Args;
use futures::StreamExt;
use std::io::{BufWriter, Stderr, Stdout, Write};
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
    // Lines are written in batches of those already here and flushed when none waits: a
    // followed line shows at once, and a long log goes out in large writes, not one a line.
    let mut batches = Box::pin(lines.ready_chunks(1024));
    let mut out = Output::default();
    while let Some(batch) = batches.next().await {
        for line in batch {
            let line = match line {
                Ok(line) => line,
                Err(e) => {
                    let _ = out.flush();
                    return Err(s.fail(e));
                }
            };
            let written = if s.format == Format::Jsonl || s.format == Format::Json {
                out.json(&line)
            } else if timestamps {
                out.text(line.stream, format_args!("{} {}\n", line.ts, line.line))
            } else {
                out.text(line.stream, format_args!("{}\n", line.line))
            };
            if written.is_err() {
                // The reader went away (a closed pipe): nothing more to show.
                return Ok(());
            }
        }
        if out.flush().is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// stdout and stderr, buffered; a line for the other stream flushes the first, so that the two
/// stay in order on a terminal.
struct Output {
    out: BufWriter<Stdout>,
    err: BufWriter<Stderr>,
    last: LogStream,
}

impl Default for Output {
    fn default() -> Self {
        Self {
            out: BufWriter::new(std::io::stdout()),
            err: BufWriter::new(std::io::stderr()),
            last: LogStream::Stdout,
        }
    }
}

impl Output {
    fn text(&mut self, stream: LogStream, text: std::fmt::Arguments) -> std::io::Result<()> {
        if stream != self.last {
            self.flush()?;
            self.last = stream;
        }
        match stream {
            LogStream::Stdout => self.out.write_fmt(text),
            LogStream::Stderr => self.err.write_fmt(text),
        }
    }

    fn json<T: serde::Serialize>(&mut self, value: &T) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.err.flush()
    }
}
