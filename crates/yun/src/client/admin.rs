//! The operator's commands (`yun admin …`): nodes and join tokens, users, the public catalog,
//! manual payments.
//! A renter's session gets "no such route" for all of them, as the API answers.

use super::fail::Failure;
use super::output::{self, credits, word, Format, Table};
use super::Session;
use clap::Subcommand;
use yun_api::accounts::User;
use yun_api::admin::Node;
use yun_api::client::Page;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// The fleet: each node's state, allocation and containers.
    #[command(after_help = "Example:\n  yun admin nodes -o json")]
    Nodes,
    /// Cordon a node (no new containers go there), uncordon it, or forget it.
    #[command(
        subcommand,
        after_help = "Examples:\n  yun admin node cordon w1\n  yun admin node forget w1"
    )]
    Node(NodeCommand),
    /// Make a join token for new workers (shown once), list the tokens, or revoke one.
    #[command(
        after_help = "Examples:\n  yun admin join-token --ttl 1h --uses 1\n  yun admin join-token ls\n  yun admin join-token revoke 0jb4q7m2x4k9x2m0"
    )]
    JoinToken(JoinTokenArgs),
    /// Every account, with its balance.
    #[command(after_help = "Example:\n  yun admin users")]
    Users,
    /// Ban, unban or credit an account.
    #[command(
        subcommand,
        after_help = "Examples:\n  yun admin user ban mallory\n  yun admin user credit alice 500 \"refund for the outage\""
    )]
    User(UserCommand),
    /// Publish images in the public catalog, or take them out.
    #[command(
        subcommand,
        after_help = "Example:\n  yun admin images publish nginx:1.27"
    )]
    Images(CatalogCommand),
    /// Recharge orders (manual payments).
    #[command(
        subcommand,
        after_help = "Example:\n  yun admin orders paid 1m94d4vah5sn8mtc"
    )]
    Orders(OrdersCommand),
}

#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// No new containers are placed on NODE (its running ones stay).
    Cordon { node: String },
    /// NODE takes new containers again.
    Uncordon { node: String },
    /// Forget NODE, which must be down: every master refuses its certificates from now on, its
    /// name may join again with a new token, and its lost containers are removed with their
    /// owners refunded (deposit and unused time).
    Forget { node: String },
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct JoinTokenArgs {
    #[command(subcommand)]
    action: Option<JoinTokenCommand>,
    /// How long it can be used to join, such as 1h or 7d (default 24h, at most 365d).
    #[arg(long)]
    ttl: Option<String>,
    /// How many workers may join with it (default: any number until it expires).
    #[arg(long)]
    uses: Option<u32>,
}

#[derive(Subcommand, Debug)]
pub enum JoinTokenCommand {
    /// Every join token, newest first, with what is left of it (never a secret).
    Ls,
    /// No worker can join with the token any more (workers that joined stay).
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Open an account for USER (also when registration is closed); it gets the sign-up
    /// credits. The password is asked for twice, or read from standard input.
    Create {
        user: String,
        /// Read the password from standard input (one line) instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Ban USER: their sessions and open consoles end at once.
    Ban { user: String },
    /// Lift USER's ban.
    Unban { user: String },
    /// Add (or, negative, take) credits, with the reason kept in the ledger and the audit log.
    Credit {
        user: String,
        #[arg(allow_hyphen_values = true)]
        amount: i64,
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Add an image to the public catalog (pulled when the node does not have it).
    Publish { reference: String },
    /// Take an image out of the catalog (by id or reference).
    Rm { image: String },
}

#[derive(Subcommand, Debug)]
pub enum OrdersCommand {
    /// Every renter's orders.
    Ls,
    /// Mark a manual order paid: its credits arrive.
    Paid { order: String },
}

/// A node by name or id.
fn node<'a>(nodes: &'a [Node], typed: &str) -> Result<&'a Node, Failure> {
    nodes
        .iter()
        .find(|n| n.id == typed || n.name == typed)
        .ok_or_else(|| {
            Failure::error(format!(
                "no node is called '{typed}'; yun admin nodes lists them"
            ))
        })
}

/// Every account (all pages).
async fn all_users(s: &Session) -> Result<Vec<User>, Failure> {
    let mut users = Vec::new();
    let mut page = Page::first(200);
    loop {
        let list = s.client().users(&page).await.map_err(|e| s.fail(e))?;
        users.extend(list.users);
        match list.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(users),
        }
    }
}

