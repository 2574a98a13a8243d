//! `yun events`: your containers' state changes as they happen (an operator's `--everyone`
//! sees all), resumable with `--since`.

use super::fail::Failure;
use super::output::{self, word, Format};
use super::Session;
use clap::Args;
use futures::StreamExt;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  yun events\n  yun events -o jsonl --since 1200 | jq .state")]
pub struct EventsArgs {
    /// Start after this event's seq (the stored ones of the last hour come first).
    #[arg(long)]
    pub since: Option<i64>,
    /// Operators: every renter's containers.
    #[arg(long)]
    pub everyone: bool,
}

pub async fn events(s: &Session, args: EventsArgs) -> Result<u8, Failure> {
    let stream = s
        .client()
        .events(args.everyone, args.since)
        .await
        .map_err(|e| s.fail(e))?;
    let mut stream = Box::pin(stream);
    // One listener for the whole run: a Ctrl-C between two events is not lost.
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let event = tokio::select! {
            e = stream.next() => e,
            _ = &mut interrupted => return Ok(0),
        };
        let Some(event) = event else {
            return Err(Failure::unusable(
                "the event stream ended; is the master still running? (yun events --since resumes)",
            ));
        };
        let e = event.map_err(|e| s.fail(e))?;
        match s.format {
            Format::Table => {
                let exit = e
                    .exit_code
                    .map(|c| format!(" (exit {c})"))
                    .unwrap_or_default();
                let why = e
                    .status_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                println!(
                    "{} {} {} {}{exit}{why}  [{}]",
                    e.at,
                    e.name,
                    e.container_id,
                    word(&e.state),
                    e.seq
                );
            }
            _ => output::json_line(&e),
        }
    }
}
