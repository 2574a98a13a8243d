//! A renter's containers: `run`, `ps`, `inspect`, `start`, `stop`, `restart`, `rm`.

use super::fail::{self, Failure};
use super::output::{self, word, Format, Table};
use super::{logs, resolve, Session};
use clap::Args;
use std::collections::BTreeMap;
use yun_api::client::Removal;
use yun_api::containers::{
    Container, ContainerState, CreateContainer, PortRequest, RestartPolicyRequest,
};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  yun run -d -p 8080 yun.invalid/hello:…\n  yun run --name web -p 20080:80 -e GREETING=hi nginx:1.27\n  yun run --rm busybox echo hello"
)]
pub struct RunArgs {
    /// The image: a reference from `yun images`, or an image id.
    pub image: String,
    /// The command and its arguments (the image's own when left out).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// A name, unique among your containers (made up when left out).
    #[arg(long)]
    pub name: Option<String>,
    /// The plan's name (`yun plans`); the default plan when left out.
    #[arg(long)]
    pub plan: Option<String>,
    /// Publish a port: CONTAINER_PORT, HOST_PORT:CONTAINER_PORT, with /udp for UDP (repeat it).
    /// Without any, the image's own ports are published.
    #[arg(short = 'p', long = "publish", value_name = "[HOST_PORT:]PORT[/udp]")]
    pub publish: Vec<String>,
    /// Set an environment variable, KEY=VALUE (repeat it).
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Remove it after this long, such as 2h or 1d (the deposit comes back).
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    /// no, or on-failure[:MAX_RETRIES] (restart it when it exits with an error).
    #[arg(long, value_name = "POLICY")]
    pub restart: Option<String>,
    /// Start it and return at once, printing its id (else its log is followed).
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Remove it when it exits (an attached run only).
    #[arg(long)]
    pub rm: bool,
    /// A read-only root filesystem, with a small writable /tmp.
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  yun ps\n  yun ps -a --filter state=exited\n  yun ps -q | xargs yun stop"
)]
pub struct PsArgs {
    /// Show every container, not only running ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only those in a state: state=running, state=exited, …
    #[arg(long, value_name = "state=STATE")]
    pub filter: Option<String>,
    /// Ids only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Operators: everyone's containers.
    #[arg(long)]
    pub everyone: bool,
}