/// An account by username or id.
async fn user(s: &Session, typed: &str) -> Result<User, Failure> {
    all_users(s)
        .await?
        .into_iter()
        .find(|u| u.id == typed || u.username == typed)
        .ok_or_else(|| {
            Failure::error(format!(
                "no account is called '{typed}'; yun admin users lists them"
            ))
        })
}

async fn join_token(s: &Session, args: JoinTokenArgs) -> Result<(), Failure> {
    let c = s.client();
    match args.action {
        None => {
            let ttl = match &args.ttl {
                Some(d) => Some(
                    crate::cli::parse_duration(d)
                        .map_err(|e| Failure::error(format!("--ttl: {e}")))?
                        .as_secs(),
                ),
                None => None,
            };
            let ask = yun_api::admin::NewJoinToken {
                ttl_seconds: ttl,
                uses: args.uses,
            };
            let made = c.create_join_token(&ask).await.map_err(|e| s.fail(e))?;
            match s.format {
                Format::Table => {
                    // The token alone on stdout, so `$(yun admin join-token)` takes it.
                    println!("{}", made.token);
                    eprintln!(
                        "shown only this once; on the new host: yun worker --master https://<the master's RPC address> --join-token <this token> (good until {})",
                        made.join_token.expires_at
                    );
                }
                _ => output::json(&made),
            }
        }
        Some(JoinTokenCommand::Ls) => {
            let tokens = c.join_tokens().await.map_err(|e| s.fail(e))?;
            match s.format {
                Format::Json => output::json(&tokens),
                Format::Jsonl => tokens.iter().for_each(output::json_line),
                Format::Table => {
                    let mut t = Table::new(&["ID", "STATE", "USES", "EXPIRES", "CREATED BY"]);
                    for k in &tokens {
                        let uses = match k.max_uses {
                            Some(max) => format!("{}/{max}", k.uses),
                            None => k.uses.to_string(),
                        };
                        t.row(vec![
                            k.id.clone(),
                            word(&k.state),
                            uses,
                            k.expires_at.clone(),
                            k.created_by.clone(),
                        ]);
                    }
                    t.print();
                }
            }
        }
        Some(JoinTokenCommand::Revoke { id }) => {
            c.revoke_join_token(&id).await.map_err(|e| s.fail(e))?;
            println!("{id}");
        }
    }
    Ok(())
}

fn share(used: u64, total: u64) -> String {
    if total == 0 {
        return "-".into();
    }
    format!("{:.0}%", used as f64 * 100.0 / total as f64)
}

pub async fn admin(s: &Session, command: AdminCommand) -> Result<u8, Failure> {
    match act(s, command).await {
        // The operator's routes do not exist for renters.
        Err(f) if f.refusal == Some(yun_api::ErrorCode::NoSuchRoute) => Err(Failure::error(
            "only an operator's account can do this; you are logged in as a renter (yun whoami)",
        )),
        done => done,
    }
}

