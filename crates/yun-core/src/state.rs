//! Container states as the renter sees them, with guards for each power action.

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

    /// Running on its node, so its time is bought ahead and charged.
    pub const BILLED: [ContainerState; 2] = [Self::Running, Self::Restarting];

    /// Held by a path of its own that settles it (its create or its removal): the meter's
    /// lifetime check, a lost node and the reconciler leave it to that path.
    pub const HELD_BY_ITS_PATH: [ContainerState; 2] = [Self::Creating, Self::Removing];

    pub fn is_billed(self) -> bool {
        Self::BILLED.contains(&self)
    }

    pub fn is_held_by_its_path(self) -> bool {
        Self::HELD_BY_ITS_PATH.contains(&self)
    }

    /// Start is allowed from any state where the container exists and is not running.
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
