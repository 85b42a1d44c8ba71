//! The moments an admin types for `export --at`, `restore --at` and `history --since`, turned
//! into milliseconds since the Unix epoch here (the daemon only ever sees that number):
//!
//! - `14:02`, `14:02:30`: today, in this machine's local time zone; if that is still in the
//!   future, the same time yesterday (so `23:50` typed at 00:10 means ten minutes ago);
//! - `2026-12-07T14:02:30` (or a space instead of `T`, seconds and `.mmm` optional): local
//!   time; with a trailing `Z`: UTC;
//! - `-10m`, `-90s`, `-2h`, `-1d`: that long before now;
//! - `@1796652150.5`: seconds since the Unix epoch (scripts, tests);
//! - `now`.
//!
//! Local time is the time zone of the machine mu-ctl runs on (`TZ`, else /etc/localtime),
//! which is the daemon's machine: the control socket is local.

use mu_ctl::civil::{civil_from_days, days_from_civil};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Parses `text` relative to `now_ms`.
pub fn parse(text: &str, now_ms: u64) -> Result<u64, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "cannot read the time {text:?}: use 14:02, 14:02:30, 2026-12-07T14:02:30, -10m or \
             @UNIX_SECONDS"
        )
    };
    if t == "now" {
        return Ok(now_ms);
    }
    if let Some(rel) = t.strip_prefix('-') {
        let unit_at = rel.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (n, unit) = rel.split_at(unit_at);
        let n: u64 = n.parse().map_err(|_| bad())?;
        let ms = match unit {
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        return n
            .checked_mul(ms)
            .and_then(|d| now_ms.checked_sub(d))
            .ok_or_else(bad);
    }
    if let Some(secs) = t.strip_prefix('@') {
        let v: f64 = secs.parse().map_err(|_| bad())?;
        if !(0.0..1e12).contains(&v) {
            return Err(bad());
        }
        return Ok((v * 1000.0).round() as u64);
    }
    let (date, clock) = match t.split_once(['T', ' ']) {
        Some((d, c)) => (Some(d), c),
        None => (None, t),
    };
    let (clock, utc) = match clock.strip_suffix('Z') {
        Some(c) => (c, true),
        None => (clock, false),
    };
    let (h, m, s, ms) = parse_clock(clock).ok_or_else(bad)?;
    match date {
        Some(d) => {
            let (y, mo, day) = parse_date(d).ok_or_else(bad)?;
            let at = if utc {
                Some(utc_ms(y, mo, day, h, m, s))
            } else {
                local_ms(y, mo, day, h, m, s)
            };
            at.map(|v| v + ms).ok_or_else(bad)
        }
        None => {
            let (y, mo, day) = if utc {
                civil(now_ms)
            } else {
                local_date(now_ms).ok_or_else(bad)?
            };
            let at = if utc {
                Some(utc_ms(y, mo, day, h, m, s))
            } else {
                local_ms(y, mo, day, h, m, s)
            }
            .ok_or_else(bad)?
                + ms;
            Ok(if at > now_ms {
                at.saturating_sub(86_400_000)
            } else {
                at
            })
        }
    }
}

fn parse_clock(c: &str) -> Option<(u32, u32, u32, u64)> {
    let (c, ms) = match c.split_once('.') {
        Some((c, frac)) if !frac.is_empty() && frac.len() <= 3 => {
            let v: u64 = frac.parse().ok()?;
            (c, v * 10u64.pow(3 - frac.len() as u32))
        }
        Some(_) => return None,
        None => (c, 0),
    };
    let parts: Vec<&str> = c.split(':').collect();
    let num = |s: &str| -> Option<u32> {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (num(h)?, num(m)?, 0),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return None,
    };
    (h < 24 && m < 60 && s < 60).then_some((h, m, s, ms))
}

fn parse_date(d: &str) -> Option<(i64, u32, u32)> {
    let p: Vec<&str> = d.split('-').collect();
    let [y, m, day] = p.as_slice() else {
        return None;
    };
    if y.len() != 4 || m.len() != 2 || day.len() != 2 {
        return None;
    }
    let (y, m, day): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, day.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&day)).then_some((y, m, day))
}

