//! Validation of single values, shared by the file, the environment and the flags so that a port
//! is refused for the same reason wherever it came from.

use std::net::IpAddr;
use std::path::PathBuf;

/// The three ROUTER sockets use port, port+1 and port+2, so the base port stops at 65533.
pub(crate) fn port(v: i64) -> Result<u16, String> {
    if (1..=65533).contains(&v) {
        Ok(v as u16)
    } else {
        Err(format!(
            "port {v} is out of range (1-65533; the server also uses port+1 and port+2)"
        ))
    }
}

pub(crate) fn timeout_ms(v: i64) -> Result<u64, String> {
    if (100..=3_600_000).contains(&v) {
        Ok(v as u64)
    } else {
        Err(format!("timeout {v} ms is out of range (100-3600000)"))
    }
}

pub(crate) fn ranged(v: i64, min: i64, max: i64, what: &str) -> Result<u64, String> {
    if (min..=max).contains(&v) {
        Ok(v as u64)
    } else {
        Err(format!("{what} {v} is out of range ({min}-{max})"))
    }
}

/// An IPv4/IPv6 address, or `*` for every interface (as the reference binds).
pub(crate) fn bind(v: &str) -> Result<String, String> {
    if v == "*" {
        return Ok("0.0.0.0".into());
    }
    v.parse::<IpAddr>().map(|a| a.to_string()).map_err(|_| {
        format!("bind address '{v}' is not an IP address (use 0.0.0.0, ::, 127.0.0.1 or *)")
    })
}

/// Python logging names (the reference's `-l`) and Rust names, case-insensitive.
pub(crate) fn level(v: &str) -> Result<log::LevelFilter, String> {
    Ok(match v.to_ascii_lowercase().as_str() {
        "off" | "none" => log::LevelFilter::Off,
        "critical" | "fatal" | "error" => log::LevelFilter::Error,
        "warning" | "warn" => log::LevelFilter::Warn,
        "info" => log::LevelFilter::Info,
        "debug" => log::LevelFilter::Debug,
        "trace" => log::LevelFilter::Trace,
        _ => {
            return Err(format!(
                "log level '{v}' is not one of error, warning, info, debug, trace, off"
            ))
        }
    })
}

/// The first replication release that left ZeroMQ for a single-port TCP transport.
pub(crate) const FIRST_SINGLE_PORT_VERSION: (u64, u64, u64) = (0, 9, 12);

/// One entry of `[server] client_versions`: a release number such as `0.9.10`. Releases from
/// 0.9.12 on speak another transport (one TCP port, no ZeroMQ) and are refused here, so an
/// admin learns it from `--check-config` rather than from artists who cannot connect.
pub(crate) fn client_version(v: &str) -> Result<String, String> {
    let well_formed = !v.is_empty()
        && v.len() <= 32
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    if !well_formed {
        return Err(format!(
            "'{v}' is not a replication release number (such as \"0.9.10\")"
        ));
    }
    let mut parts = v.split(['.', '-', '+']).map(|p| p.parse::<u64>().ok());
    let mut next = || parts.next().flatten().unwrap_or(0);
    let release = (next(), next(), next());
    if release >= FIRST_SINGLE_PORT_VERSION {
        return Err(format!(
            "replication {v} does not speak ZeroMQ: 0.9.12 and later use a single-port \
             transport that this server does not serve (0.9.9, 0.9.10 and 0.9.11 are served)"
        ));
    }
    Ok(v.to_owned())
}

/// A duration as an admin writes it: a whole number and a unit, `s`, `m`, `h` or `d`
/// ("90m", "24h", "7d"), or "0" (no history beyond `max_backups`). At most 10 years.
pub(crate) fn duration_ms(v: &str) -> Result<u64, String> {
    let bad = || format!("'{v}' is not a duration like \"30m\", \"24h\" or \"7d\"");
    let t = v.trim();
    if t == "0" {
        return Ok(0);
    }
    let unit_at = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(unit_at);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    match n.checked_mul(ms) {
        Some(total) if total <= 3650 * 86_400_000 => Ok(total),
        _ => Err(format!("'{v}' is longer than 10 years")),
    }
}

/// Parses an integer given as text (environment variables and flags).
pub(crate) fn int(v: &str) -> Result<i64, String> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| format!("'{v}' is not an integer"))
}

/// `[log] target` and `LOG_TARGET`.
pub(crate) fn log_target(v: &str) -> Result<super::LogTarget, String> {
    use super::LogTarget;
    match v {
        "auto" => Ok(LogTarget::Auto),
        "journal" => Ok(LogTarget::Journal),
        "syslog" => Ok(LogTarget::Syslog),
        "stderr" => Ok(LogTarget::Stderr),
        _ => Err(format!(
            "'{v}' is not one of \"auto\", \"journal\", \"syslog\", \"stderr\""
        )),
    }
}

/// A path that must be absolute (the daemon runs in `/`, relative paths would mean nothing).
pub(crate) fn absolute(v: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(v);
    if p.is_absolute() {
        Ok(p)
    } else {
        Err(format!("'{v}' is not an absolute path"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("24h"), Ok(86_400_000));
        assert_eq!(duration_ms("90m"), Ok(5_400_000));
        assert_eq!(duration_ms("7d"), Ok(604_800_000));
        assert_eq!(duration_ms("30s"), Ok(30_000));
        assert_eq!(duration_ms("0"), Ok(0));
        for bad in ["", "h", "24", "24x", "-1h", "1.5h", "99999d"] {
            assert!(duration_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn port_bounds() {
        assert!(port(0).is_err());
        assert_eq!(port(1), Ok(1));
        assert_eq!(port(65533), Ok(65533));
        assert!(port(65534).is_err());
        assert!(port(-5).is_err());
    }

    #[test]
    fn bind_accepts_ips_and_star() {
        assert_eq!(bind("*").as_deref(), Ok("0.0.0.0"));
        assert_eq!(bind("::").as_deref(), Ok("::"));
        assert_eq!(bind("127.0.0.1").as_deref(), Ok("127.0.0.1"));
        assert!(bind("localhost").is_err());
    }

    #[test]
    fn client_versions_of_the_zeromq_generation_only() {
        assert_eq!(client_version("0.9.9").as_deref(), Ok("0.9.9"));
        assert_eq!(client_version("0.9.11").as_deref(), Ok("0.9.11"));
        assert!(client_version("0.9.12").is_err());
        assert!(client_version("0.10.3").is_err());
        assert!(client_version("1.0").is_err());
        assert!(client_version("").is_err());
        assert!(client_version("v0.9.10").is_err());
        assert!(client_version("0.9.10 ").is_err());
    }

    #[test]
    fn python_level_names() {
        assert_eq!(level("WARNING"), Ok(log::LevelFilter::Warn));
        assert_eq!(level("CRITICAL"), Ok(log::LevelFilter::Error));
        assert_eq!(level("Debug"), Ok(log::LevelFilter::Debug));
        assert!(level("loud").is_err());
    }
}
