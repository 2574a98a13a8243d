//! The create path (DESIGN.md): (1) one short transaction admits the request, places it and
//! writes the row as `creating` with its ports; (2) the worker call, with no transaction open;
//! (3) the outcome is recorded; a failure frees the ports and forgets the row.

use super::Containers;
use super::{observed, spec_of, ContainerError, ContainerResult, Refusal};
use crate::nodes::NodeError;
use std::collections::{BTreeMap, HashSet};
use yun_core::admission::{Policy, WantedPort};
use yun_core::node::ContainerStatus;
use yun_core::pricing::cost;
use yun_core::scheduler::NodeSnapshot;
use yun_core::{validate, DesiredState, EnvVar, Invalid, Protocol};
use yun_store::{ContainerRow, ImageRow, NewContainer, PlaceRequest, RestartPolicy, SessionUser};

#[derive(Debug)]
pub struct PortInput {
    pub container_port: i64,
    pub host_port: Option<i64>,
    pub protocol: Option<String>,
}

#[derive(Debug)]
pub struct CreateInput {
    pub image: String,
    pub name: Option<String>,
    pub plan: Option<String>,
    pub command: Option<Vec<String>>,
    pub env: Option<BTreeMap<String, String>>,
    /// Omitted: the image's exposed ports are published. `[]`: nothing is.
    pub ports: Option<Vec<PortInput>>,
    pub restart_policy: Option<RestartInput>,
    /// Seconds the container may live; at the end it is removed and its deposit refunded.
    pub expires_in: Option<i64>,
    pub read_only: bool,
}

#[derive(Debug)]
pub struct RestartInput {
    /// `no` or `on-failure`.
    pub name: String,
    pub max_retries: Option<u32>,
}

const MAX_RETRIES_LIMIT: u32 = 100;
/// The longest lifetime: a year; the shortest is the operator's `min_lifetime` (a minute).
const MAX_LIFETIME_SECS: i64 = 366 * 24 * 3600;

fn restart_policy(input: Option<RestartInput>) -> ContainerResult<RestartPolicy> {
    let Some(r) = input else {
        return Ok(RestartPolicy::No);
    };
    match (r.name.as_str(), r.max_retries) {
        ("no", None | Some(0)) => Ok(RestartPolicy::No),
        ("on-failure", max) => {
            let max_retries = max.unwrap_or(5);
            if max_retries == 0 || max_retries > MAX_RETRIES_LIMIT {
                return Err(invalid(
                    "restart_policy.max_retries",
                    format!("use 1 to {MAX_RETRIES_LIMIT} retries"),
                ));
            }
            Ok(RestartPolicy::OnFailure { max_retries })
        }
        ("no", Some(_)) => Err(invalid("restart_policy", "'no' takes no max_retries")),
        (other, _) => Err(invalid(
            "restart_policy.name",
            format!("'{other}' is not 'no' or 'on-failure'"),
        )),
    }
}

const MAX_PORTS: usize = 32;
const MAX_ENV: usize = 128;
const MAX_ARGS: usize = 256;
/// How many times a host port that Docker cannot bind is swapped for another.
const PORT_RETRIES: usize = 5;

fn invalid(field: &'static str, message: impl Into<String>) -> ContainerError {
    ContainerError::Invalid(Invalid {
        field,
        message: message.into(),
    })
}

/// A command line a renter gives (to run, or to exec in a console).
pub fn check_command(command: &[String]) -> ContainerResult<()> {
    if command.len() > MAX_ARGS {
        return Err(invalid(
            "command",
            format!("use at most {MAX_ARGS} arguments"),
        ));
    }
    if command.iter().any(|a| a.contains('\0') || a.len() > 4096) {
        return Err(invalid(
            "command",
            "each argument must be under 4 KiB and contain no NUL byte",
        ));
    }
    Ok(())
}

