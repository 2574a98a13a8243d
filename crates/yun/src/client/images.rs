//! Images and plans: `images`, `pull`, `rmi`, `plans`.

use super::fail::{self, Failure};
use super::output::{self, credits, word, Format, Table};
use super::Session;
use clap::Args;
use yun_api::images::{Image, Visibility};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  yun images\n  yun images -q")]
pub struct ImagesArgs {
    /// References only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

fn size(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.1} MiB")
    }
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
                    size(i.size_bytes),
                    ports.join(", "),
                    i.id.clone(),
                ]);
            }
            t.print();
        }
    }
    Ok(0)
}

pub async fn pull(s: &Session, reference: &str) -> Result<u8, Failure> {
    eprintln!("pulling {reference} …");
    let image = s.client().pull(reference).await.map_err(|e| s.fail(e))?;
    match s.format {
        Format::Table => println!("{} ({})", image.reference, size(image.size_bytes)),
        _ => output::json(&image),
    }
    Ok(0)
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
            let mut t = Table::new(&["PLAN", "CPU", "MEMORY", "PROCESSES", "PRICE AN HOUR"]);
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
