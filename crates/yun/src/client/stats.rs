//! `yun stats`: containers' CPU (of their plan's), memory, network, disk and processes, a table
//! redrawn in place once a second on a terminal (each refresh written as one buffer), a sample
//! a line with `-o jsonl`, or once with `--no-stream`.

use super::fail::Failure;
use super::output::{self, bytes, Format, Table};
use super::{resolve, Session};
use clap::Args;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;
use yun_api::containers::{Container, ContainerState};
use yun_api::live::{StatsFrame, StatsMessage};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  yun stats\n  yun stats --no-stream web db\n  yun stats -o jsonl web"
)]
pub struct StatsArgs {
    /// Containers (ids, names or beginnings of ids); every running one when left out.
    pub containers: Vec<String>,
    /// One table, then exit.
    #[arg(long)]
    pub no_stream: bool,
}

/// The table of the latest sample of each container.
pub fn table(shown: &[Container], latest: &BTreeMap<String, StatsFrame>) -> Table {
    let mut t = Table::new(&[
        "ID",
        "NAME",
        "CPU % (PLAN)",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ]);
    for c in shown {
        let row = match latest.get(&c.id) {
            Some(f) => vec![
                c.id.clone(),
                c.name.clone(),
                format!("{:.2}%", f.cpu_limit_percent),
                format!(
                    "{} / {}",
                    bytes(f.memory_bytes),
                    bytes(f.memory_limit_bytes)
                ),
                if f.memory_limit_bytes > 0 {
                    format!(
                        "{:.2}%",
                        f.memory_bytes as f64 * 100.0 / f.memory_limit_bytes as f64
                    )
                } else {
                    "-".into()
                },
                format!("{} / {}", bytes(f.net_rx_bytes), bytes(f.net_tx_bytes)),
                format!("{} / {}", bytes(f.blk_read_bytes), bytes(f.blk_write_bytes)),
                f.pids.to_string(),
            ],
            None => vec![
                c.id.clone(),
                c.name.clone(),
                "--".into(),
                "--".into(),
                "--".into(),
                "--".into(),
                "--".into(),
                "--".into(),
            ],
        };
        t.row(row);
    }
    t
}

pub async fn stats(s: &Session, args: StatsArgs) -> Result<u8, Failure> {
    let all = s.client().containers(false).await.map_err(|e| s.fail(e))?;
    let shown: Vec<Container> = if args.containers.is_empty() {
        all.iter()
            .filter(|c| c.state == ContainerState::Running)
            .cloned()
            .collect()
    } else {
        args.containers
            .iter()
            .map(|t| resolve::container(&all, t).cloned())
            .collect::<Result<_, _>>()?
    };
    let mut feeds = Vec::new();
    for c in &shown {
        let id = c.id.clone();
        let feed = s.client().stats(&c.id).await.map_err(|e| s.fail(e))?;
        feeds.push(feed.map(move |m| (id.clone(), m)).boxed());
    }
    let mut samples = futures::stream::select_all(feeds);
    let mut latest: BTreeMap<String, StatsFrame> = BTreeMap::new();
    let live = output::live(&std::io::stdout()) && s.format == Format::Table && !args.no_stream;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    if live {
        // The cursor hides while the table redraws, and shows again however this ends.
        print!("\x1b[?25l");
    }
    // One listener for the whole run: a Ctrl-C between two turns of the loop is not lost.
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    let ended = loop {
        tokio::select! {
            sample = samples.next() => match sample {
                Some((id, Ok(StatsMessage::Stats(frame)))) => {
                    if s.format == Format::Jsonl {
                        output::json_line(&serde_json::json!({ "id": id, "stats": frame }));
                    }
                    latest.insert(id, frame);
                    if args.no_stream && latest.len() == shown.len() {
                        break Ok(());
                    }
                }
                Some((_, Ok(StatsMessage::State { .. }))) => {}
                Some((_, Err(e))) => break Err(s.fail(e)),
                // Every watched container went away.
                None => break Ok(()),
            },
            _ = tick.tick(), if s.format == Format::Table && !args.no_stream => {
                let frame = if live {
                    // Home, each line over the last one's, then the rest of the screen cleared.
                    let width = output::width();
                    let mut frame = String::from("\x1b[H");
                    for line in table(&shown, &latest).render(width).lines() {
                        frame.push_str(line);
                        frame.push_str("\x1b[K\n");
                    }
                    frame.push_str("\x1b[J");
                    frame
                } else {
                    format!("{}\n", table(&shown, &latest).render(None))
                };
                let mut out = std::io::stdout().lock();
                if out.write_all(frame.as_bytes()).and_then(|()| out.flush()).is_err() {
                    break Ok(());
                }
            }
            _ = tokio::time::sleep_until(deadline), if args.no_stream => break Ok(()),
            _ = &mut interrupted => break Ok(()),
        }
    };
    if live {
        print!("\x1b[?25h");
        let _ = std::io::stdout().flush();
    }
    ended?;
    if args.no_stream {
        match s.format {
            Format::Json => output::json(&latest),
            Format::Jsonl => {}
            Format::Table => table(&shown, &latest).print(),
        }
    }
    Ok(0)
}
