//! What running costs, as pure arithmetic on whole credits and milliseconds.

use std::time::Duration;

/// What an operator charges; the defaults follow the original system.
#[derive(Debug, Clone)]
pub struct Pricing {
    /// Credits a new account starts with (an operator who sells credits sets 0).
    pub signup_credits: i64,
    /// The balance a new run needs before its deposit is taken.
    pub min_balance_to_run: i64,
    /// Taken when a container is created, given back when it is removed.
    pub run_deposit: i64,
    /// Credits per started MiB of a private image a renter pulls.
    pub pull_price_per_mib: i64,
    /// Running time is paid this far in advance, one interval at a time.
    pub metering_interval: Duration,
}

impl Default for Pricing {
    fn default() -> Self {
        Self {
            signup_credits: 1000,
            min_balance_to_run: 300,
            run_deposit: 200,
            pull_price_per_mib: 1,
            metering_interval: Duration::from_secs(60),
        }
    }
}

const HOUR_MS: i128 = 3_600_000;

/// What `run_ms` of running costs at `price_per_hour`, rounded down. Charging the difference
/// of this figure over cumulative running time carries every fraction of a credit forward.
pub fn cost(price_per_hour: i64, run_ms: i64) -> i64 {
    let c = i128::from(price_per_hour) * i128::from(run_ms.max(0)) / HOUR_MS;
    c.min(i128::from(i64::MAX)) as i64
}

/// How long before paid time ends the next interval is bought: a quarter of the interval, at
/// most 15 s, and never less than two meter ticks, so coverage does not lapse between ticks.
pub fn lead(interval: Duration) -> Duration {
    (interval / 4)
        .min(Duration::from_secs(15))
        .max(Duration::from_secs(2))
}

/// The money fields of one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meter {
    pub price_per_hour: i64,
    pub run_ms: i64,
    /// When the current running span began; None while not billable.
    pub run_since: Option<i64>,
    pub paid_ms: i64,
    pub charged: i64,
}

impl Meter {
    /// Running time up to `now`, the open span included.
    pub fn used_ms(&self, now: i64) -> i64 {
        self.run_ms + self.run_since.map_or(0, |s| (now - s).max(0))
    }

    /// When paid time runs out at the current span's pace; None while not billable.
    pub fn paid_until(&self) -> Option<i64> {
        self.run_since.map(|s| s + self.paid_ms - self.run_ms)
    }

    /// Pays one interval beyond what has run by `now`: the new paid time and the credits it
    /// costs (zero when already paid that far).
    pub fn extend(&self, now: i64, interval_ms: i64) -> (i64, i64) {
        let target = self.used_ms(now) + interval_ms;
        if self.paid_ms >= target {
            return (self.paid_ms, 0);
        }
        (target, cost(self.price_per_hour, target) - self.charged)
    }

    /// Settles a container that stopped being billable: what it should have been charged for
    /// the time it ran, and the difference from what it was (negative: a refund).
    pub fn settle(&self) -> (i64, i64) {
        let owed = cost(self.price_per_hour, self.run_ms);
        (owed, owed - self.charged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(price: i64) -> Meter {
        Meter {
            price_per_hour: price,
            run_ms: 0,
            run_since: None,
            paid_ms: 0,
            charged: 0,
        }
    }

    #[test]
    fn fractions_carry_forward() {
        // 100 credits an hour: 30 s is 0.83 credits, 60 s is 1.67; charged on totals, the
        // fraction of the first run is paid by the second, never lost or charged twice.
        assert_eq!(cost(100, 30_000), 0);
        assert_eq!(cost(100, 60_000), 1);
        assert_eq!(cost(3600, 65_000), 65);
        assert_eq!(cost(i64::MAX, i64::MAX), i64::MAX);
    }

    #[test]
    fn a_run_pays_ahead_and_is_refunded_what_it_did_not_use() {
        let mut m = meter(3600);
        let (paid, amount) = m.extend(0, 60_000);
        assert_eq!((paid, amount), (60_000, 60));
        m.paid_ms = paid;
        m.charged += amount;
        m.run_since = Some(1_000);
        // 45 s in, the next minute is bought from the time used so far.
        let (paid, amount) = m.extend(46_000, 60_000);
        assert_eq!((paid, amount), (105_000, 45));
        m.paid_ms = paid;
        m.charged += amount;
        // Stopped at 65 s of running: 40 s come back.
        m.run_ms = 65_000;
        m.run_since = None;
        let (owed, delta) = m.settle();
        assert_eq!((owed, delta), (65, -40));
    }

    #[test]
    fn nothing_is_bought_twice() {
        let m = Meter {
            paid_ms: 120_000,
            charged: 120,
            ..meter(3600)
        };
        assert_eq!(m.extend(0, 60_000), (120_000, 0));
    }

    #[test]
    fn lead_is_bounded() {
        assert_eq!(lead(Duration::from_secs(60)), Duration::from_secs(15));
        assert_eq!(lead(Duration::from_secs(5)), Duration::from_secs(2));
        assert_eq!(lead(Duration::from_secs(600)), Duration::from_secs(15));
    }
}