fn civil(ms: u64) -> (i64, u32, u32) {
    civil_from_days((ms / 86_400_000) as i64)
}

fn utc_ms(y: i64, mo: u32, d: u32, h: u32, m: u32, s: u32) -> u64 {
    let days = days_from_civil(y, mo, d);
    ((days * 86_400 + (h * 3600 + m * 60 + s) as i64) * 1000).max(0) as u64
}

/// Local wall-clock time to epoch milliseconds (`mktime`, DST decided by the zone).
fn local_ms(y: i64, mo: u32, d: u32, h: u32, m: u32, s: u32) -> Option<u64> {
    // SAFETY: `tm` is a plain C struct, zero is a valid value for every field; mktime reads
    // and normalizes it and touches nothing else.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = (y - 1900) as i32;
    tm.tm_mon = mo as i32 - 1;
    tm.tm_mday = d as i32;
    tm.tm_hour = h as i32;
    tm.tm_min = m as i32;
    tm.tm_sec = s as i32;
    tm.tm_isdst = -1;
    let t = unsafe { libc::mktime(&mut tm) };
    (t >= 0).then(|| t as u64 * 1000)
}

fn local_tm(ms: u64) -> Option<libc::tm> {
    let t = (ms / 1000) as libc::time_t;
    // SAFETY: localtime_r writes into the zeroed struct we own and reads `t`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    (!r.is_null()).then_some(tm)
}

fn local_date(ms: u64) -> Option<(i64, u32, u32)> {
    let tm = local_tm(ms)?;
    Some((
        tm.tm_year as i64 + 1900,
        tm.tm_mon as u32 + 1,
        tm.tm_mday as u32,
    ))
}

/// `2026-12-07 14:02:30` in local time (for tables).
pub fn local_text(ms: u64) -> String {
    match local_tm(ms) {
        Some(tm) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            tm.tm_year + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec
        ),
        None => format!("@{}", ms / 1000),
    }
}

/// `14:02` in local time (for interval labels).
pub fn local_hm(ms: u64) -> String {
    match local_tm(ms) {
        Some(tm) => format!("{:02}:{:02}", tm.tm_hour, tm.tm_min),
        None => format!("@{}", ms / 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-07T14:02:30Z
    const T: u64 = 1_796_652_150_000;

    #[test]
    fn utc_and_relative_and_unix() {
        assert_eq!(parse("2026-12-07T14:02:30Z", 0), Ok(T));
        assert_eq!(parse("2026-12-07T14:02:30.250Z", 0), Ok(T + 250));
        assert_eq!(parse("2026-12-07 14:02Z", 0), Ok(T - 30_000));
        assert_eq!(parse("-10m", T), Ok(T - 600_000));
        assert_eq!(parse("-2h", T), Ok(T - 7_200_000));
        assert_eq!(parse("-90s", T), Ok(T - 90_000));
        assert_eq!(parse("@1796652150.25", 0), Ok(T + 250));
        assert_eq!(parse("now", T), Ok(T));
        // A bare clock time is today, or yesterday when today's is still to come.
        assert_eq!(parse("14:02:30Z", T + 5_000), Ok(T));
        assert_eq!(parse("14:02:30Z", T - 5_000), Ok(T - 86_400_000));
    }

    #[test]
    fn local_time_follows_tz() {
        // mktime/localtime_r honour TZ; compare with the same moment given in UTC.
        std::env::set_var("TZ", "UTC-2");
        unsafe { tzset() };
        assert_eq!(parse("2026-12-07T16:02:30", 0), Ok(T));
        assert_eq!(local_text(T), "2026-12-07 16:02:30");
        std::env::set_var("TZ", "UTC");
        unsafe { tzset() };
        assert_eq!(parse("2026-12-07T14:02:30", 0), Ok(T));
    }

    extern "C" {
        fn tzset();
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in [
            "",
            "14",
            "25:00",
            "14:60",
            "1:02",
            "-10",
            "-10y",
            "2026-13-01T00:00",
            "@abc",
            "14:02:30.1234",
            "yesterday",
        ] {
            assert!(parse(bad, T).is_err(), "{bad}");
        }
    }
}
