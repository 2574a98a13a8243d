//! Who you are to which master: `login`, `logout`, `whoami`, `version`, `context`.

use super::connect::Target;
use super::contexts::{self, Context, Contexts};
use super::fail::Failure;
use super::output::{self, Format, Table};
use super::Session;
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use yun_api::accounts::Role;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  yun login\n  yun login --addr https://cloud.example.com -u alice\n  echo \"$PASSWORD\" | yun login -u alice --password-stdin"
)]
pub struct LoginArgs {
    /// Your username (asked for when left out).
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Read the password from standard input (for scripts) instead of asking for it.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Subcommand, Debug)]
pub enum ContextCommand {
    /// The masters you are logged in to; `*` marks the current one.
    Ls,
    /// Makes NAME (from `yun context ls`) the master commands talk to.
    Use {
        /// The context's name (the master's host and port).
        name: String,
    },
}

/// One line of standard input, after `prompt` when a person types it.
pub(super) fn read_line(prompt: &str) -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::error(format!("cannot read standard input: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// The username and password, from the flags, the terminal or standard input.
fn credentials(args: LoginArgs) -> Result<(String, String), Failure> {
    let username = match args.username {
        Some(u) => u,
        None => read_line("Username: ")?,
    };
    let password = if args.password_stdin {
        read_line("")?
    } else {
        rpassword::prompt_password("Password: ").map_err(|e| {
            Failure::error(format!(
                "cannot ask for the password ({e}); pipe it in with --password-stdin"
            ))
        })?
    };
    Ok((username, password))
}

/// Makes an account on the master, then logs in with it.
pub async fn signup(target: &Target, args: LoginArgs) -> Result<u8, Failure> {
    let saved = Contexts::load()?;
    let master = target.anonymous(&saved)?;
    target.check_secrets_may_go(&master.addr)?;
    let (username, password) = credentials(args)?;
    master
        .client
        .register(&username, &password)
        .await
        .map_err(|e| Failure::from_client(&master.addr, e))?;
    eprintln!("made the account {username} on {}", master.addr);
    log_in_as(target, saved, master, username, password).await
}

pub async fn login(target: &Target, args: LoginArgs) -> Result<u8, Failure> {
    let saved = Contexts::load()?;
    let master = target.anonymous(&saved)?;
    target.check_secrets_may_go(&master.addr)?;
    let (username, password) = credentials(args)?;
    log_in_as(target, saved, master, username, password).await
}

async fn log_in_as(
    target: &Target,
    mut saved: Contexts,
    master: super::connect::Master,
    username: String,
    password: String,
) -> Result<u8, Failure> {
    let device_key = Contexts::device_key(&master.addr, &username);
    let answer = master
        .client
        .login(
            &username,
            &password,
            saved.devices.get(&device_key).map(String::as_str),
        )
        .await
        .map_err(|e| Failure::from_client(&master.addr, e))?;
    let name = contexts::name_of(&master.addr);
    let cacert = target
        .cacert
        .clone()
        .or_else(|| saved.for_addr(&master.addr).and_then(|c| c.cacert.clone()));
    saved.contexts.insert(
        name.clone(),
        Context {
            addr: master.addr.clone(),
            username: answer.user.username.clone(),
            token: answer.token,
            cacert,
        },
    );
    saved.current = Some(name);
    saved.devices.insert(device_key, answer.device);
    saved.save()?;
    eprintln!("logged in to {} as {}", master.addr, answer.user.username);
    Ok(0)
}

pub async fn logout(target: &Target) -> Result<u8, Failure> {
    let mut saved = Contexts::load()?;
    let master = target.signed_in(&saved)?;
    // The server ends the session too; one that already ended is gone all the same.
    match master.client.logout().await {
        Ok(()) => {}
        Err(e) if e.code() == Some(yun_api::ErrorCode::Unauthorized) => {}
        Err(e) => return Err(Failure::from_client(&master.addr, e)),
    }
    let name = contexts::name_of(&master.addr);
    if saved.contexts.remove(&name).is_some() {
        if saved.current.as_deref() == Some(name.as_str()) {
            saved.current = None;
        }
        saved.save()?;
    }
    eprintln!("logged out of {}", master.addr);
    Ok(0)
}

pub async fn whoami(s: &Session) -> Result<u8, Failure> {
    let me = s.client().me().await.map_err(|e| s.fail(e))?;
    match s.format {
        Format::Table => {
            let role = match me.role {
                Role::Admin => "operator",
                Role::User => "renter",
            };
            println!("{} ({role}) at {}", me.username, s.addr());
        }
        Format::Json => output::json(&me),
        Format::Jsonl => output::json_line(&me),
    }
    Ok(0)
}

pub async fn version(target: &Target, format: Format) -> Result<u8, Failure> {
    let client_version = env!("CARGO_PKG_VERSION");
    let saved = Contexts::load()?;
    let master = target.anonymous(&saved)?;
    let server = master.client.health().await;
    let server_version = server.as_ref().ok().map(|h| h.version.clone());
    match format {
        Format::Table => {
            println!("client: {client_version}");
            if let Some(v) = &server_version {
                println!("server: {v} ({})", master.addr);
            }
        }
        _ => output::json(&serde_json::json!({
            "client": client_version,
            "server": server_version,
            "addr": master.addr,
        })),
    }
    match server {
        Ok(h) if h.version != client_version => {
            eprintln!(
                "yun: warning: this client is {client_version} and the master {}; some commands may not work as described",
                h.version
            );
            Ok(0)
        }
        Ok(_) => Ok(0),
        Err(e) => Err(Failure::from_client(&master.addr, e)),
    }
}

pub fn context(command: ContextCommand, format: Format) -> Result<u8, Failure> {
    let mut saved = Contexts::load()?;
    match command {
        ContextCommand::Ls => {
            let rows: Vec<serde_json::Value> = saved
                .contexts
                .iter()
                .map(|(name, c)| {
                    serde_json::json!({
                        "name": name,
                        "current": saved.current.as_deref() == Some(name.as_str()),
                        "addr": c.addr,
                        "username": c.username,
                    })
                })
                .collect();
            match format {
                Format::Table => {
                    let mut t = Table::new(&["NAME", "ADDRESS", "USER"]);
                    for (name, c) in &saved.contexts {
                        let mark = if saved.current.as_deref() == Some(name.as_str()) {
                            " *"
                        } else {
                            ""
                        };
                        t.row(vec![
                            format!("{name}{mark}"),
                            c.addr.clone(),
                            c.username.clone(),
                        ]);
                    }
                    t.print();
                }
                Format::Json => output::json(&rows),
                Format::Jsonl => rows.iter().for_each(output::json_line),
            }
            Ok(0)
        }
        ContextCommand::Use { name } => {
            if !saved.contexts.contains_key(&name) {
                let known: Vec<&str> = saved.contexts.keys().map(String::as_str).collect();
                return Err(Failure::error(format!(
                    "no context '{name}'; yours are: {}; yun login --addr URL adds one",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            saved.current = Some(name.clone());
            saved.save()?;
            eprintln!("now talking to {name}");
            Ok(0)
        }
    }
}
