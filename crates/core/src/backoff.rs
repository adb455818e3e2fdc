//! The one backoff: exponential with jitter, capped, and never shorter than what a peer asked for.
//!
//! The worker loop (queue errors, released messages), the FHIR sink (429 and 5xx) and the
//! Textract calls (throttling) all wait through it, so a delay means the same everywhere.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling after the first failure; it doubles with every further one.
    pub base: Duration,
    /// No delay is longer, a peer's Retry-After included.
    pub max: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, max: Duration) -> Backoff {
        Backoff { base, max }
    }

    /// The ceiling after `failures` failures in a row (1 for the first): `base × 2^(failures-1)`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        self.base.saturating_mul(1u32 << failures.saturating_sub(1).min(20)).min(self.max)
    }

    /// The wait after `failures` failures: "equal jitter" between half the ceiling and the
    /// ceiling (workers that failed together do not come back together, and none comes back at
    /// once), at least `retry_after`, at most `max`.
    pub fn delay(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(failures);
        let half = ceiling / 2;
        let jitter = Duration::from_millis(fastrand::u64(0..=(ceiling - half).as_millis() as u64));
        let d = half + jitter;
        retry_after.map_or(d, |r| r.max(d)).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_jitters_and_caps() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        for failures in 1..12 {
            let ceiling = b.ceiling(failures);
            assert!(ceiling <= Duration::from_secs(5));
            for _ in 0..20 {
                let d = b.delay(failures, None);
                assert!(d >= ceiling / 2 && d <= ceiling, "{failures}: {d:?} outside {ceiling:?}");
            }
        }
        assert_eq!(b.ceiling(1), Duration::from_millis(100));
        assert_eq!(b.ceiling(3), Duration::from_millis(400));
        assert_eq!(b.ceiling(30), Duration::from_secs(5));
    }

    #[test]
    fn honours_the_peer_within_the_cap() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        assert!(b.delay(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert_eq!(b.delay(1, Some(Duration::from_secs(60))), Duration::from_secs(5));
        assert_eq!(Backoff::new(Duration::ZERO, Duration::ZERO).delay(3, None), Duration::ZERO);
    }
}
