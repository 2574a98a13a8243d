//! What you hold on a master: your login sessions (`yun session`), personal access tokens for
//! scripts and CI (`yun token`, used as `YUN_TOKEN`), and your password (`yun passwd`).

use super::fail::Failure;
use super::output::{self, Format, Table};
use super::Session;
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal};

#[derive(Subcommand, Debug)]
pub enum SessionCommand {
    /// Your live login sessions; `*` marks this one.
    Ls,
    /// End a session (its consoles and streams close at once).
    End {
        /// The session's id, from `yun session ls`.
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Make a token; it is printed once, alone on stdout.
    Create(TokenCreateArgs),
    /// Your tokens (never their secrets).
    Ls,
    /// Revoke a token; whatever uses it stops at once.
    Revoke {
        /// The token's id, from `yun token ls`.
        id: String,
    },
}

#[derive(Args, Debug)]
pub struct TokenCreateArgs {
    /// What it is for, such as ci-deploy.
    name: String,
    /// How long it stays good: 1 to 365 days (default 30).
    #[arg(long, default_value_t = 30)]
    days: u32,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  yun passwd\n  printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | yun passwd --password-stdin"
)]
pub struct PasswdArgs {
    /// Read the current password, then the new one, from two lines of standard input.
    #[arg(long)]
    password_stdin: bool,
}

pub async fn session(s: &Session, command: SessionCommand) -> Result<u8, Failure> {
    match command {
        SessionCommand::Ls => {
            let sessions = s.client().sessions().await.map_err(|e| s.fail(e))?;
            match s.format {
                Format::Json => output::json(&sessions),
                Format::Jsonl => sessions.iter().for_each(output::json_line),
                Format::Table => {
                    let mut t = Table::new(&["ID", "FROM", "CLIENT", "LAST USED", "ENDS"]);
                    for x in &sessions {
                        let mark = if x.current { " *" } else { "" };
                        t.row(vec![
                            format!("{}{mark}", x.id),
                            x.source.clone(),
                            x.user_agent.chars().take(40).collect(),
                            x.last_used_at.clone(),
                            x.expires_at.clone(),
                        ]);
                    }
                    t.print();
                }
            }
        }
        SessionCommand::End { id } => {
            s.client().end_session(&id).await.map_err(|e| s.fail(e))?;
            println!("{id}");
        }
    }
    Ok(0)
}

pub async fn token(s: &Session, command: TokenCommand) -> Result<u8, Failure> {
    let c = s.client();
    match command {
        TokenCommand::Create(args) => {
            let made = c
                .create_access_token(&args.name, args.days)
                .await
                .map_err(|e| s.fail(e))?;
            match s.format {
                Format::Table => {
                    // Alone on stdout, so `$(yun token create ci)` takes it.
                    println!("{}", made.token);
                    eprintln!(
                        "shown only this once; use it as YUN_TOKEN=<token> yun --addr {} … (good until {})",
                        s.addr(),
                        made.access_token.expires_at
                    );
                }
                _ => output::json(&made),
            }
        }
        TokenCommand::Ls => {
            let tokens = c.access_tokens().await.map_err(|e| s.fail(e))?;
            match s.format {
                Format::Json => output::json(&tokens),
                Format::Jsonl => tokens.iter().for_each(output::json_line),
                Format::Table => {
                    let mut t = Table::new(&["ID", "NAME", "LAST USED", "EXPIRES"]);
                    for k in &tokens {
                        t.row(vec![
                            k.id.clone(),
                            k.name.clone(),
                            k.last_used_at.clone().unwrap_or_else(|| "never".into()),
                            k.expires_at.clone(),
                        ]);
                    }
                    t.print();
                }
            }
        }
        TokenCommand::Revoke { id } => {
            c.revoke_access_token(&id).await.map_err(|e| s.fail(e))?;
            println!("{id}");
        }
    }
    Ok(0)
}

fn two_lines() -> Result<(String, String), Failure> {
    let mut lines = std::io::stdin().lock().lines();
    let mut next = |what: &str| {
        lines
            .next()
            .and_then(Result::ok)
            .map(|l| l.trim_end_matches('\r').to_string())
            .ok_or_else(|| {
                Failure::error(format!(
                    "--password-stdin reads the current password, then the new one, one per line; the {what} is missing"
                ))
            })
    };
    Ok((next("current password")?, next("new password")?))
}

/// A new password for someone else's account: one line of standard input, or asked twice on
/// the terminal.
pub fn new_password(from_stdin: bool) -> Result<String, Failure> {
    if from_stdin || !std::io::stdin().is_terminal() {
        return super::account::read_line("");
    }
    let password = ask("Password for the new account: ")?;
    if ask("Password again: ")? != password {
        return Err(Failure::error("the passwords differ; nothing was made"));
    }
    Ok(password)
}

fn ask(prompt: &str) -> Result<String, Failure> {
    rpassword::prompt_password(prompt).map_err(|e| {
        Failure::error(format!(
            "cannot ask for the password ({e}); pipe them in with --password-stdin"
        ))
    })
}

/// Changes your password; every other session ends.
pub async fn passwd(s: &Session, args: PasswdArgs) -> Result<u8, Failure> {
    let (current, new) = if args.password_stdin || !std::io::stdin().is_terminal() {
        two_lines()?
    } else {
        let current = ask("Current password: ")?;
        let new = ask("New password: ")?;
        if ask("New password again: ")? != new {
            return Err(Failure::error("the new passwords differ; nothing changed"));
        }
        (current, new)
    };
    let changed = s
        .client()
        .change_password(&current, &new)
        .await
        .map_err(|e| s.fail(e))?;
    eprintln!(
        "password changed; {} other session(s) ended",
        changed.sessions_ended
    );
    if changed.access_tokens_kept > 0 {
        eprintln!(
            "{} access token(s) still work: a token is not a session; see them with yun token ls and revoke one with yun token revoke ID",
            changed.access_tokens_kept
        );
    }
    Ok(0)
}