fn check_env(env: &BTreeMap<String, String>) -> ContainerResult<Vec<EnvVar>> {
    if env.len() > MAX_ENV {
        return Err(invalid("env", format!("use at most {MAX_ENV} variables")));
    }
    env.iter()
        .map(|(k, v)| {
            validate::env_key(k)?;
            validate::env_value(k, v)?;
            Ok(EnvVar {
                key: k.clone(),
                value: v.clone(),
            })
        })
        .collect()
}

fn wanted_ports(
    input: Option<Vec<PortInput>>,
    image: &ImageRow,
) -> ContainerResult<Vec<WantedPort>> {
    let Some(list) = input else {
        return Ok(image
            .exposed_ports
            .iter()
            .filter_map(|(port, proto)| {
                Some(WantedPort {
                    container_port: *port,
                    host_port: None,
                    protocol: Protocol::parse(proto)?,
                })
            })
            .collect());
    };
    if list.len() > MAX_PORTS {
        return Err(invalid(
            "ports",
            format!("publish at most {MAX_PORTS} ports"),
        ));
    }
    let mut seen = HashSet::new();
    let mut hosts = HashSet::new();
    list.into_iter()
        .map(|p| {
            let container_port = validate::port("ports.container_port", p.container_port)?;
            let host_port = p
                .host_port
                .map(|h| validate::port("ports.host_port", h))
                .transpose()?;
            let protocol = match p.protocol.as_deref() {
                None => Protocol::Tcp,
                Some(s) => Protocol::parse(s).ok_or_else(|| {
                    invalid("ports.protocol", format!("'{s}' is not 'tcp' or 'udp'"))
                })?,
            };
            if !seen.insert((container_port, protocol)) {
                return Err(invalid(
                    "ports",
                    format!(
                        "container port {container_port}/{} is listed twice",
                        protocol.as_str()
                    ),
                ));
            }
            if let Some(h) = host_port {
                if !hosts.insert(h) {
                    return Err(invalid("ports", format!("host port {h} is listed twice")));
                }
            }
            Ok(WantedPort {
                container_port,
                host_port,
                protocol,
            })
        })
        .collect()
}

async fn resolve_image(
    containers: &Containers,
    user: &SessionUser,
    image: &str,
) -> ContainerResult<ImageRow> {
    if !yun_core::id::looks_like_id(image) {
        validate::image_reference(image)?;
    }
    containers
        .store
        .resolve_image(&user.id, image)
        .await?
        .ok_or_else(|| {
            Refusal::UnknownImage {
                image: image.to_string(),
            }
            .into()
        })
}

/// The ready nodes as placement sees them: what each can hold and why it may refuse; the store
/// adds what is reserved on each, in the placement transaction.
pub(super) fn snapshots(containers: &Containers) -> Vec<NodeSnapshot> {
    containers
        .registry
        .live_nodes()
        .into_iter()
        .map(|lease| {
            let n = lease.node;
            let refusing = yun_core::node::limits_that_refuse(&n.unenforced_limits);
            let refuses = if n.cordoned {
                Some("cordoned by an operator".to_string())
            } else if !refusing.is_empty() && !n.allow_unenforced {
                Some(format!("its engine cannot enforce {}", refusing.join(", ")))
            } else {
                None
            };
            NodeSnapshot {
                cpu_capacity_millis: (f64::from(n.cpu_cores)
                    * 1000.0
                    * containers.config.cpu_overcommit) as u64,
                memory_bytes: n.memory_bytes,
                reserved_cpu_millis: 0,
                reserved_memory_bytes: 0,
                port_range: n.port_range,
                refuses,
                id: n.id.clone(),
                name: n.name.clone(),
            }
        })
        .collect()
}

/// The operator's admission rules, from the configuration.
pub(super) fn policy(containers: &Containers) -> Policy {
    let c = &containers.config;
    Policy {
        max_containers_per_user: c.max_containers_per_user,
        max_ports_per_user: u64::from(c.max_ports_per_user),
        min_balance_to_run: c.pricing.min_balance_to_run,
        interval_secs: c.pricing.metering_interval.as_secs(),
        ranking: c.placement,
    }
}

