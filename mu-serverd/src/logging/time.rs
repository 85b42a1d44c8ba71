//! A UTC timestamp for hand-run stderr logs, without a date-time dependency.

use mu_ctl::civil::civil_from_days;

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for now.
pub(crate) fn utc_now() -> String {
    let ms = crate::wallclock::now_unix_ms();
    format_utc(ms / 1000, (ms % 1000) as u32)
}

pub(crate) fn format_utc(secs: u64, millis: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_utc(0, 0), "1970-01-01T00:00:00.000Z");
        // date -u -d @1700000000 -> 2023-11-14 22:13:20
        assert_eq!(format_utc(1_700_000_000, 5), "2023-11-14T22:13:20.005Z");
        // leap day: date -u -d @1709208000 -> 2024-02-29 12:00:00
        assert_eq!(format_utc(1_709_208_000, 999), "2024-02-29T12:00:00.999Z");
    }
}
