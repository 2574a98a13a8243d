//! Admission: whether one create may run, and on which node with which host ports. A pure
//! function of the request, the facts the store read for it inside its placement transaction,
//! and the node snapshots; the store writes what it answers. So every rule is tested here without
//! a database, and the store holds no rule of its own.
//!
//! The checks run in a fixed order, the renter's own limits first (containers, host ports,
//! the name, the balance), then the fleet (a node with room, then free ports on it), so a
//! refusal always names the first thing the renter can fix.

use crate::scheduler::{self, NodeSnapshot, PlacementRequest, Ranking, Unplaceable};
use crate::spec::Protocol;
use std::collections::HashSet;

/// Why a create was refused: each is the renter's to fix (or to wait out).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("image '{image}' is neither in the public catalog nor among your images")]
    UnknownImage { image: String },
    #[error("you have reached the limit of {limit} containers")]
    QuotaExceeded { limit: u64 },
    #[error("your containers may publish {limit} host ports in all; {held} are published and this one asks for {asked}")]
    PortQuotaExceeded { limit: u64, held: u64, asked: u64 },
    #[error("you already have a container named '{name}'")]
    NameTaken { name: String },
    /// The balance is below what a new run takes up front.
    #[error("running a container needs a balance of at least {require} (a minimum of {minimum}; a refundable deposit of {deposit} and {usage} for the first {seconds} s of plan {plan} are taken now), and your balance is {balance}")]
    CannotPay {
        require: i64,
        minimum: i64,
        deposit: i64,
        usage: i64,
        seconds: u64,
        plan: String,
        balance: i64,
    },
    #[error("{0}")]
    NoCapacity(String),
    #[error("{0}")]
    PortOutOfRange(String),
    /// A host port the renter chose is held by another container on the node.
    #[error("host port {port} is already taken on node {node}")]
    PortTaken { port: u16, node: String },
    /// A host port the renter chose is held outside yun on the node.
    #[error("host port {port} is in use on node {node}")]
    PortUnavailable { port: u16, node: String },
    #[error("node {node} has no free host port left")]
    NoFreePort { node: String },
}

/// The operator's rules for every create.
#[derive(Debug, Clone)]
pub struct Policy {
    pub max_containers_per_user: u64,
    /// Host ports are a node's scarce resource: without a cap one renter could hold a node's
    /// whole range. They cost no credits; the cap is the fairness.
    pub max_ports_per_user: u64,
    /// The balance a new run needs before its deposit is taken.
    pub min_balance_to_run: i64,
    /// The interval a new run pays in advance, named in a refusal.
    pub interval_secs: u64,
    pub ranking: Ranking,
}

/// A port as asked for: the host port is None when any free one will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedPort {
    pub container_port: u16,
    pub host_port: Option<u16>,
    pub protocol: Protocol,
}

/// A host port given to a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedPort {
    pub container_port: u16,
    pub host_port: u16,
    pub protocol: Protocol,
}

/// One create as the renter asked for it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub name: &'a str,
    /// The name to use instead when `name` was made up for the renter and is taken; None when
    /// the renter chose `name` (a taken name is then refused).
    pub fallback_name: Option<&'a str>,
    pub plan: &'a str,
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub wanted: &'a [WantedPort],
    /// Taken now, given back at removal.
    pub deposit: i64,
    /// The first interval of running time, taken now.
    pub usage: i64,
}

/// What the store read for one request, in the transaction that will write it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    pub containers: u64,
    /// Host ports the owner's containers hold (read only when the request asks for ports).
    pub ports_held: u64,
    pub name_taken: bool,
    pub balance: i64,
}

/// What a run pays up front, and the balance it needs before anything is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunCharge {
    pub deposit: i64,
    pub usage: i64,
    pub require: i64,
}

/// An admitted request: its name, its node (an index into the snapshots), what it pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub name: String,
    pub node: usize,
    pub charge: RunCharge,
}

