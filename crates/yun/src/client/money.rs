//! A renter's money: `balance`, `ledger`, `topup`, `orders`.

use super::fail::Failure;
use super::output::{self, credits, word, Format, Table};
use super::Session;
use clap::Args;
use yun_api::billing::Order;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  yun ledger\n  yun ledger --limit 200 -o json")]
pub struct LedgerArgs {
    /// How many entries, newest first (1 to 200).
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

pub async fn balance(s: &Session) -> Result<u8, Failure> {
    let me = s.client().me().await.map_err(|e| s.fail(e))?;
    match s.format {
        Format::Table => println!("{}", credits(me.balance)),
        _ => output::json(&serde_json::json!({ "balance": me.balance })),
    }
    Ok(0)
}

pub async fn ledger(s: &Session, args: LedgerArgs) -> Result<u8, Failure> {
    let page = s
        .client()
        .ledger(None, Some(args.limit))
        .await
        .map_err(|e| s.fail(e))?;
    match s.format {
        Format::Json => output::json(&page),
        Format::Jsonl => page.entries.iter().for_each(output::json_line),
        Format::Table => {
            let mut t = Table::new(&["WHEN", "WHAT", "AMOUNT", "BALANCE", "NOTE"]);
            for e in &page.entries {
                t.row(vec![
                    e.created_at.clone(),
                    word(&e.kind),
                    format!("{:+}", e.amount),
                    e.balance_after.to_string(),
                    e.note.clone(),
                ]);
            }
            t.print();
            eprintln!("balance: {}", credits(page.balance));
        }
    }
    Ok(0)
}

pub async fn topup(s: &Session, amount: i64) -> Result<u8, Failure> {
    let made = s
        .client()
        .create_order(amount)
        .await
        .map_err(|e| s.fail(e))?;
    match s.format {
        Format::Table => {
            println!(
                "order {}: {} for {} {}",
                made.order.id,
                credits(made.order.credits),
                made.order.amount,
                made.order.currency
            );
            if let Some(url) = &made.payment.url {
                println!("pay at: {url}");
            }
            println!("{}", made.payment.instructions);
        }
        _ => output::json(&made),
    }
    Ok(0)
}

pub async fn orders(s: &Session) -> Result<u8, Failure> {
    let list = s
        .client()
        .orders(&yun_api::client::Page::first(200))
        .await
        .map_err(|e| s.fail(e))?;
    print_orders(s.format, &list.orders, false);
    Ok(0)
}

/// Orders as a table (with their owners for an operator), or JSON.
pub fn print_orders(format: Format, orders: &[Order], owners: bool) {
    match format {
        Format::Json => output::json(&orders),
        Format::Jsonl => orders.iter().for_each(output::json_line),
        Format::Table => {
            let header: &[&str] = if owners {
                &[
                    "ID", "USER", "CREDITS", "AMOUNT", "STATE", "PROVIDER", "CREATED",
                ]
            } else {
                &["ID", "CREDITS", "AMOUNT", "STATE", "PROVIDER", "CREATED"]
            };
            let mut t = Table::new(header);
            for o in orders {
                let mut row = vec![o.id.clone()];
                if owners {
                    row.push(o.user_id.clone().unwrap_or_default());
                }
                row.extend([
                    o.credits.to_string(),
                    format!("{} {}", o.amount, o.currency),
                    word(&o.state),
                    o.provider.clone(),
                    o.created_at.clone(),
                ]);
                t.row(row);
            }
            t.print();
        }
    }
}
