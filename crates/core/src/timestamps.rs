//! RFC 3339 timestamps, to the second, in UTC: the one format paperchart writes (job records,
//! Provenance times, S3 modification times) and reads back.

use std::time::{Duration, SystemTime};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `t` as RFC 3339, to the second.
pub fn rfc3339(t: SystemTime) -> Option<String> {
    let t = OffsetDateTime::from(t).replace_nanosecond(0).ok()?;
    t.format(&Rfc3339).ok()
}

/// Now, as RFC 3339.
pub fn now() -> String {
    rfc3339(SystemTime::now()).unwrap_or_default()
}

/// Time since an RFC 3339 timestamp; `None` when it does not parse or lies in the future.
pub fn age(stamp: &str) -> Option<Duration> {
    let at = OffsetDateTime::parse(stamp, &Rfc3339).ok()?;
    (OffsetDateTime::now_utc() - at).try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_to_the_second() {
        let s = rfc3339(SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)).unwrap();
        assert_eq!(s, "2023-11-14T22:13:20Z");
        assert!(age(&s).unwrap() > Duration::from_secs(3600));
        assert!(age("not a time").is_none());
        assert!(age(&now()).unwrap() < Duration::from_secs(5));
    }
}