/// Admits one request or says why not.
pub fn admit(
    req: &Request<'_>,
    facts: &Facts,
    nodes: &[NodeSnapshot],
    policy: &Policy,
) -> Result<Admitted, Refusal> {
    let limit = policy.max_containers_per_user;
    if facts.containers >= limit {
        return Err(Refusal::QuotaExceeded { limit });
    }
    let asked = req.wanted.len() as u64;
    if asked > 0 && facts.ports_held + asked > policy.max_ports_per_user {
        return Err(Refusal::PortQuotaExceeded {
            limit: policy.max_ports_per_user,
            held: facts.ports_held,
            asked,
        });
    }
    let name = match (facts.name_taken, req.fallback_name) {
        (false, _) => req.name,
        (true, Some(fallback)) => fallback,
        (true, None) => {
            return Err(Refusal::NameTaken {
                name: req.name.to_string(),
            })
        }
    };
    let charge = RunCharge {
        deposit: req.deposit,
        usage: req.usage,
        require: policy.min_balance_to_run.max(req.deposit + req.usage),
    };
    if facts.balance < charge.require {
        return Err(Refusal::CannotPay {
            require: charge.require,
            minimum: policy.min_balance_to_run,
            deposit: charge.deposit,
            usage: charge.usage,
            seconds: policy.interval_secs,
            plan: req.plan.to_string(),
            balance: facts.balance,
        });
    }
    let placement = PlacementRequest {
        cpu_millis: req.cpu_millis,
        memory_bytes: req.memory_bytes,
        fixed_host_ports: req.wanted.iter().filter_map(|w| w.host_port).collect(),
    };
    let chosen = scheduler::place(&placement, nodes, policy.ranking).map_err(|why| match why {
        Unplaceable::NoCapacity(m) => Refusal::NoCapacity(m),
        Unplaceable::PortOutOfRange(m) => Refusal::PortOutOfRange(m),
    })?;
    let node = nodes
        .iter()
        .position(|n| n.id == chosen)
        .expect("the scheduler picks one of the snapshots");
    Ok(Admitted {
        name: name.to_string(),
        node,
        charge,
    })
}

