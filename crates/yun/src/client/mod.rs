//! The `yun` client: a renter's and an operator's commands against a master's HTTP API,
//! through `yun_api::Client`, in the manner of `docker` and `nomad`. It reads only its own
//! contexts file, never a server's yun.toml.

mod access;
mod account;
mod admin;
mod connect;
mod containers;
mod contexts;
mod events;
mod exec;
mod fail;
mod images;
mod logs;
mod money;
mod output;
mod resolve;
mod stats;

use clap::Subcommand;
pub use connect::Target;
use fail::Failure;
use output::Format;
pub use output::Output;
use yun_api::{Client, ClientError};

/// A signed-in client of one master, and how to print.
pub struct Session {
    master: connect::Master,
    format: Format,
}

impl Session {
    pub fn client(&self) -> &Client {
        &self.master.client
    }

    pub fn addr(&self) -> &str {
        &self.master.addr
    }

    /// A failed call, in words and an exit status.
    pub fn fail(&self, e: ClientError) -> Failure {
        Failure::from_client(&self.master.addr, e)
    }
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Log in to a master and keep the session for the next commands.
    Login(account::LoginArgs),
    /// Make an account on a master (when it takes sign-ups), and log in with it.
    #[command(
        after_help = "Examples:\n  yun signup -u alice\n  echo \"$PASSWORD\" | yun signup -u alice --password-stdin"
    )]
    Signup(account::LoginArgs),
    /// End the session, on the master too.
    #[command(after_help = "Example:\n  yun logout")]
    Logout,
    /// Who you are logged in as, and where.
    #[command(after_help = "Examples:\n  yun whoami\n  yun whoami -o json")]
    Whoami,
    /// This client's version and the master's.
    #[command(after_help = "Example:\n  yun version --addr https://cloud.example.com")]
    Version,
    /// Your login sessions: list them, end one.
    #[command(
        subcommand,
        after_help = "Examples:\n  yun session ls\n  yun session end 01J9Z3…"
    )]
    Session(access::SessionCommand),
    /// Personal access tokens for scripts and CI (use one as YUN_TOKEN).
    #[command(
        subcommand,
        after_help = "Examples:\n  yun token create ci-deploy --days 90\n  yun token ls\n  yun token revoke 01J9Z3…"
    )]
    Token(access::TokenCommand),
    /// Change your password; your other sessions end.
    Passwd(access::PasswdArgs),
    /// The masters you are logged in to (contexts).
    #[command(
        subcommand,
        after_help = "Examples:\n  yun context ls\n  yun context use cloud.example.com"
    )]
    Context(account::ContextCommand),
    /// Run a container from an image; follows its log unless -d.
    Run(containers::RunArgs),
    /// List your containers (running ones unless -a).
    Ps(containers::PsArgs),
    /// A container in full, as JSON.
    #[command(after_help = "Example:\n  yun inspect web")]
    Inspect(containers::Targets),
    /// Start stopped containers.
    #[command(after_help = "Example:\n  yun start web db")]
    Start(containers::Targets),
    /// Stop running containers (stopped time is free).
    #[command(after_help = "Example:\n  yun stop web")]
    Stop(containers::Targets),
    /// Restart containers.
    #[command(after_help = "Example:\n  yun restart web")]
    Restart(containers::Targets),
    /// Remove containers (their deposits come back).
    Rm(containers::RmArgs),
    /// A container's log.
    Logs(logs::LogsArgs),
    /// Live CPU, memory, network, disk and processes of containers.
    Stats(stats::StatsArgs),
    /// Run a command in a running container (-it for a shell).
    Exec(exec::ExecArgs),
    /// Your containers' state changes as they happen.
    Events(events::EventsArgs),
    /// The images you may run: the public catalog and your own.
    Images(images::ImagesArgs),
    /// Pull an image of your own from a registry, with a bar per layer.
    #[command(after_help = "Example:\n  yun pull registry.example.com/me/app:1.0")]
    Pull {
        /// The image reference.
        reference: String,
    },
    /// Remove images of your own.
    #[command(after_help = "Example:\n  yun rmi registry.example.com/me/app:1.0")]
    Rmi {
        /// Images: ids or references.
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// The plans: CPU, memory and price per hour.
    #[command(after_help = "Example:\n  yun plans -o json")]
    Plans,
    /// Your balance.
    #[command(after_help = "Example:\n  yun balance")]
    Balance,
    /// Every change of your balance, newest first.
    Ledger(money::LedgerArgs),
    /// Buy credits: makes an order and says how to pay it.
    #[command(after_help = "Example:\n  yun topup 1000")]
    Topup {
        /// How many credits.
        credits: i64,
    },
    /// Your recharge orders.
    #[command(after_help = "Example:\n  yun orders -o json")]
    Orders,
    /// Operators: the fleet, accounts, the catalog, manual payments.
    #[command(
        subcommand,
        after_help = "Examples:\n  yun admin nodes\n  yun admin user credit alice 500 \"refund for the outage\""
    )]
    Admin(admin::AdminCommand),
}

/// Runs a client command; answers the exit status.
pub async fn run(command: ClientCommand, target: Target, out: Output) -> u8 {
    match dispatch(command, &target, out.format).await {
        Ok(code) => code,
        Err(f) => {
            eprintln!("yun: {}", f.message);
            f.code
        }
    }
}

async fn dispatch(command: ClientCommand, target: &Target, format: Format) -> Result<u8, Failure> {
    use ClientCommand as C;
    match command {
        C::Login(args) => return account::login(target, args).await,
        C::Signup(args) => return account::signup(target, args).await,
        C::Logout => return account::logout(target).await,
        C::Version => return account::version(target, format).await,
        C::Context(c) => return account::context(c, format),
        _ => {}
    }
    let saved = contexts::Contexts::load()?;
    let s = Session {
        master: target.signed_in(&saved)?,
        format,
    };
    match command {
        C::Whoami => account::whoami(&s).await,
        C::Session(cmd) => access::session(&s, cmd).await,
        C::Token(cmd) => access::token(&s, cmd).await,
        C::Passwd(args) => access::passwd(&s, args).await,
        C::Run(args) => containers::run(&s, args).await,
        C::Ps(args) => containers::ps(&s, args).await,
        C::Inspect(t) => containers::inspect(&s, t).await,
        C::Start(t) => containers::power(&s, t, containers::Power::Start).await,
        C::Stop(t) => containers::power(&s, t, containers::Power::Stop).await,
        C::Restart(t) => containers::power(&s, t, containers::Power::Restart).await,
        C::Rm(args) => containers::rm(&s, args).await,
        C::Logs(args) => logs::logs(&s, args).await,
        C::Stats(args) => stats::stats(&s, args).await,
        C::Exec(args) => exec::exec(&s, args).await,
        C::Events(args) => events::events(&s, args).await,
        C::Images(args) => images::images(&s, args).await,
        C::Pull { reference } => images::pull(&s, &reference).await,
        C::Rmi { images } => images::rmi(&s, &images).await,
        C::Plans => images::plans(&s).await,
        C::Balance => money::balance(&s).await,
        C::Ledger(args) => money::ledger(&s, args).await,
        C::Topup { credits } => money::topup(&s, credits).await,
        C::Orders => money::orders(&s).await,
        C::Admin(cmd) => admin::admin(&s, cmd).await,
        C::Login(_) | C::Signup(_) | C::Logout | C::Version | C::Context(_) => {
            unreachable!("handled above")
        }
    }
}
