//! Container states as the renter sees them, the named sets every other part uses instead of
//! listing states, the guards for each power action, and the transitions between them.
//!
//! ```text
//!   creating ──created──▶ running ◀──restart──▶ restarting
//!      │                   │ │ │                   │
//!      │ fails: forgotten  │ │ └──stop──▶ stopping ◀┘──▶ stopped ─┐
//!      ▼                   │ └──exits on its own──▶ exited ───────┤
//!    (gone)                └──the balance ran out──▶ suspended ───┤
//!                                                                 │
//!   running, restarting ◀──start / restart / restart policy───────┘ (from those at rest)
//!
//!   any state on a node ──the node is gone──▶ lost ──back──▶ what the node reports
//!   any state but creating, stopping, restarting ──remove──▶ removing ──▶ (gone)
//! ```
//!
//! `failed` is what a row whose state this version cannot read is shown as; nothing moves a
//! container there.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerState {
    Creating,
    Running,
    Stopping,
    Stopped,
    Exited,
    Restarting,
    Suspended,
    Lost,
    Removing,
    Failed,
}

impl ContainerState {
    pub const ALL: [ContainerState; 10] = [
        Self::Creating,
        Self::Running,
        Self::Stopping,
        Self::Stopped,
        Self::Exited,
        Self::Restarting,
        Self::Suspended,
        Self::Lost,
        Self::Removing,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Exited => "exited",
            Self::Restarting => "restarting",
            Self::Suspended => "suspended",
            Self::Lost => "lost",
            Self::Removing => "removing",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Running on its node, so its time is bought ahead and charged; what a balance that ran
    /// out suspends.
    pub const BILLED: [ContainerState; 2] = [Self::Running, Self::Restarting];

    /// Its running time counts: billed, or being stopped (the stop's own seconds are paid
    /// for). The store's triggers open a metered span on entering this set and close it on
    /// leaving, and a store test holds their SQL to this list.
    pub const METERED: [ContainerState; 3] = [Self::Running, Self::Restarting, Self::Stopping];

    /// At rest: it exists on its node (or existed) and nothing runs it; start and restart
    /// begin from here, and a stop of one is already done.
    pub const AT_REST: [ContainerState; 3] = [Self::Stopped, Self::Exited, Self::Suspended];

    /// May have changed on its own since the store last heard (it exited, crashed or was
    /// restarted by Docker): worth asking its node before it is shown.
    pub const MAY_CHANGE_ON_ITS_OWN: [ContainerState; 3] =
        [Self::Running, Self::Restarting, Self::Exited];

    /// Held by a path of its own that settles it (its create or its removal): the meter's
    /// lifetime check, a lost node and the reconciler leave it to that path.
    pub const HELD_BY_ITS_PATH: [ContainerState; 2] = [Self::Creating, Self::Removing];

    pub fn is_billed(self) -> bool {
        Self::BILLED.contains(&self)
    }

    pub fn is_metered(self) -> bool {
        Self::METERED.contains(&self)
    }

    pub fn is_at_rest(self) -> bool {
        Self::AT_REST.contains(&self)
    }

    pub fn may_change_on_its_own(self) -> bool {
        Self::MAY_CHANGE_ON_ITS_OWN.contains(&self)
    }

    pub fn is_held_by_its_path(self) -> bool {
        Self::HELD_BY_ITS_PATH.contains(&self)
    }

    /// Start is allowed from a state at rest, and is success on a running container (it is
    /// already started); not while another action holds it or its node is gone.
    pub fn can_start(self) -> bool {
        matches!(
            self,
            Self::Stopped | Self::Exited | Self::Suspended | Self::Running
        )
    }

    /// Stop is idempotent: stopping a stopped container is success.
    pub fn can_stop(self) -> bool {
        matches!(
            self,
            Self::Running | Self::Restarting | Self::Stopped | Self::Exited | Self::Suspended
        )
    }

    pub fn can_restart(self) -> bool {
        matches!(
            self,
            Self::Running | Self::Stopped | Self::Exited | Self::Suspended
        )
    }

    /// Remove works from everywhere except while another action holds the container.
    pub fn can_remove(self) -> bool {
        !matches!(self, Self::Creating | Self::Stopping | Self::Restarting)
    }
}

impl ContainerState {
    /// Whether the diagram above has an arrow from `self` to `to` (staying put is always
    /// allowed: a report that repeats the state changes nothing).
    pub fn may_become(self, to: ContainerState) -> bool {
        use ContainerState as S;
        if self == to {
            return true;
        }
        if to == S::Lost {
            return self != S::Removing;
        }
        match self {
            S::Creating => to == S::Running || to.is_at_rest(),
            S::Running => matches!(
                to,
                S::Restarting | S::Stopping | S::Exited | S::Suspended | S::Stopped | S::Removing
            ),
            S::Restarting => matches!(to, S::Running | S::Stopping | S::Exited | S::Stopped),
            S::Stopping => matches!(to, S::Stopped | S::Exited | S::Suspended | S::Running),
            S::Stopped | S::Exited | S::Suspended => {
                matches!(to, S::Running | S::Restarting | S::Removing) || to.is_at_rest()
            }
            // Back from a lost node, it is whatever the node reports.
            S::Lost => true,
            S::Removing => false,
            S::Failed => to == S::Removing,
        }
    }
}

/// `states` as a list for SQL's `IN (…)`: `'running', 'restarting'`. Every state list in the
/// store's SQL is made from the sets here, so a set changes in one place.
pub fn sql_list(states: &[ContainerState]) -> String {
    states
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the renter asked for; the reconciler converges the actual state towards it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DesiredState {
    Running,
    Stopped,
    Removed,
}

impl DesiredState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Running, Self::Stopped, Self::Removed]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::ContainerState as S;