#[derive(Args, Debug)]
pub struct Targets {
    /// Containers: ids, names or the beginning of an id.
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  yun rm web\n  yun rm -f $(yun ps -aq)")]
pub struct RmArgs {
    #[command(flatten)]
    pub targets: Targets,
    /// Stop running ones first.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `8080`, `20080:80`, `53/udp`.
pub fn parse_port(text: &str) -> Result<PortRequest, Failure> {
    let wrong = || {
        Failure::error(format!(
            "-p {text} is not a port: write 8080, 20080:80 (host port first) or 53/udp"
        ))
    };
    let (ports, protocol) = match text.split_once('/') {
        Some((p, proto @ ("tcp" | "udp"))) => (p, Some(proto.to_string())),
        Some(_) => return Err(wrong()),
        None => (text, None),
    };
    let number = |s: &str| s.parse::<u16>().ok().filter(|p| *p > 0).map(i64::from);
    let (host_port, container_port) = match ports.split_once(':') {
        Some((host, container)) => (Some(number(host).ok_or_else(wrong)?), number(container)),
        None => (None, number(ports)),
    };
    Ok(PortRequest {
        container_port: container_port.ok_or_else(wrong)?,
        host_port,
        protocol,
    })
}

/// `no`, `on-failure`, `on-failure:3`.
pub fn parse_restart(text: &str) -> Result<RestartPolicyRequest, Failure> {
    let (name, retries) = match text.split_once(':') {
        Some((n, r)) => (n, Some(r)),
        None => (text, None),
    };
    let max_retries = match retries {
        None => None,
        Some(r) => Some(r.parse::<u32>().map_err(|_| {
            Failure::error(format!(
                "--restart {text}: the retries must be a number, such as on-failure:5"
            ))
        })?),
    };
    match name {
        "no" | "on-failure" => Ok(RestartPolicyRequest {
            name: name.to_string(),
            max_retries,
        }),
        _ => Err(Failure::error(format!(
            "--restart {text} is not a policy: use no or on-failure[:MAX_RETRIES]"
        ))),
    }
}

fn spec(args: &RunArgs) -> Result<CreateContainer, Failure> {
    let mut env = BTreeMap::new();
    for pair in &args.env {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| Failure::error(format!("-e {pair} is not KEY=VALUE")))?;
        env.insert(k.to_string(), v.to_string());
    }
    let ports = if args.publish.is_empty() {
        None
    } else {
        Some(
            args.publish
                .iter()
                .map(|p| parse_port(p))
                .collect::<Result<_, _>>()?,
        )
    };
    let expires_in = match &args.expires_in {
        Some(d) => Some(
            crate::cli::parse_duration(d)
                .map_err(|e| Failure::error(format!("--expires-in: {e}")))?
                .as_secs() as i64,
        ),
        None => None,
    };
    Ok(CreateContainer {
        image: args.image.clone(),
        name: args.name.clone(),
        plan: args.plan.clone(),
        command: (!args.command.is_empty()).then(|| args.command.clone()),
        env: (!env.is_empty()).then_some(env),
        ports,
        restart_policy: args.restart.as_deref().map(parse_restart).transpose()?,
        expires_in,
        read_only: args.read_only.then_some(true),
    })
}

pub async fn run(s: &Session, args: RunArgs) -> Result<u8, Failure> {
    if args.rm && args.detach {
        return Err(Failure::error(
            "--rm removes a container when an attached run sees it exit; drop -d, or give a detached one --expires-in",
        ));
    }
    let spec = spec(&args)?;
    // One key per invocation: a create retried after a broken connection is not made twice.
    let key = yun_core::new_id();
    let (c, _) = s
        .client()
        .create_container(&spec, Some(&key))
        .await
        .map_err(|e| s.fail(e))?;
    if args.detach {
        if s.format == Format::Table {
            println!("{}", c.id);
            say_endpoints(&c);
        } else {
            output::json(&c);
        }
        return Ok(0);
    }
    eprintln!(
        "{} ({}) is {}; following its log (Ctrl-C detaches, and it keeps running)",
        c.name, c.id, c.state
    );
    say_endpoints(&c);
    let detached = tokio::select! {
        r = logs::follow(s, &c.id, None, false) => { r?; false }
        _ = tokio::signal::ctrl_c() => true,
    };
    if detached {
        eprintln!(
            "detached: {} is still running and billed; yun stop {} stops it",
            c.name, c.name
        );
        return Ok(0);
    }
    let ended = wait_settled(s, &c.id).await?;
    if args.rm {
        s.client()
            .remove_container(&c.id)
            .await
            .map_err(|e| s.fail(e))?;
    }
    Ok(ended
        .exit_code
        .map_or(0, |code| u8::try_from(code).unwrap_or(1)))
}

/// After the log ends: the container once it is no longer running (a few seconds at most).
async fn wait_settled(s: &Session, id: &str) -> Result<Container, Failure> {
    for _ in 0..50 {
        let c = s.client().container(id).await.map_err(|e| s.fail(e))?;
        if !matches!(
            c.state,
            ContainerState::Running | ContainerState::Creating | ContainerState::Stopping
        ) {
            return Ok(c);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    s.client().container(id).await.map_err(|e| s.fail(e))
}

/// Where each published port is reached, on stderr (the id alone goes to stdout).
fn say_endpoints(c: &Container) {
    for p in &c.ports {
        eprintln!(
            "{}/{} → {}",
            p.container_port,
            word(&p.protocol),
            p.endpoint
        );
    }
}

fn wanted_state(filter: Option<&str>) -> Result<Option<ContainerState>, Failure> {
    let Some(f) = filter else { return Ok(None) };
    let wrong = || {
        let states: Vec<&str> = ContainerState::ALL.iter().map(|s| s.as_str()).collect();
        Failure::error(format!(
            "--filter {f} is not a filter: use state=STATE, one of {}",
            states.join(", ")
        ))
    };
    let state = f.strip_prefix("state=").ok_or_else(wrong)?;
    ContainerState::ALL
        .into_iter()
        .find(|s| s.as_str() == state)
        .map(Some)
        .ok_or_else(wrong)
}

fn age(rfc3339: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return rfc3339.to_string();
    };
    let s = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    let (n, unit) = match s {
        0..=59 => (s, "second"),
        60..=3599 => (s / 60, "minute"),
        3600..=172_799 => (s / 3600, "hour"),
        _ => (s / 86400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

pub async fn ps(s: &Session, args: PsArgs) -> Result<u8, Failure> {
    let state = wanted_state(args.filter.as_deref())?;
    let mut list = s
        .client()
        .containers(args.everyone)
        .await
        .map_err(|e| s.fail(e))?;
    list.retain(|c| match state {
        Some(want) => c.state == want,
        None => args.all || c.state == ContainerState::Running,
    });
    if args.quiet {
        for c in &list {
            println!("{}", c.id);
        }
        return Ok(0);
    }
    match s.format {
        Format::Json => output::json(&list),
        Format::Jsonl => list.iter().for_each(output::json_line),
        Format::Table => {
            let mut t = Table::new(&[
                "ID",
                "NAME",
                "IMAGE",
                "STATE",
                "PLAN",
                "CREATED",
                "ENDPOINTS",
            ]);
            for c in &list {
                let state = match c.exit_code {
                    Some(code) if c.state != ContainerState::Running => {
                        format!("{} ({code})", c.state)
                    }
                    _ => c.state.to_string(),
                };
                let endpoints: Vec<String> = c
                    .ports
                    .iter()
                    .map(|p| format!("{}->{}/{}", p.endpoint, p.container_port, word(&p.protocol)))
                    .collect();
                let cells = vec![
                    c.id.clone(),
                    c.name.clone(),
                    c.image.clone(),
                    state,
                    c.plan.clone(),
                    age(&c.created_at),
                    endpoints.join(", "),
                ];
                t.row_coloured(cells, 3, output::state_colour(c.state));
            }
            t.print();
        }
    }
    Ok(0)
}

pub async fn inspect(s: &Session, targets: Targets) -> Result<u8, Failure> {
    let all = s.client().containers(false).await.map_err(|e| s.fail(e))?;
    let mut found = Vec::new();
    for typed in &targets.containers {
        found.push(resolve::container(&all, typed)?.clone());
    }
    match s.format {
        Format::Jsonl => found.iter().for_each(output::json_line),
        // One document: the container itself for one, an array for several.
        _ if found.len() == 1 => output::json(&found[0]),
        _ => output::json(&found),
    }
    Ok(0)
}

/// Which power action.
#[derive(Debug, Clone, Copy)]
pub enum Power {
    Start,
    Stop,
    Restart,
}

pub async fn power(s: &Session, targets: Targets, action: Power) -> Result<u8, Failure> {
    let all = s.client().containers(false).await.map_err(|e| s.fail(e))?;
    Ok(fail::each(&targets.containers, async |typed| {
        let c = resolve::container(&all, typed)?;
        let client = s.client();
        match action {
            Power::Start => client.start(&c.id).await,
            Power::Stop => client.stop(&c.id).await,
            Power::Restart => client.restart(&c.id).await,
        }
        .map(drop)
        .map_err(|e| s.fail(e))
    })
    .await)
}

pub async fn rm(s: &Session, args: RmArgs) -> Result<u8, Failure> {
    let all = s.client().containers(false).await.map_err(|e| s.fail(e))?;
    Ok(fail::each(&args.targets.containers, async |typed| {
        let c = resolve::container(&all, typed)?;
        let client = s.client();
        if c.state == ContainerState::Running {
            if !args.force {
                return Err(Failure::error(format!(
                    "{typed} is running; stop it first, or use yun rm -f"
                )));
            }
            client.stop(&c.id).await.map_err(|e| s.fail(e))?;
        }
        match client
            .remove_container(&c.id)
            .await
            .map_err(|e| s.fail(e))?
        {
            Removal::Done => {}
            Removal::Deferred(_) => {
                eprintln!("{typed}: its node is down; it is removed when the node is back")
            }
        }
        Ok(())
    })
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_a_unit_is_singular() {
        let ago = |s: i64| age(&(chrono::Utc::now() - chrono::Duration::seconds(s)).to_rfc3339());
        assert_eq!(ago(1), "1 second ago");
        assert_eq!(ago(5), "5 seconds ago");
        assert_eq!(ago(61), "1 minute ago");
        assert_eq!(ago(3 * 3600), "3 hours ago");
        assert_eq!(ago(3 * 86400), "3 days ago");
    }

    #[test]
    fn ports_are_written_as_docker_writes_them() {
        let p = parse_port("8080").unwrap();
        assert_eq!(
            (p.container_port, p.host_port, p.protocol),
            (8080, None, None)
        );
        let p = parse_port("20080:80").unwrap();
        assert_eq!((p.container_port, p.host_port), (80, Some(20080)));
        let p = parse_port("53/udp").unwrap();
        assert_eq!(p.protocol.as_deref(), Some("udp"));
        for wrong in ["", "http", "80:", ":80", "0", "70000", "80/sctp"] {
            assert!(parse_port(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn restart_policies() {
        assert_eq!(parse_restart("on-failure:3").unwrap().max_retries, Some(3));
        assert_eq!(parse_restart("no").unwrap().max_retries, None);
        assert!(parse_restart("always").is_err());
        assert!(parse_restart("on-failure:x").is_err());
    }

    #[test]
    fn state_filters() {
        assert_eq!(
            wanted_state(Some("state=exited")).unwrap(),
            Some(ContainerState::Exited)
        );
        assert_eq!(wanted_state(None).unwrap(), None);
        assert!(wanted_state(Some("status=exited")).is_err());
        assert!(wanted_state(Some("state=dead")).is_err());
    }
}
