//! Images and plans: `images`, `pull`, `rmi`, `plans`.

use super::fail::{self, Failure};
use super::output::{self, bytes, credits, word, Format, Table};
use super::Session;
use clap::Args;
use futures::StreamExt;
use std::io::Write;
use yun_api::images::{Image, PullEvent, Visibility};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  yun images\n  yun images -q")]
pub struct ImagesArgs {
    /// References only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

pub async fn images(s: &Session, args: ImagesArgs) -> Result<u8, Failure> {
    let list = s.client().images().await.map_err(|e| s.fail(e))?;
    if args.quiet {
        list.iter().for_each(|i| println!("{}", i.reference));
        return Ok(0);
    }
    match s.format {
        Format::Json => output::json(&list),
        Format::Jsonl => list.iter().for_each(output::json_line),
        Format::Table => {
            let mut t = Table::new(&["REFERENCE", "WHOSE", "SIZE", "PORTS", "ID"]);
            for i in &list {
                let ports: Vec<String> = i
                    .exposed_ports
                    .iter()
                    .map(|p| format!("{}/{}", p.container_port, word(&p.protocol)))
                    .collect();
                t.row(vec![
                    i.reference.clone(),
                    match i.visibility {
                        Visibility::Public => "catalog".into(),
                        Visibility::Private => "mine".into(),
                    },
                    bytes(i.size_bytes),
                    ports.join(", "),
                    i.id.clone(),
                ]);
            }
            t.print();
        }
    }
    Ok(0)
}

/// One layer's line: its id, the engine's word for where it is, and a bar when sizes are known.
fn layer_line(layer: &str, status: &str, current: u64, total: u64) -> String {
    const WIDTH: usize = 30;
    if total == 0 {
        return format!("{layer}: {status}");
    }
    let done = ((current.min(total) as f64 / total as f64) * WIDTH as f64) as usize;
    let bar: String = "=".repeat(done) + &" ".repeat(WIDTH - done);
    format!(
        "{layer}: {status:<12} [{bar}] {} / {}",
        bytes(current),
        bytes(total)
    )
}

pub async fn pull(s: &Session, reference: &str) -> Result<u8, Failure> {
    let events = s
        .client()
        .pull_progress(reference)
        .await
        .map_err(|e| s.fail(e))?;
    let mut events = Box::pin(events);
    let live = output::live(&std::io::stderr());
    // Layers in the order they were first seen, each with its latest line.
    let mut layers: Vec<(String, String)> = Vec::new();
    let mut drawn = 0;
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| s.fail(e))?;
        if s.format == Format::Jsonl {
            output::json_line(&event);
        }
        match event {
            PullEvent::Progress { layer, .. } if layer.is_empty() => {}
            PullEvent::Progress {
                status,
                layer,
                current,
                total,
            } => {
                let line = layer_line(&layer, &status, current, total);
                match layers.iter_mut().find(|(l, _)| *l == layer) {
                    Some((_, old)) if *old == line => continue,
                    Some((_, old)) => *old = line.clone(),
                    None => layers.push((layer.clone(), line.clone())),
                }
                if s.format != Format::Table {
                    continue;
                }
                if live {
                    // Progress goes to stderr (stdout is for data): up over the block, then
                    // every layer's line again, in one write.
                    let mut frame = if drawn > 0 {
                        format!("\x1b[{drawn}A")
                    } else {
                        String::new()
                    };
                    for (_, l) in &layers {
                        frame.push_str(&format!("\r{l}\x1b[K\n"));
                    }
                    drawn = layers.len();
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(frame.as_bytes()).and_then(|()| err.flush());
                } else if status != "Downloading" && status != "Extracting" {
                    eprintln!("{line}");
                }
            }
            PullEvent::Done { image } => {
                match s.format {
                    Format::Table => println!("{} ({})", image.reference, bytes(image.size_bytes)),
                    Format::Json => output::json(&image),
                    Format::Jsonl => {}
                }
                return Ok(0);
            }
            PullEvent::Error { error } => {
                return Err(Failure {
                    code: error.code.exit_class().code(),
                    message: error.message,
                    refusal: Some(error.code),
                });
            }
        }
    }
    Err(Failure::unusable(
        "the pull's progress broke off before it ended; yun images shows whether it arrived",
    ))
}

/// Your own image named by its id or reference.
fn own<'a>(list: &'a [Image], typed: &str) -> Result<&'a Image, Failure> {
    list.iter()
        .filter(|i| i.visibility == Visibility::Private)
        .find(|i| i.id == typed || i.reference == typed)
        .ok_or_else(|| {
            Failure::error(format!(
                "no image of yours is '{typed}'; yun images lists them (catalog images are the operator's)"
            ))
        })
}

pub async fn rmi(s: &Session, typed: &[String]) -> Result<u8, Failure> {
    let list = s.client().images().await.map_err(|e| s.fail(e))?;
    Ok(fail::each(typed, async |t| {
        let image = own(&list, t)?;
        s.client()
            .remove_image(&image.id)
            .await
            .map_err(|e| s.fail(e))
    })
    .await)
}

pub async fn plans(s: &Session) -> Result<u8, Failure> {
    let list = s.client().plans().await.map_err(|e| s.fail(e))?;
    match s.format {
        Format::Json => output::json(&list),
        Format::Jsonl => list.plans.iter().for_each(output::json_line),
        Format::Table => {
            let mut t = Table::new(&[
                "PLAN",
                "CPU",
                "MEMORY",
                "DISK",
                "PROCESSES",
                "PRICE AN HOUR",
            ]);
            for p in &list.plans {
                let name = if p.default {
                    format!("{} (default)", p.name)
                } else {
                    p.name.clone()
                };
                t.row(vec![
                    name,
                    format!("{}", p.cpu),
                    format!("{} MiB", p.memory_mib),
                    format!("{} MiB", p.disk_mib),
                    p.pids.to_string(),
                    credits(p.price_per_hour),
                ]);
            }
            t.print();
            let pr = &list.pricing;
            eprintln!(
                "running needs a balance of {}; each container holds a deposit of {} (back on removal); time is billed per second, {} s in advance",
                credits(pr.min_balance_to_run),
                credits(pr.run_deposit),
                pr.metering_interval_seconds
            );
        }
    }
    Ok(0)
}