    #[test]
    fn every_guard_agrees_with_the_diagram() {
        for st in S::ALL {
            if st.can_start() {
                assert!(st.may_become(S::Running), "{st} starts");
            }
            if st.can_restart() {
                assert!(st.may_become(S::Restarting), "{st} restarts");
            }
            if st.can_remove() {
                assert!(st.may_become(S::Removing), "{st} is removed");
            }
            if st.can_stop() && !st.is_at_rest() {
                assert!(st.may_become(S::Stopping), "{st} stops");
            }
        }
        assert!(
            !S::Removing.may_become(S::Running),
            "nothing comes back from removal"
        );
    }

    #[test]
    fn the_named_sets_nest_as_their_names_say() {
        for st in S::BILLED {
            assert!(st.is_metered(), "billed time is metered: {st}");
            assert!(!st.is_at_rest());
        }
        for st in S::AT_REST {
            assert!(!st.is_metered(), "nothing at rest is metered: {st}");
            assert!(st.can_start() && st.can_restart() && st.can_remove());
        }
        for st in S::HELD_BY_ITS_PATH {
            assert!(!st.can_remove() || st == S::Removing, "{st}");
            assert!(!st.is_billed());
        }
    }

    #[test]
    fn names_round_trip() {
        for st in S::ALL {
            assert_eq!(S::parse(st.as_str()), Some(st));
        }
        assert_eq!(S::parse("zombie"), None);
    }

    #[test]
    fn creating_allows_nothing_but_waiting() {
        assert!(!S::Creating.can_start());
        assert!(!S::Creating.can_stop());
        assert!(!S::Creating.can_restart());
        assert!(!S::Creating.can_remove());
    }

    #[test]
    fn running() {
        assert!(S::Running.can_start());
        assert!(S::Running.can_stop());
        assert!(S::Running.can_restart());
        assert!(S::Running.can_remove());
    }

    #[test]
    fn stopped_and_exited() {
        for st in [S::Stopped, S::Exited] {
            assert!(st.can_start());
            assert!(st.can_stop());
            assert!(st.can_restart());
            assert!(st.can_remove());
        }
    }

    #[test]
    fn suspended_can_be_started_again() {
        assert!(S::Suspended.can_start());
        assert!(S::Suspended.can_remove());
    }

    #[test]
    fn transitional_states_block_other_actions() {
        for st in [S::Stopping, S::Restarting, S::Removing] {
            assert!(!st.can_start(), "{st}");
            assert!(!st.can_restart(), "{st}");
        }
        assert!(!S::Stopping.can_remove());
        assert!(S::Removing.can_remove());
    }

    #[test]
    fn lost_and_failed_can_only_be_removed() {
        for st in [S::Lost, S::Failed] {
            assert!(!st.can_start(), "{st}");
            assert!(!st.can_stop(), "{st}");
            assert!(!st.can_restart(), "{st}");
            assert!(st.can_remove(), "{st}");
        }
    }

    #[test]
    fn the_sets_read_as_the_sql_the_store_had() {
        assert_eq!(super::sql_list(&S::BILLED), "'running', 'restarting'");
        assert_eq!(
            super::sql_list(&S::HELD_BY_ITS_PATH),
            "'creating', 'removing'"
        );
        assert!(S::Restarting.is_billed() && !S::Stopped.is_billed());
        assert!(S::Removing.is_held_by_its_path() && !S::Lost.is_held_by_its_path());
    }
}