async fn act(s: &Session, command: AdminCommand) -> Result<u8, Failure> {
    let c = s.client();
    match command {
        AdminCommand::Nodes => {
            let fleet = c.fleet().await.map_err(|e| s.fail(e))?;
            match s.format {
                Format::Json => output::json(&fleet),
                Format::Jsonl => fleet.nodes.iter().for_each(output::json_line),
                Format::Table => {
                    let mut t = Table::new(&[
                        "NAME",
                        "STATE",
                        "CPU",
                        "MEMORY",
                        "CONTAINERS",
                        "HEARTBEAT",
                        "CALLS",
                        "NOTES",
                    ]);
                    for n in &fleet.nodes {
                        let mut notes = Vec::new();
                        let refusing = yun_core::node::limits_that_refuse(&n.unenforced_limits);
                        if !refusing.is_empty() {
                            notes.push(format!("cannot enforce {}", refusing.join(", ")));
                        }
                        if refusing.len() < n.unenforced_limits.len() {
                            notes.push("disk measured by the master".into());
                        }
                        if n.public_host_is_console {
                            notes.push("public host is the console's".into());
                        }
                        if let Some(f) = &n.calls.last_failure {
                            notes.push(format!(
                                "last failed call: {} ({}) at {}",
                                f.method, f.outcome, f.at
                            ));
                        }
                        t.row(vec![
                            n.name.clone(),
                            word(&n.state),
                            share(n.allocated.cpu_millis, n.capacity.cpu_millis),
                            share(n.allocated.memory_bytes, n.capacity.memory_bytes),
                            n.containers.to_string(),
                            n.last_heartbeat.clone().unwrap_or_else(|| "never".into()),
                            match n.calls.failed {
                                0 => n.calls.total.to_string(),
                                failed => format!("{} ({failed} failed)", n.calls.total),
                            },
                            notes.join("; "),
                        ]);
                    }
                    t.print();
                }
            }
        }
        AdminCommand::Node(cmd) => {
            let fleet = c.fleet().await.map_err(|e| s.fail(e))?;
            let typed = match &cmd {
                NodeCommand::Cordon { node }
                | NodeCommand::Uncordon { node }
                | NodeCommand::Forget { node } => node,
            };
            let n = node(&fleet.nodes, typed)?;
            match cmd {
                NodeCommand::Cordon { .. } => c.cordon(&n.id).await,
                NodeCommand::Uncordon { .. } => c.uncordon(&n.id).await,
                NodeCommand::Forget { .. } => c.forget_node(&n.id).await.map(|f| {
                    eprintln!(
                        "revoked {} certificate(s) of {}; removed {} lost container(s), {} credits refunded",
                        f.revoked_certificates.len(),
                        n.name,
                        f.removed_containers.len(),
                        f.refunded
                    );
                }),
            }
            .map_err(|e| s.fail(e))?;
            println!("{}", n.name);
        }
        AdminCommand::JoinToken(args) => join_token(s, args).await?,
        AdminCommand::Users => {
            let users = all_users(s).await?;
            match s.format {
                Format::Json => output::json(&users),
                Format::Jsonl => users.iter().for_each(output::json_line),
                Format::Table => {
                    let mut t = Table::new(&["USERNAME", "ROLE", "BALANCE", "BANNED", "ID"]);
                    for u in &users {
                        t.row(vec![
                            u.username.clone(),
                            word(&u.role),
                            credits(u.balance),
                            if u.banned {
                                "banned".into()
                            } else {
                                String::new()
                            },
                            u.id.clone(),
                        ]);
                    }
                    t.print();
                }
            }
        }
        AdminCommand::User(cmd) => match cmd {
            UserCommand::Create {
                user: username,
                password_stdin,
            } => {
                let password = super::access::new_password(password_stdin)?;
                let u = c
                    .create_user(&username, &password)
                    .await
                    .map_err(|e| s.fail(e))?;
                eprintln!(
                    "opened the account {}; its owner can change the password with yun passwd",
                    u.username
                );
                println!("{}", u.username);
            }
            UserCommand::Ban { user: typed } => {
                let u = user(s, &typed).await?;
                c.ban(&u.id).await.map_err(|e| s.fail(e))?;
                println!("{}", u.username);
            }
            UserCommand::Unban { user: typed } => {
                let u = user(s, &typed).await?;
                c.unban(&u.id).await.map_err(|e| s.fail(e))?;
                println!("{}", u.username);
            }
            UserCommand::Credit {
                user: typed,
                amount,
                reason,
            } => {
                let u = user(s, &typed).await?;
                let balance = c
                    .adjust_credits(&u.id, amount, &reason)
                    .await
                    .map_err(|e| s.fail(e))?;
                println!("{}: {}", u.username, credits(balance));
            }
        },
        AdminCommand::Images(cmd) => match cmd {
            CatalogCommand::Publish { reference } => {
                let image = c.publish_image(&reference).await.map_err(|e| s.fail(e))?;
                match s.format {
                    Format::Table => println!("{}", image.reference),
                    _ => output::json(&image),
                }
            }
            CatalogCommand::Rm { image } => {
                let list = c.images().await.map_err(|e| s.fail(e))?;
                let found = list
                    .iter()
                    .filter(|i| i.visibility == yun_api::images::Visibility::Public)
                    .find(|i| i.id == image || i.reference == image)
                    .ok_or_else(|| {
                        Failure::error(format!(
                            "'{image}' is not in the catalog; yun images lists it"
                        ))
                    })?;
                c.unpublish_image(&found.id).await.map_err(|e| s.fail(e))?;
                println!("{}", found.reference);
            }
        },
        AdminCommand::Orders(cmd) => match cmd {
            OrdersCommand::Ls => {
                let list = c
                    .all_orders(&Page::first(200))
                    .await
                    .map_err(|e| s.fail(e))?;
                super::money::print_orders(s.format, &list.orders, true);
            }
            OrdersCommand::Paid { order } => {
                let o = c.mark_paid(&order).await.map_err(|e| s.fail(e))?;
                println!("{}: {}", o.id, word(&o.state));
            }
        },
    }
    Ok(0)
}
