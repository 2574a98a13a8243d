//! Placement as a pure function of (request, node snapshot): no I/O, so it is tested without
//! Docker. Feasibility (the node takes containers, has the CPU with overcommit and the memory
//! without, and has every asked-for host port in its range), then ranking (spread or binpack by
//! the share of memory left); the caller's serialised apply step then re-checks ports.

/// How the scheduler ranks the nodes that fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    /// The emptiest node first: fewer renters share a failure.
    Spread,
    /// The fullest node that fits first: whole nodes stay free.
    Binpack,
}

impl std::str::FromStr for Ranking {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "spread" => Ok(Self::Spread),
            "binpack" => Ok(Self::Binpack),
            other => Err(format!("placement '{other}' is not 'spread' or 'binpack'")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NodeSnapshot {
    pub id: String,
    pub name: String,
    /// Cores x 1000 x the overcommit factor.
    pub cpu_capacity_millis: u64,
    pub memory_bytes: u64,
    pub reserved_cpu_millis: u64,
    pub reserved_memory_bytes: u64,
    pub port_range: (u16, u16),
    /// Why this node takes no containers, if it does not.
    pub refuses: Option<String>,
}

impl NodeSnapshot {
    fn free_memory(&self) -> u64 {
        self.memory_bytes.saturating_sub(self.reserved_memory_bytes)
    }

    fn free_cpu(&self) -> u64 {
        self.cpu_capacity_millis
            .saturating_sub(self.reserved_cpu_millis)
    }

    /// Share of memory left, in millionths (integers keep ranking exact and ties stable).
    fn free_share(&self) -> u64 {
        (self.free_memory() as u128 * 1_000_000 / u128::from(self.memory_bytes.max(1))) as u64
    }
}

#[derive(Debug, Clone)]
pub struct PlacementRequest {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    /// Host ports the renter asked for by number.
    pub fixed_host_ports: Vec<u16>,
}

fn mib(b: u64) -> String {
    format!("{} MiB", b / (1024 * 1024))
}

/// Why nothing fits, in a sentence for the renter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unplaceable {
    /// No node has room (or none is ready).
    NoCapacity(String),
    /// A host port the renter asked for is in no node's range.
    PortOutOfRange(String),
}

impl Unplaceable {
    pub fn message(&self) -> &str {
        match self {
            Self::NoCapacity(m) | Self::PortOutOfRange(m) => m,
        }
    }
}

/// The chosen node's id, or why nothing fits.
pub fn place(
    req: &PlacementRequest,
    nodes: &[NodeSnapshot],
    ranking: Ranking,
) -> Result<String, Unplaceable> {
    use Unplaceable::*;
    if nodes.is_empty() {
        return Err(NoCapacity("no node is ready; an operator must start a worker (yun worker) or wait for one to heartbeat".into()));
    }
    let mut refusals = Vec::new();
    let feasible = nodes.iter().filter(|n| {
        if let Some(why) = &n.refuses {
            refusals.push(format!("{}: {why}", n.name));
            return false;
        }
        let ports_ok = req
            .fixed_host_ports
            .iter()
            .all(|p| (n.port_range.0..=n.port_range.1).contains(p));
        ports_ok && n.free_memory() >= req.memory_bytes && n.free_cpu() >= req.cpu_millis
    });
    // Ties go to the name that sorts first, so placement is deterministic.
    let best = match ranking {
        // Compared in place: cloning every node's name for a key was a cost per placement.
        Ranking::Spread => feasible.max_by(|a, b| {
            a.free_share()
                .cmp(&b.free_share())
                .then_with(|| b.name.cmp(&a.name))
        }),
        Ranking::Binpack => feasible.min_by(|a, b| {
            a.free_share()
                .cmp(&b.free_share())
                .then_with(|| a.name.cmp(&b.name))
        }),
    };
    if let Some(best) = best {
        return Ok(best.id.clone());
    }
    if !refusals.is_empty() && refusals.len() == nodes.len() {
        return Err(NoCapacity(format!(
            "every ready node refuses containers ({})",
            refusals.join("; ")
        )));
    }
    let largest = nodes
        .iter()
        .filter(|n| n.refuses.is_none())
        .max_by_key(|n| n.free_memory())
        .expect("at least one node does not refuse");
    if !req.fixed_host_ports.is_empty()
        && !nodes.iter().any(|n| {
            req.fixed_host_ports
                .iter()
                .all(|p| (n.port_range.0..=n.port_range.1).contains(p))
        })
    {
        let ranges: Vec<String> = nodes
            .iter()
            .map(|n| format!("{} {}-{}", n.name, n.port_range.0, n.port_range.1))
            .collect();
        return Err(PortOutOfRange(format!(
            "no ready node has host port(s) {:?} in its range ({}); leave host_port out to get a free one",
            req.fixed_host_ports,
            ranges.join(", ")
        )));
    }
    Err(NoCapacity(format!(
        "no ready node has {} and {} millicores free; largest free memory is {} on node {}",
        mib(req.memory_bytes),
        req.cpu_millis,
        mib(largest.free_memory()),
        largest.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, mem_mib: u64, reserved_mib: u64) -> NodeSnapshot {
        NodeSnapshot {
            id: format!("id-{name}"),
            name: name.into(),
            cpu_capacity_millis: 8000,
            memory_bytes: mem_mib << 20,
            reserved_cpu_millis: 0,
            reserved_memory_bytes: reserved_mib << 20,
            port_range: (20000, 20099),
            refuses: None,
        }
    }

    fn req(mem_mib: u64) -> PlacementRequest {
        PlacementRequest {
            cpu_millis: 100,
            memory_bytes: mem_mib << 20,
            fixed_host_ports: vec![],
        }
    }

    #[test]
    fn picks_the_node_with_most_free_memory() {
        let nodes = [node("w1", 4096, 3000), node("w2", 2048, 0)];
        assert_eq!(place(&req(64), &nodes, Ranking::Spread).unwrap(), "id-w2");
    }

    #[test]
    fn says_why_nothing_fits() {
        let nodes = [node("w1", 2048, 512)];
        let why = place(&req(2048), &nodes, Ranking::Spread)
            .unwrap_err()
            .message()
            .to_string();
        assert!(why.contains("2048 MiB"), "{why}");
        assert!(why.contains("1536 MiB on node w1"), "{why}");
    }

    #[test]
    fn cpu_is_checked_against_overcommitted_capacity() {
        let mut n = node("w1", 4096, 0);
        n.reserved_cpu_millis = 7950;
        assert!(place(&req(64), &[n], Ranking::Spread).is_err());
    }

    #[test]
    fn refusing_nodes_are_skipped_and_named() {
        let mut n = node("w1", 4096, 0);
        n.refuses = Some("cannot enforce swap".into());
        let why = place(&req(64), &[n.clone()], Ranking::Spread)
            .unwrap_err()
            .message()
            .to_string();
        assert!(why.contains("w1: cannot enforce swap"), "{why}");
        assert_eq!(
            place(&req(64), &[n, node("w2", 1024, 0)], Ranking::Spread).unwrap(),
            "id-w2"
        );
    }

    #[test]
    fn fixed_ports_must_be_in_a_nodes_range() {
        let mut r = req(64);
        r.fixed_host_ports = vec![30000];
        let why = place(&r, &[node("w1", 4096, 0)], Ranking::Spread).unwrap_err();
        assert!(
            matches!(&why, Unplaceable::PortOutOfRange(m) if m.contains("30000")),
            "{why:?}"
        );
        r.fixed_host_ports = vec![20050];
        assert!(place(&r, &[node("w1", 4096, 0)], Ranking::Spread).is_ok());
    }

    #[test]
    fn spread_takes_the_emptiest_binpack_the_fullest_that_fits() {
        let nodes = [
            node("w1", 4096, 1024),
            node("w2", 4096, 3072),
            node("w3", 4096, 4064),
        ];
        assert_eq!(place(&req(64), &nodes, Ranking::Spread).unwrap(), "id-w1");
        // w3 has 32 MiB left: too little for 64, so binpack takes w2.
        assert_eq!(place(&req(64), &nodes, Ranking::Binpack).unwrap(), "id-w2");
        // Shares, not bytes: a small empty node beats a big half-full one under spread.
        let mixed = [node("big", 8192, 4096), node("small", 1024, 0)];
        assert_eq!(
            place(&req(64), &mixed, Ranking::Spread).unwrap(),
            "id-small"
        );
    }

    #[test]
    fn no_nodes() {
        assert!(place(&req(64), &[], Ranking::Spread)
            .unwrap_err()
            .message()
            .contains("no node is ready"));
    }
}