/// Runs a container. With an idempotency key, a repeated request returns the container the
/// first one made (and `false`: nothing new was made) instead of making another.
pub async fn create(
    containers: &Containers,
    user: &SessionUser,
    input: CreateInput,
    idempotency_key: Option<String>,
) -> ContainerResult<(ContainerRow, bool)> {
    if let Some(key) = &idempotency_key {
        if key.is_empty() || key.len() > 255 {
            return Err(invalid("Idempotency-Key", "use 1 to 255 characters"));
        }
        if let Some(row) = containers
            .store
            .container_by_idempotency_key(&user.id, key)
            .await?
        {
            return Ok((row, false));
        }
    }
    let plan_name = input
        .plan
        .unwrap_or_else(|| containers.config.default_plan.clone());
    let plan = containers.config.plan(&plan_name).ok_or_else(|| {
        invalid(
            "plan",
            format!("there is no plan '{plan_name}'; see GET /api/v1/plans"),
        )
    })?;
    let restart = restart_policy(input.restart_policy)?;
    let interval_ms = containers.config.pricing.metering_interval.as_millis() as i64;
    let command = input.command.unwrap_or_default();
    check_command(&command)?;
    let env = check_env(&input.env.unwrap_or_default())?;
    let image = resolve_image(containers, user, &input.image).await?;
    let wanted = wanted_ports(input.ports, &image)?;
    let lifetimes = containers.config.min_lifetime.as_secs() as i64..=MAX_LIFETIME_SECS;
    let expires_at = match input.expires_in {
        None => None,
        Some(s) if lifetimes.contains(&s) => Some(yun_store::now_ms() + s * 1000),
        Some(_) => {
            return Err(invalid(
                "expires_in",
                format!(
                    "give the lifetime in seconds, from {} to {}",
                    lifetimes.start(),
                    lifetimes.end()
                ),
            ))
        }
    };
    let id = yun_core::new_id();
    // A name made up from six characters of the id may collide; the whole id cannot.
    let (name, fallback_name) = match input.name {
        Some(n) => {
            validate::container_name(&n)?;
            (n, None)
        }
        None => (
            default_name(&image.reference, &id, 6),
            Some(default_name(&image.reference, &id, id.len())),
        ),
    };
    let row = NewContainer {
        id: id.clone(),
        owner_id: user.id.clone(),
        name,
        image_id: image.id.clone(),
        image_ref: image.reference.clone(),
        image_pin: image.docker_id.clone(),
        plan: plan.name.clone(),
        cpu_millis: plan.cpu_millis,
        memory_bytes: plan.memory_bytes(),
        pids: plan.pids,
        disk_bytes: plan.disk_bytes(),
        node_id: String::new(),
        command,
        env,
        ports: Vec::new(),
        restart,
        idempotency_key: idempotency_key.clone(),
        price_per_hour: plan.price_per_hour,
        deposit: containers.config.pricing.run_deposit,
        paid_ms: interval_ms,
        charged: cost(plan.price_per_hour, interval_ms),
        expires_at,
        created_at: yun_store::now_ms(),
        read_only: input.read_only,
    };
    // Held from before the row exists until its outcome is recorded, so the reconciler never
    // takes an in-flight create for one whose master died.
    let lock = containers.locks.get(&id);
    let _guard = lock.lock().await;
    let request = PlaceRequest {
        row,
        fallback_name,
        wanted: wanted.clone(),
    };
    let placed = match containers.placer.place(request).await {
        Ok(placed) => placed,
        // Two requests with one key raced: the other one's row answers this one too.
        Err(e)
            if idempotency_key.is_some()
                && matches!(
                    e,
                    ContainerError::Store(yun_store::StoreError::Conflict(
                        yun_store::Unique::IdempotencyKey | yun_store::Unique::ContainerName
                    )) | ContainerError::Refused(
                        Refusal::NameTaken { .. } | Refusal::PortTaken { .. }
                    )
                ) =>
        {
            let key = idempotency_key.as_deref().unwrap_or_default();
            return match containers
                .store
                .container_by_idempotency_key(&user.id, key)
                .await?
            {
                Some(row) => Ok((row, false)),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };

    // The row as written; read back only if its node has left the registry meanwhile.
    let range = placed.port_range;
    let mut row = match containers.registry.get(&placed.row.node_id) {
        Some(lease) => placed
            .row
            .into_row(lease.node.name.clone(), lease.node.public_host.clone()),
        None => super::find(containers, None, &placed.row.id).await?,
    };

    // Step 2: the worker call, outside any transaction.
    let result = run_on_node(containers, &mut row, &wanted, range).await;

    // Step 3: the outcome.
    match result {
        Ok(status) => {
            let (st, code) = observed(&status, DesiredState::Running);
            containers.outcomes.record(&id, st, code).await?;
            row.state = st;
            row.exit_code = code;
        }
        Err(e) => {
            // The worker may have made it before failing (a timeout): removal is idempotent.
            if let Some(client) = containers.registry.ready_client(&row.node_id) {
                let _ = client.remove(&id).await;
            }
            containers.store.delete_container(&id).await?;
            return Err(e);
        }
    }
    Ok((row, true))
}

/// Calls the worker; a host port Docker cannot bind is swapped for another unless the renter chose it.
async fn run_on_node(
    containers: &Containers,
    row: &mut ContainerRow,
    wanted: &[WantedPort],
    range: (u16, u16),
) -> ContainerResult<ContainerStatus> {
    let node_name = row.node_name.clone();
    let client = containers
        .registry
        .ready_client(&row.node_id)
        .ok_or_else(|| ContainerError::NodeDown {
            node: node_name.clone(),
        })?;
    let mut skipped = Vec::new();
    for _ in 0..=PORT_RETRIES {
        match client.create(&spec_of(row)).await {
            Ok(status) => return Ok(status),
            Err(e) => {
                let NodeError::PortUnavailable { port: bad, .. } = e else {
                    return Err(ContainerError::node(&node_name, e));
                };
                let chosen = wanted.iter().any(|w| w.host_port == Some(bad));
                if chosen {
                    return Err(Refusal::PortUnavailable {
                        port: bad,
                        node: node_name,
                    }
                    .into());
                }
                skipped.push(bad);
                let Some(next) = containers
                    .store
                    .replace_port(&row.id, &row.node_id, bad, range, &skipped)
                    .await?
                else {
                    return Err(Refusal::NoFreePort { node: node_name }.into());
                };
                tracing::info!(
                    node = node_name,
                    bad,
                    next,
                    "host port taken outside yun; using another"
                );
                if let Some(p) = row.ports.iter_mut().find(|p| p.host_port == bad) {
                    p.host_port = next;
                }
            }
        }
    }
    Err(Refusal::NoFreePort { node: node_name }.into())
}

/// `<image name>-<the id's last chars>`, e.g. `nginx-4k9x2m` (the last: an id begins with
/// the time it was made).
fn default_name(reference: &str, id: &str, id_chars: usize) -> String {
    let base = reference
        .rsplit('/')
        .next()
        .unwrap_or(reference)
        .split([':', '@'])
        .next()
        .unwrap_or("container");
    let base: String = base
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    let base = if base.is_empty() {
        "container".to_string()
    } else {
        base
    };
    format!("{base}-{}", &id[id.len().saturating_sub(id_chars)..])
}

#[cfg(test)]
mod tests {
    use super::default_name;

    #[test]
    fn default_names_are_valid() {
        let n = default_name(
            "registry.example.com:5000/team/web-app:v1",
            "abcd1234abcd1234",
            6,
        );
        assert_eq!(n, "web-app-cd1234");
        assert!(yun_core::validate::container_name(&n).is_ok());
        // The fallback when a made-up name is taken: the whole id, still a valid name.
        let long = default_name(&format!("{}:v1", "a".repeat(80)), "abcd1234abcd1234", 16);
        assert_eq!(long, format!("{}-abcd1234abcd1234", "a".repeat(40)));
        assert!(yun_core::validate::container_name(&long).is_ok());
    }
}
