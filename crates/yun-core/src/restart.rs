//! What the platform does when a container exits on its own, as the store keeps it.

/// What the platform does when a container exits on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    No,
    /// Restart after a non-zero exit, with exponential backoff, at most this many times.
    OnFailure {
        max_retries: u32,
    },
}

impl RestartPolicy {
    /// The policy the store keeps as its name and its retries.
    pub fn from_stored(name: &str, max: i64) -> Self {
        match name {
            "on-failure" => Self::OnFailure {
                max_retries: max.max(0) as u32,
            },
            _ => Self::No,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::OnFailure { .. } => "on-failure",
        }
    }

    pub fn max_retries(self) -> u32 {
        match self {
            Self::No => 0,
            Self::OnFailure { max_retries } => max_retries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RestartPolicy;

    #[test]
    fn a_policy_keeps_its_name_and_retries() {
        let p = RestartPolicy::OnFailure { max_retries: 3 };
        assert_eq!(RestartPolicy::from_stored(p.name(), 3), p);
        assert_eq!(RestartPolicy::from_stored("no", 9), RestartPolicy::No);
        assert_eq!(
            RestartPolicy::from_stored("on-failure", -1).max_retries(),
            0
        );
    }
}