/// The host ports of an admitted request on its node, given the ports the node's containers
/// hold (`used`): the chosen ones if free, then the lowest free ones of the node's range.
pub fn assign_ports(
    wanted: &[WantedPort],
    node: &NodeSnapshot,
    used: &HashSet<u16>,
) -> Result<Vec<AssignedPort>, Refusal> {
    let mut taken = used.clone();
    for port in wanted.iter().filter_map(|w| w.host_port) {
        if !taken.insert(port) {
            return Err(Refusal::PortTaken {
                port,
                node: node.name.clone(),
            });
        }
    }
    let (low, high) = node.port_range;
    let mut next = low;
    wanted
        .iter()
        .map(|w| {
            let host_port = match w.host_port {
                Some(h) => h,
                None => {
                    let free = (next..=high).find(|p| !taken.contains(p)).ok_or_else(|| {
                        Refusal::NoFreePort {
                            node: node.name.clone(),
                        }
                    })?;
                    taken.insert(free);
                    next = free;
                    free
                }
            };
            Ok(AssignedPort {
                container_port: w.container_port,
                host_port,
                protocol: w.protocol,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> NodeSnapshot {
        NodeSnapshot {
            id: format!("id-{name}"),
            name: name.into(),
            cpu_capacity_millis: 4000,
            memory_bytes: 4 << 30,
            reserved_cpu_millis: 0,
            reserved_memory_bytes: 0,
            port_range: (20000, 20003),
            refuses: None,
        }
    }

    fn policy() -> Policy {
        Policy {
            max_containers_per_user: 3,
            max_ports_per_user: 4,
            min_balance_to_run: 300,
            interval_secs: 60,
            ranking: Ranking::Spread,
        }
    }

    fn any_port(container_port: u16) -> WantedPort {
        WantedPort {
            container_port,
            host_port: None,
            protocol: Protocol::Tcp,
        }
    }

    fn request<'a>(wanted: &'a [WantedPort]) -> Request<'a> {
        Request {
            name: "web-abc123",
            fallback_name: Some("web-0123456789abc123"),
            plan: "nano",
            cpu_millis: 250,
            memory_bytes: 64 << 20,
            wanted,
            deposit: 200,
            usage: 1,
        }
    }

    fn rich() -> Facts {
        Facts {
            balance: 1000,
            ..Facts::default()
        }
    }

    #[test]
    fn a_request_within_every_limit_is_admitted_on_the_node_the_scheduler_picks() {
        let wanted = [any_port(80)];
        let nodes = [node("w1"), node("w2")];
        let a = admit(&request(&wanted), &rich(), &nodes, &policy()).unwrap();
        assert_eq!(a.name, "web-abc123");
        assert_eq!(a.node, 0);
        assert_eq!(
            a.charge,
            RunCharge {
                deposit: 200,
                usage: 1,
                require: 300
            }
        );
    }

    #[test]
    fn the_renters_own_limits_come_before_the_fleet() {
        let wanted = [any_port(80)];
        let full = Facts {
            containers: 3,
            ..rich()
        };
        // No node at all, yet the quota is what the renter hears first.
        assert_eq!(
            admit(&request(&wanted), &full, &[], &policy()),
            Err(Refusal::QuotaExceeded { limit: 3 })
        );
        let ports = Facts {
            ports_held: 4,
            ..rich()
        };
        assert_eq!(
            admit(&request(&wanted), &ports, &[], &policy()),
            Err(Refusal::PortQuotaExceeded {
                limit: 4,
                held: 4,
                asked: 1
            })
        );
        // Asking for no port is never over the port quota.
        assert!(admit(&request(&[]), &ports, &[node("w1")], &policy()).is_ok());
    }

    #[test]
    fn a_made_up_name_that_is_taken_gives_way_and_a_chosen_one_is_refused() {
        let taken = Facts {
            name_taken: true,
            ..rich()
        };
        let nodes = [node("w1")];
        let a = admit(&request(&[]), &taken, &nodes, &policy()).unwrap();
        assert_eq!(a.name, "web-0123456789abc123");
        let chosen = Request {
            fallback_name: None,
            ..request(&[])
        };
        assert_eq!(
            admit(&chosen, &taken, &nodes, &policy()),
            Err(Refusal::NameTaken {
                name: "web-abc123".into()
            })
        );
    }

    #[test]
    fn the_balance_must_reach_the_minimum_and_cover_what_is_taken() {
        let nodes = [node("w1")];
        let poor = Facts {
            balance: 299,
            ..Facts::default()
        };
        let Err(Refusal::CannotPay {
            require, balance, ..
        }) = admit(&request(&[]), &poor, &nodes, &policy())
        else {
            panic!("a balance under the minimum must be refused");
        };
        assert_eq!((require, balance), (300, 299));
        // A deposit above the minimum raises what is needed.
        let dear = Request {
            deposit: 400,
            usage: 5,
            ..request(&[])
        };
        let short = Facts {
            balance: 404,
            ..Facts::default()
        };
        let Err(Refusal::CannotPay { require, .. }) = admit(&dear, &short, &nodes, &policy())
        else {
            panic!("too little for deposit and usage")
        };
        assert_eq!(require, 405);
        let exact = Facts {
            balance: 405,
            ..Facts::default()
        };
        assert!(admit(&dear, &exact, &nodes, &policy()).is_ok());
    }

    #[test]
    fn the_fleets_refusals_are_the_schedulers() {
        let wanted = [WantedPort {
            host_port: Some(30000),
            ..any_port(80)
        }];
        assert!(matches!(
            admit(&request(&wanted), &rich(), &[node("w1")], &policy()),
            Err(Refusal::PortOutOfRange(_))
        ));
        assert!(matches!(
            admit(&request(&[]), &rich(), &[], &policy()),
            Err(Refusal::NoCapacity(_))
        ));
    }

    #[test]
    fn chosen_ports_must_be_free_and_the_rest_are_the_lowest_free_ones() {
        let n = node("w1");
        let used: HashSet<u16> = [20000, 20002].into();
        let wanted = [
            any_port(80),
            WantedPort {
                host_port: Some(20001),
                ..any_port(443)
            },
            any_port(8080),
        ];
        assert_eq!(
            assign_ports(&wanted, &n, &used),
            Err(Refusal::NoFreePort { node: "w1".into() })
        );
        let ports = assign_ports(&wanted[..2], &n, &used).unwrap();
        let hosts: Vec<u16> = ports.iter().map(|p| p.host_port).collect();
        assert_eq!(hosts, [20003, 20001]);
        let taken = [WantedPort {
            host_port: Some(20002),
            ..any_port(80)
        }];
        assert_eq!(
            assign_ports(&taken, &n, &used),
            Err(Refusal::PortTaken {
                port: 20002,
                node: "w1".into()
            })
        );
    }
}
